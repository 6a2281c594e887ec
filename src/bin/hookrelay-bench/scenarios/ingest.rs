//! Scenarios 14 and 15: a provider's webhooks received at a source's ingest URL (SPEC
//! "Inbound sources") — signed GitHub pushes at scenario 3's steady rate and as fast as
//! scenario 1's publishers send, each delivered to a webhook on the receiver, and a storm
//! of redeliveries in which each request must be published once.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{cpu_ms_per, drive, ms, register_secret, share, sorted_ms, start_service, wait_delivered, Load, Row};
use crate::harness::{postgres_cpu_ticks, total_cpu_ticks, Api, Hookrelay};
use crate::receiver::{Answer, Receiver};
use crate::Args;

/// The names of the rows `compare` reads.
pub(super) const INGEST_STEADY: &str = "14 ingest 200/s";
pub(super) const INGEST_THROUGHPUT: &str = "14 ingest throughput";
const PUBLISH_THROUGHPUT: &str = "1 throughput";

/// A GitHub source of the benchmark's tenant: where to send, and what to sign with.
#[derive(Clone)]
struct GitHub {
    url: Arc<str>,
    secret: Arc<str>,
    http: reqwest::Client,
}

/// One answer of `/in/{token}`: its `status` (`accepted`, `duplicate`), the inbound request
/// id it names, and how long it took.
struct Answered {
    status: String,
    id: String,
    took: Duration,
}

impl GitHub {
    /// Creates the source (`POST /api/v1/sources`, provider `github`).
    async fn create(api: &Api) -> anyhow::Result<GitHub> {
        let secret = format!("bench-{}", uuid::Uuid::new_v4().simple());
        let body = json!({"name": "bench github", "provider": "github", "config": {"secret": secret}});
        let (status, source) = api.post("/api/v1/sources", body).await?;
        anyhow::ensure!(status == 201, "creating a source: {status} {source}");
        let url = source["ingestUrl"].as_str().unwrap_or_default();
        anyhow::ensure!(url.contains("/in/"), "the source has no ingestUrl: {source}");
        Ok(GitHub { url: url.into(), secret: secret.into(), http: api.http.clone() })
    }

    /// A small push body (no `action`, so the event is `github.push`) carrying its send
    /// time in ns and its sequence number, which the receiver reads back at the top level.
    fn body(seq: u64) -> String {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        json!({"ref": "refs/heads/main", "before": "0".repeat(40), "after": format!("{seq:040x}"),
            "repository": {"id": 1, "full_name": "bench/hookrelay"}, "pusher": {"name": "bench"},
            "t": t as u64, "seq": seq})
        .to_string()
    }

    /// POSTs `body` as GitHub would: signed, with the push event and `delivery` as its
    /// `X-GitHub-Delivery`; a 200's status and id.
    async fn send(&self, delivery: &str, body: String) -> anyhow::Result<Answered> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes())?;
        mac.update(body.as_bytes());
        let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        let started = Instant::now();
        let res = self
            .http
            .post(&*self.url)
            .header("Content-Type", "application/json")
            .header("User-Agent", "GitHub-Hookshot/bench")
            .header("X-GitHub-Event", "push")
            .header("X-GitHub-Delivery", delivery)
            .header("X-Hub-Signature-256", signature)
            .body(body)
            .send()
            .await?;
        let status = res.status().as_u16();
        let answer: Value = res.json().await?;
        let took = started.elapsed();
        anyhow::ensure!(status == 200, "ingest answered {status} {answer}");
        let field = |k: &str| answer[k].as_str().unwrap_or_default().to_owned();
        Ok(Answered { status: field("status"), id: field("id"), took })
    }

    /// Sends push `seq` under a delivery id of its own: it must be accepted.
    async fn push(&self, seq: u64) -> anyhow::Result<Duration> {
        let answered = self.send(&uuid::Uuid::new_v4().to_string(), GitHub::body(seq)).await?;
        anyhow::ensure!(answered.status == "accepted", "a new delivery was answered {:?}", answered.status);
        Ok(answered.took)
    }
}

/// The service, tenant, source and receiver of one scenario: a webhook subscribed to
/// `github.*` on the receiver's endpoint 0.
struct Stage {
    hookrelay: Hookrelay,
    extra: Vec<Hookrelay>,
    api: Api,
    receiver: Receiver,
    github: GitHub,
}

impl Stage {
    async fn start(args: &Args, slug: &str) -> anyhow::Result<Stage> {
        let (_db, hookrelay, extra) = start_service(args, slug, &[]).await?;
        let api = Api::sign_up(&hookrelay.base).await?;
        let receiver = Receiver::start()?;
        let github = GitHub::create(&api).await?;
        let w = api
            .webhook(json!({"name": "bench github", "url": receiver.url(0), "events": ["github.*"],
                "rateLimitPerMinute": null, "maxConcurrency": 100}))
            .await?;
        register_secret(&receiver, 0, &w);
        Ok(Stage { hookrelay, extra, api, receiver, github })
    }

    /// CPU ticks so far: hookrelay's processes, every `postgres` process, the machine.
    fn ticks(&self) -> Ticks {
        let own = self.hookrelay.cpu_ticks() + self.extra.iter().map(Hookrelay::cpu_ticks).sum::<u64>();
        Ticks { own, pg: postgres_cpu_ticks(), total: total_cpu_ticks() }
    }

    fn peak_rss_mib(&self) -> f64 {
        self.hookrelay.peak_rss_mib() + self.extra.iter().map(Hookrelay::peak_rss_mib).sum::<f64>()
    }

    /// What the receiver tallied: end-to-end latencies (ms), bad signatures, and
    /// duplicate deliveries (successful answers beyond the first per event).
    fn tally(&self) -> (Vec<f64>, u64, u64) {
        let Ok(t) = self.receiver.tally.lock() else { return Default::default() };
        let duplicates = t
            .seen
            .values()
            .map(|a| (a.iter().filter(|(_, a)| *a == Answer::Ok).count() as u64).saturating_sub(1))
            .sum();
        (sorted_ms(t.latencies_us.clone()), t.bad_signatures, duplicates)
    }

    fn stop(self) {
        super::stop_service(self.hookrelay, self.extra);
    }
}

#[derive(Clone, Copy)]
struct Ticks {
    own: u64,
    pg: u64,
    total: u64,
}

/// Fills the columns shared by both scenarios from the CPU used between `t0` and `t1`
/// (per `items`, split in the notes), the receiver's tally and the answers' latencies.
fn measured(stage: &Stage, t0: Ticks, t1: Ticks, items: u64, answers: &[f64]) -> Row {
    let (own, pg) = (t1.own - t0.own, t1.pg.saturating_sub(t0.pg));
    let (e2e, bad_signatures, duplicates) = stage.tally();
    Row {
        delivered: stage.receiver.unique.load(Ordering::Relaxed),
        duplicates,
        bad_signatures,
        publish_p50_ms: ms(answers, 0.50),
        publish_p99_ms: ms(answers, 0.99),
        e2e_p50_ms: ms(&e2e, 0.50),
        e2e_p95_ms: ms(&e2e, 0.95),
        e2e_p99_ms: ms(&e2e, 0.99),
        peak_rss_mib: stage.peak_rss_mib(),
        postgres_cpu_share: share(pg, t1.total - t0.total),
        cpu_ms_per_delivery: cpu_ms_per(own + pg, items),
        notes: format!("hookrelay {:.2} + PostgreSQL {:.2} ms", cpu_ms_per(own, items), cpu_ms_per(pg, items)),
        ..Row::default()
    }
}

/// Scenario 14: `events` signed GitHub pushes, each with a delivery id of its own, sent to
/// the source with `load`, until the receiver has every delivery. Ingest answers (time to
/// the 200) are in the publish columns; CPU is per request.
pub(super) async fn ingest(args: &Args, name: &'static str, events: u64, load: Load) -> anyhow::Result<Row> {
    let slug: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
    let stage = Stage::start(args, &slug).await?;
    let t0 = stage.ticks();
    let started = Instant::now();
    let github = stage.github.clone();
    let (answers, took) = drive(events, &load, move |seq| {
        let github = github.clone();
        async move { github.push(seq).await }
    })
    .await;
    let limit = Duration::from_secs(120 + events / 200);
    let complete = wait_delivered(&stage.receiver, events, limit).await;
    let seconds = started.elapsed().as_secs_f64();
    // let stragglers (duplicates) arrive before counting
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t1 = stage.ticks();
    let mut row = measured(&stage, t0, t1, answers.len() as u64, &answers);
    stage.stop();
    row.notes = format!("ingest answers in the publish columns; CPU per request: {}", row.notes);
    if !complete {
        row.notes.push_str(&format!("; INCOMPLETE: {} of {events} delivered in {limit:?}", row.delivered));
    }
    Ok(Row {
        scenario: name.into(),
        events,
        expected_deliveries: events,
        seconds,
        deliveries_per_s: row.delivered as f64 / seconds,
        publish_per_s: answers.len() as f64 / took.as_secs_f64(),
        ..row
    })
}

/// What the storm's answers said.
#[derive(Default)]
struct Storm {
    latencies: Vec<f64>,
    accepted: u64,
    duplicate: u64,
    failed: u64,
    /// rounds whose answers did not all name the same inbound request
    split_rounds: u64,
    /// rounds not answered `accepted` exactly once
    wrong_rounds: u64,
}

/// Scenario 15: `rounds` GitHub pushes, each sent `copies` times at the same instant
/// (the same bytes, signature and `X-GitHub-Delivery`). Each must be published once: the
/// events are counted through `GET /api/v1/events?event=github.push` and at the receiver.
pub(super) async fn dupstorm(args: &Args, rounds: u64, copies: usize) -> anyhow::Result<Row> {
    let stage = Stage::start(args, "dupstorm").await?;
    let t0 = stage.ticks();
    let started = Instant::now();
    let mut storm = Storm::default();
    for seq in 0..rounds {
        storm_round(&stage.github, seq, copies, &mut storm).await;
    }
    let took = started.elapsed();
    let complete = wait_delivered(&stage.receiver, rounds, Duration::from_secs(60)).await;
    let seconds = started.elapsed().as_secs_f64();
    // a second published copy would be delivered about as fast as the first: wait for it
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let t1 = stage.ticks();
    storm.latencies.sort_by(f64::total_cmp);
    let sent = storm.latencies.len() as u64 + storm.failed;
    let mut row = measured(&stage, t0, t1, sent, &storm.latencies);
    let listed = count_events(&stage.api, "github.push").await?;
    stage.stop();
    row.notes = format!(
        "{sent} requests: {} accepted, {} duplicate, {} failed; {listed} github.push events listed \
         (the events column); rounds not accepted exactly once: {}; rounds whose answers name \
         different requests: {}; answers in the publish columns; CPU per request: {}{}",
        storm.accepted,
        storm.duplicate,
        storm.failed,
        storm.wrong_rounds,
        storm.split_rounds,
        row.notes,
        if complete { "" } else { "; INCOMPLETE" }
    );
    Ok(Row {
        scenario: format!("15 duplicate storm {copies}x{rounds}"),
        events: listed,
        expected_deliveries: rounds,
        seconds,
        deliveries_per_s: row.delivered as f64 / seconds,
        publish_per_s: sent as f64 / took.as_secs_f64(),
        ..row
    })
}

/// Sends push `seq` `copies` times at once, all released by one barrier, and tallies the
/// answers into `storm`.
async fn storm_round(github: &GitHub, seq: u64, copies: usize, storm: &mut Storm) {
    let delivery = uuid::Uuid::new_v4().to_string();
    let body = GitHub::body(seq);
    let barrier = Arc::new(tokio::sync::Barrier::new(copies));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..copies {
        let (github, delivery, body, barrier) = (github.clone(), delivery.clone(), body.clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            github.send(&delivery, body).await
        });
    }
    let (mut ids, mut accepted) = (HashMap::<String, u64>::new(), 0);
    while let Some(joined) = tasks.join_next().await {
        match joined.map_err(anyhow::Error::from).and_then(|r| r) {
            Ok(a) => {
                storm.latencies.push(a.took.as_secs_f64() * 1000.0);
                match a.status.as_str() {
                    "accepted" => accepted += 1,
                    "duplicate" => storm.duplicate += 1,
                    other => eprintln!("ingest answered status {other:?}"),
                }
                *ids.entry(a.id).or_default() += 1;
            }
            Err(e) => {
                eprintln!("storm request failed: {e:#}");
                storm.failed += 1;
            }
        }
    }
    storm.accepted += accepted;
    storm.wrong_rounds += u64::from(accepted != 1);
    storm.split_rounds += u64::from(ids.len() > 1);
}

/// How many events named `event` the tenant has: every page of `GET /api/v1/events`.
async fn count_events(api: &Api, event: &str) -> anyhow::Result<u64> {
    let (mut count, mut cursor) = (0u64, None::<String>);
    loop {
        let mut path = format!("/api/v1/events?event={event}&limit=200");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = api.get_json(&path).await?;
        anyhow::ensure!(status == 200, "listing events: {status} {page}");
        count += page["data"].as_array().map_or(0, |d| d.len() as u64);
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok(count),
        }
    }
}

/// Once every scenario has run: the ingest throughput row's notes compare it with
/// scenario 1's, the publish API's, when both ran.
pub(super) fn compare(rows: &mut [Row]) {
    let Some(publish) = rows.iter().find(|r| r.scenario == PUBLISH_THROUGHPUT).cloned() else { return };
    let pct = |a: f64, b: f64| if b > 0.0 { a / b * 100.0 } else { f64::NAN };
    for row in rows.iter_mut().filter(|r| r.scenario == INGEST_THROUGHPUT) {
        row.notes.push_str(&format!(
            "; {:.0}% of scenario 1's deliveries/s ({:.0}), answers/s {:.0}% of its publishes/s ({:.0})",
            pct(row.deliveries_per_s, publish.deliveries_per_s),
            publish.deliveries_per_s,
            pct(row.publish_per_s, publish.publish_per_s),
            publish.publish_per_s
        ));
    }
}
