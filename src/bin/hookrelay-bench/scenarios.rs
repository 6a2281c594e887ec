//! The scenarios of issue 5 and the result table.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use crate::harness::{
    fresh_database, postgres_cpu_ticks, quantile, sql, total_cpu_ticks, Api, Hookrelay, RssSampler, TICKS_PER_SECOND,
};
use crate::receiver::{Answer, Faults, Receiver};
use crate::Args;

#[derive(Debug, Default, Serialize, Clone)]
pub struct Row {
    pub scenario: String,
    pub events: u64,
    pub expected_deliveries: u64,
    pub delivered: u64,
    pub duplicates: u64,
    pub bad_signatures: u64,
    pub seconds: f64,
    pub deliveries_per_s: f64,
    pub publish_per_s: f64,
    pub publish_p50_ms: f64,
    pub publish_p99_ms: f64,
    pub e2e_p50_ms: f64,
    pub e2e_p95_ms: f64,
    pub e2e_p99_ms: f64,
    pub peak_rss_mib: f64,
    pub postgres_cpu_share: f64,
    /// CPU time of hookrelay's processes and of PostgreSQL (every `postgres` process on the
    /// machine) while the scenario ran, per delivery; 0 where not measured.
    pub cpu_ms_per_delivery: f64,
    pub notes: String,
}

enum Load {
    /// `clients` publishers, each sending its next event when the previous one is answered.
    Closed { clients: usize },
    /// A fixed rate, whatever the answers.
    Open { per_second: u64 },
}

struct Setup {
    name: &'static str,
    webhooks: usize,
    events: u64,
    load: Load,
    faults: Faults,
    env: Vec<(&'static str, String)>,
    retry_schedule: serde_json::Value,
}

impl Setup {
    /// A scenario without faults, on the default schedule.
    fn plain(name: &'static str, webhooks: usize, events: u64, load: Load) -> Setup {
        Setup {
            name,
            webhooks,
            events,
            load,
            faults: Faults::default(),
            env: vec![],
            retry_schedule: serde_json::Value::Null,
        }
    }
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let all = [
        "throughput",
        "fanout",
        "latency",
        "publish",
        "floor",
        "faults",
        "backlog",
        "scale",
        "neighbour",
        "flood",
        "parked",
        "delete",
        "streams",
        "recover",
        "saturated",
    ];
    let wanted: Vec<&str> = if args.scenarios.iter().any(|s| s == "all") {
        all.to_vec()
    } else {
        args.scenarios.iter().map(String::as_str).collect()
    };
    let mut rows = Vec::new();
    for name in wanted {
        let scaled = |n: f64| ((n * args.scale).round() as u64).max(10);
        eprintln!("== scenario {name}");
        let row = match name {
            "throughput" => {
                deliver(&args, Setup::plain("1 throughput", 1, scaled(50_000.0), Load::Closed { clients: 32 })).await?
            }
            "fanout" => {
                deliver(&args, Setup::plain("2 fan-out x10", 10, scaled(10_000.0), Load::Closed { clients: 32 }))
                    .await?
            }
            "latency" => {
                let seconds = (60.0 * args.scale).max(5.0);
                let events = (200.0 * seconds) as u64;
                deliver(&args, Setup::plain("3 steady 200/s", 1, events, Load::Open { per_second: 200 })).await?
            }
            "publish" => {
                // scenario 3 without its webhook: what the publish path alone costs
                let seconds = (60.0 * args.scale).max(5.0);
                let events = (200.0 * seconds) as u64;
                deliver(&args, Setup::plain("3b publish only 200/s", 0, events, Load::Open { per_second: 200 })).await?
            }
            "floor" => {
                let seconds = (60.0 * args.scale).max(5.0);
                let api = floor_api(&args, seconds).await?;
                print_row(&api);
                rows.push(api);
                floor_commit(&args, seconds).await?
            }
            "faults" => {
                deliver(
                    &args,
                    Setup {
                        faults: Faults { error_rate: 0.20, timeout_rate: 0.05, hang: Duration::from_millis(1500) },
                        env: vec![("HOOKRELAY_ATTEMPT_TIMEOUT", "1s".into()), ("HOOKRELAY_LEASE", "10s".into())],
                        retry_schedule: json!([1, 2, 3, 3, 3, 3, 3, 3]),
                        ..Setup::plain("4 faults 20%/5%", 1, scaled(5_000.0), Load::Closed { clients: 8 })
                    },
                )
                .await?
            }
            "backlog" => backlog(&args, scaled(100_000.0)).await?,
            "scale" => scale(&args, scaled(2_000.0), scaled(5_000_000.0)).await?,
            "neighbour" => neighbour(&args, (60.0 * args.scale).max(10.0)).await?,
            "flood" => flood(&args, (60.0 * args.scale).max(10.0)).await?,
            "parked" => unclaimable(&args, (60.0 * args.scale).max(10.0), scaled(500_000.0), Harm::Inactive).await?,
            "delete" => unclaimable(&args, (60.0 * args.scale).max(10.0), scaled(500_000.0), Harm::Delete).await?,
            "streams" => streams(&args, (60.0 * args.scale).max(10.0)).await?,
            "recover" => recover(&args, (60.0 * args.scale).max(10.0), scaled(1_000_000.0)).await?,
            "saturated" => {
                unclaimable(&args, (60.0 * args.scale).max(10.0), scaled(500_000.0), Harm::Saturated).await?
            }
            other => anyhow::bail!("unknown scenario {other:?}; use {}", all.join(", ")),
        };
        print_row(&row);
        rows.push(row);
    }
    print_table(&rows);
    if let Some(dir) = std::path::Path::new(&args.out).parent() {
        std::fs::create_dir_all(dir)?;
    }
    let machine =
        format!("{} cores, {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), cpu_model());
    std::fs::write(
        &args.out,
        serde_json::to_string_pretty(&json!({"machine": machine, "scale": args.scale, "results": rows}))?,
    )?;
    eprintln!("results written to {}", args.out);
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn ms(d: &[f64], q: f64) -> f64 {
    (quantile(d, q) * 1000.0).round() / 1000.0
}

/// Publishes with `load` until `events` are accepted; returns sorted latencies (ms) and
/// the time publishing took.
async fn publish_all(api: &Api, event: &str, events: u64, load: &Load) -> (Vec<f64>, Duration) {
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    match load {
        Load::Closed { clients } => {
            for _ in 0..*clients {
                let (api, next, event) = (api.clone(), next.clone(), event.to_owned());
                tasks.spawn(async move {
                    let mut lat = Vec::new();
                    loop {
                        let seq = next.fetch_add(1, Ordering::Relaxed);
                        if seq >= events {
                            return lat;
                        }
                        match api.publish(&event, seq).await {
                            Ok(d) => lat.push(d.as_secs_f64() * 1000.0),
                            Err(e) => eprintln!("publish failed: {e:#}"),
                        }
                    }
                });
            }
        }
        Load::Open { per_second } => {
            let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / per_second));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            for seq in 0..events {
                tick.tick().await;
                let (api, event) = (api.clone(), event.to_owned());
                tasks.spawn(async move {
                    match api.publish(&event, seq).await {
                        Ok(d) => vec![d.as_secs_f64() * 1000.0],
                        Err(e) => {
                            eprintln!("publish failed: {e:#}");
                            vec![]
                        }
                    }
                });
            }
        }
    }
    let mut all = Vec::new();
    while let Some(Ok(lat)) = tasks.join_next().await {
        all.extend(lat);
    }
    let took = started.elapsed();
    all.sort_by(f64::total_cmp);
    (all, took)
}

async fn wait_delivered(receiver: &Receiver, expected: u64, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while receiver.unique.load(Ordering::Relaxed) < expected {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

async fn start_service(
    args: &Args,
    name: &str,
    env: &[(&str, String)],
) -> anyhow::Result<(String, Hookrelay, Vec<Hookrelay>)> {
    let db = fresh_database(&args.database_url, &format!("hookrelay_bench_{name}")).await?;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let main = Hookrelay::start(&args.hookrelay, &db, "all", &env)?;
    main.wait_ready().await?;
    let mut extra = Vec::new();
    for _ in 0..args.extra_dispatchers {
        let d = Hookrelay::start(&args.hookrelay, &db, "dispatcher", &env)?;
        d.wait_ready().await?;
        extra.push(d);
    }
    Ok((db, main, extra))
}

async fn deliver(args: &Args, s: Setup) -> anyhow::Result<Row> {
    let slug: String = s.name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
    let (_db, hookrelay, extra) = start_service(args, &slug, &s.env).await?;
    let api = Api::sign_up(&hookrelay.base).await?;
    let receiver = Receiver::start()?;
    if let Ok(mut f) = receiver.faults.lock() {
        *f = s.faults;
    }
    for i in 0..s.webhooks {
        let w = api
            .webhook(json!({"name": format!("bench {i}"), "url": receiver.url(i), "events": ["bench.*"],
                "rateLimitPerMinute": null, "maxConcurrency": 100, "retrySchedule": s.retry_schedule}))
            .await?;
        if let Ok(mut secrets) = receiver.secrets.lock() {
            secrets.insert(i, w["secret"].as_str().unwrap_or_default().to_owned());
        }
    }
    let expected = s.events * s.webhooks as u64;
    let hookrelay_ticks = || hookrelay.cpu_ticks() + extra.iter().map(Hookrelay::cpu_ticks).sum::<u64>();
    let (pg0, cpu0, own0) = (postgres_cpu_ticks(), total_cpu_ticks(), hookrelay_ticks());
    let started = Instant::now();
    let (publish, publish_took) = publish_all(&api, "bench.event", s.events, &s.load).await;
    let limit = Duration::from_secs(120 + expected / 200);
    let complete = wait_delivered(&receiver, expected, limit).await;
    let seconds = started.elapsed().as_secs_f64();
    // let stragglers (duplicates, late retries) arrive before counting
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (pg1, cpu1, own1) = (postgres_cpu_ticks(), total_cpu_ticks(), hookrelay_ticks());
    let peak = hookrelay.peak_rss_mib() + extra.iter().map(Hookrelay::peak_rss_mib).sum::<f64>();
    let tally =
        receiver.tally.lock().map(|t| (t.latencies_us.clone(), t.bad_signatures, summarize_attempts(&t.seen, &s)));
    let (mut e2e, bad_signatures, (duplicates, notes)) = tally.unwrap_or_default();
    e2e.sort_unstable();
    let e2e: Vec<f64> = e2e.iter().map(|us| *us as f64 / 1000.0).collect();
    hookrelay.stop();
    for d in extra {
        d.stop();
    }
    let delivered = receiver.unique.load(Ordering::Relaxed);
    let mut notes = notes;
    // without webhooks nothing is delivered: the CPU column is then per publish
    let cpu_items = if s.webhooks == 0 {
        notes.push_str(" no webhooks: CPU ms per publish;");
        publish.len() as u64
    } else {
        delivered
    };
    let (own, pg) = (cpu_ms_per(own1 - own0, cpu_items), cpu_ms_per(pg1.saturating_sub(pg0), cpu_items));
    notes.push_str(&format!(" hookrelay {own:.2} + PostgreSQL {pg:.2} ms"));
    if !complete {
        notes.push_str(&format!(" INCOMPLETE: {delivered} of {expected} delivered in {limit:?}"));
    }
    Ok(Row {
        scenario: s.name.into(),
        events: s.events,
        expected_deliveries: expected,
        delivered,
        duplicates,
        bad_signatures,
        seconds,
        deliveries_per_s: delivered as f64 / seconds,
        publish_per_s: publish.len() as f64 / publish_took.as_secs_f64(),
        publish_p50_ms: ms(&publish, 0.50),
        publish_p99_ms: ms(&publish, 0.99),
        e2e_p50_ms: ms(&e2e, 0.50),
        e2e_p95_ms: ms(&e2e, 0.95),
        e2e_p99_ms: ms(&e2e, 0.99),
        peak_rss_mib: peak,
        postgres_cpu_share: share(pg1.saturating_sub(pg0), cpu1 - cpu0),
        cpu_ms_per_delivery: cpu_ms_per(pg1.saturating_sub(pg0) + own1 - own0, cpu_items),
        notes: notes.trim().to_owned(),
    })
}

/// CPU milliseconds per item, to 0.01 ms.
fn cpu_ms_per(ticks: u64, items: u64) -> f64 {
    if items == 0 {
        return 0.0;
    }
    (ticks as f64 / TICKS_PER_SECOND * 1000.0 / items as f64 * 100.0).round() / 100.0
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 1000.0).round() / 1000.0
    }
}

/// Duplicates (successful answers beyond the first per event and webhook) and, for
/// failing scenarios, how far each retry was from its schedule.
fn summarize_attempts(
    seen: &std::collections::HashMap<(String, usize), Vec<(Instant, Answer)>>,
    s: &Setup,
) -> (u64, String) {
    let mut duplicates = 0u64;
    let mut deviations = Vec::new();
    let schedule: Vec<f64> = s
        .retry_schedule
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
        .unwrap_or_else(|| vec![4.0, 8.0, 10.0]);
    let timeout = s
        .env
        .iter()
        .find(|(k, _)| *k == "HOOKRELAY_ATTEMPT_TIMEOUT")
        .and_then(|(_, v)| hookrelay::config::parse_duration("", v).ok());
    let mut retries = 0;
    for attempts in seen.values() {
        let oks = attempts.iter().filter(|(_, a)| *a == Answer::Ok).count() as u64;
        duplicates += oks.saturating_sub(1);
        let mut sorted = attempts.clone();
        sorted.sort_by_key(|(t, _)| *t);
        for (k, pair) in sorted.windows(2).enumerate() {
            let (prev_at, prev) = pair[0];
            // the attempt ended when the receiver answered, or at the timeout for a hang
            let ended = match (prev, timeout) {
                (Answer::Hang, Some(t)) => prev_at + t,
                _ => prev_at,
            };
            let Some(delay) = schedule.get(k) else { continue };
            let dev = pair[1].0.duration_since(ended).as_secs_f64() - delay;
            deviations.push(dev.abs());
            retries += 1;
        }
    }
    if deviations.is_empty() {
        return (duplicates, String::new());
    }
    deviations.sort_by(f64::total_cmp);
    let note = format!(
        "{retries} retries; deviation from schedule p50 {:.3}s p99 {:.3}s max {:.3}s",
        quantile(&deviations, 0.5),
        quantile(&deviations, 0.99),
        deviations.last().copied().unwrap_or(0.0)
    );
    (duplicates, note)
}

/// Scenario 5: a backlog built while no dispatcher runs, then drained.
async fn backlog(args: &Args, events: u64) -> anyhow::Result<Row> {
    let db = fresh_database(&args.database_url, "hookrelay_bench_backlog").await?;
    let api_process = Hookrelay::start(&args.hookrelay, &db, "api", &[])?;
    api_process.wait_ready().await?;
    let api = Api::sign_up(&api_process.base).await?;
    let receiver = Receiver::start()?;
    let fanout = 10;
    for i in 0..fanout {
        let w = api
            .webhook(json!({"name": format!("backlog {i}"), "url": receiver.url(i), "events": ["bench.*"],
                "rateLimitPerMinute": null, "maxConcurrency": 100}))
            .await?;
        if let Ok(mut secrets) = receiver.secrets.lock() {
            secrets.insert(i, w["secret"].as_str().unwrap_or_default().to_owned());
        }
    }
    let sampler = RssSampler::start(vec![api_process.child.id()]);
    let (publish, publish_took) = publish_all(&api, "bench.event", events, &Load::Closed { clients: 32 }).await;
    let expected = events * fanout as u64;
    let pending: i64 =
        sql(&db).await?.query_one("SELECT count(*) FROM deliveries WHERE status = 'pending'", &[]).await?.get(0);
    eprintln!("backlog of {pending} pending deliveries built in {publish_took:?}; starting the dispatcher");
    let (pg0, cpu0) = (postgres_cpu_ticks(), total_cpu_ticks());
    let started = Instant::now();
    let dispatcher = Hookrelay::start(&args.hookrelay, &db, "dispatcher", &[])?;
    let drain_sampler = RssSampler::start(vec![dispatcher.child.id()]);
    dispatcher.wait_ready().await?;
    let complete = wait_delivered(&receiver, expected, Duration::from_secs(120 + expected / 200)).await;
    let seconds = started.elapsed().as_secs_f64();
    let (pg1, cpu1) = (postgres_cpu_ticks(), total_cpu_ticks());
    let api_peak = sampler.finish();
    let dispatcher_peak = drain_sampler.finish().max(dispatcher.peak_rss_mib());
    let delivered = receiver.unique.load(Ordering::Relaxed);
    let duplicates = receiver
        .tally
        .lock()
        .map(|t| {
            let setup = Setup::plain("backlog", fanout, events, Load::Closed { clients: 32 });
            summarize_attempts(&t.seen, &setup).0
        })
        .unwrap_or(0);
    dispatcher.stop();
    api_process.stop();
    Ok(Row {
        scenario: "5 backlog drain".into(),
        events,
        expected_deliveries: expected,
        delivered,
        duplicates,
        seconds,
        deliveries_per_s: delivered as f64 / seconds,
        publish_per_s: publish.len() as f64 / publish_took.as_secs_f64(),
        publish_p50_ms: ms(&publish, 0.5),
        publish_p99_ms: ms(&publish, 0.99),
        peak_rss_mib: dispatcher_peak.max(api_peak),
        postgres_cpu_share: share(pg1.saturating_sub(pg0), cpu1 - cpu0),
        cpu_ms_per_delivery: 0.0,
        notes: format!(
            "{pending} pending at start; peak RSS api {api_peak:.0} MiB, dispatcher {dispatcher_peak:.0} MiB{}",
            if complete { "" } else { "; INCOMPLETE" }
        ),
        ..Row::default()
    })
}

/// Tenant B of the noisy-tenant scenarios (7, 9, 10, 11): one webhook on a fast receiver
/// of its own, publishing 2 events/s while tenant A does the harm.
struct Healthy {
    api: Api,
    receiver: Receiver,
    webhook_id: String,
}

/// What B's publishing took, for its row.
struct Measured {
    events: u64,
    publish: Vec<f64>,
    publish_took: Duration,
    took: f64,
    complete: bool,
}

impl Healthy {
    async fn sign_up(base: &str) -> anyhow::Result<Healthy> {
        let api = Api::sign_up(base).await?;
        let receiver = Receiver::start()?;
        let w = api
            .webhook(
                json!({"name": "healthy", "url": receiver.url(0), "events": ["bench.*"], "rateLimitPerMinute": null}),
            )
            .await?;
        if let Ok(mut secrets) = receiver.secrets.lock() {
            secrets.insert(0, w["secret"].as_str().unwrap_or_default().to_owned());
        }
        Ok(Healthy { api, receiver, webhook_id: w["id"].as_str().unwrap_or_default().to_owned() })
    }

    /// Publishes 2 events/s for `seconds` and waits (up to a minute) for their delivery.
    async fn measure(&self, seconds: f64) -> Measured {
        let events = (seconds * 2.0) as u64;
        let started = Instant::now();
        let (publish, publish_took) =
            publish_all(&self.api, "bench.event", events, &Load::Open { per_second: 2 }).await;
        let complete = wait_delivered(&self.receiver, events, Duration::from_secs(60)).await;
        Measured { events, publish, publish_took, took: started.elapsed().as_secs_f64(), complete }
    }
}

impl Measured {
    /// B's row: its publish and end-to-end figures, `notes` (given B's sorted end-to-end
    /// latencies, ms) saying what A did.
    fn row(self, b: &Healthy, scenario: &str, peak_rss_mib: f64, notes: impl FnOnce(&[f64]) -> String) -> Row {
        let tally = b.receiver.tally.lock().map(|t| (t.latencies_us.clone(), t.bad_signatures));
        let (mut e2e, bad_signatures) = tally.unwrap_or_default();
        e2e.sort_unstable();
        let e2e: Vec<f64> = e2e.iter().map(|us| *us as f64 / 1000.0).collect();
        let delivered = b.receiver.unique.load(Ordering::Relaxed);
        let Measured { events, publish, publish_took, took, complete } = self;
        let mut notes = notes(&e2e);
        if !complete {
            notes.push_str(&format!(" INCOMPLETE: {delivered} of {events} delivered"));
        }
        Row {
            scenario: scenario.into(),
            events,
            expected_deliveries: events,
            delivered,
            bad_signatures,
            seconds: took,
            deliveries_per_s: delivered as f64 / took,
            publish_per_s: publish.len() as f64 / publish_took.as_secs_f64(),
            publish_p50_ms: ms(&publish, 0.50),
            publish_p99_ms: ms(&publish, 0.99),
            e2e_p50_ms: ms(&e2e, 0.50),
            e2e_p95_ms: ms(&e2e, 0.95),
            e2e_p99_ms: ms(&e2e, 0.99),
            peak_rss_mib,
            notes,
            ..Row::default()
        }
    }
}

/// Scenario 3c: what hookrelay spends on a request that does no work (`GET /health`, no
/// database) at scenario 3's rate, one at a time: the floor under every publish. The CPU
/// column is hookrelay's alone, per request.
async fn floor_api(args: &Args, seconds: f64) -> anyhow::Result<Row> {
    let (_db, hookrelay, _extra) = start_service(args, "floorapi", &[]).await?;
    let api = Api::sign_up(&hookrelay.base).await?;
    let requests = (200.0 * seconds) as u64;
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    let mut took = Vec::with_capacity(requests as usize);
    let (pg0, cpu0, own0) = (postgres_cpu_ticks(), total_cpu_ticks(), hookrelay.cpu_ticks());
    let started = Instant::now();
    for _ in 0..requests {
        tick.tick().await;
        let (status, t) = api.get("/health").await?;
        anyhow::ensure!(status == 200, "GET /health answered {status}");
        took.push(t.as_secs_f64() * 1000.0);
    }
    let elapsed = started.elapsed();
    let (pg1, cpu1, own1) = (postgres_cpu_ticks(), total_cpu_ticks(), hookrelay.cpu_ticks());
    let peak = hookrelay.peak_rss_mib();
    hookrelay.stop();
    let mut row = floor_row("3c floor: GET /health 200/s", took, elapsed, own1 - own0);
    row.peak_rss_mib = peak;
    row.postgres_cpu_share = share(pg1.saturating_sub(pg0), cpu1 - cpu0);
    row.notes = "hookrelay's CPU ms per request; requests in the publish columns".into();
    Ok(row)
}

/// Scenario 3d: what PostgreSQL spends on the least a durable publish needs, one
/// single-row INSERT committed on its own, at scenario 3's rate over one connection (the
/// benchmark's, without TLS). The CPU column is PostgreSQL's alone, per commit.
async fn floor_commit(args: &Args, seconds: f64) -> anyhow::Result<Row> {
    let db = fresh_database(&args.database_url, "hookrelay_bench_floorpg").await?;
    let client = sql(&db).await?;
    client
        .batch_execute(
            "CREATE TABLE floor (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), body text NOT NULL, \
             at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    let insert = client.prepare("INSERT INTO floor (body) VALUES ($1)").await?;
    let body = json!({"event": "bench.event", "data": {"t": 0, "seq": 0}}).to_string();
    let commits = (200.0 * seconds) as u64;
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    let mut took = Vec::with_capacity(commits as usize);
    let (pg0, cpu0) = (postgres_cpu_ticks(), total_cpu_ticks());
    let started = Instant::now();
    for _ in 0..commits {
        tick.tick().await;
        let t = Instant::now();
        client.execute(&insert, &[&body]).await?;
        took.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let elapsed = started.elapsed();
    let (pg1, cpu1) = (postgres_cpu_ticks(), total_cpu_ticks());
    let mut row = floor_row("3d floor: one-row INSERT 200/s", took, elapsed, pg1.saturating_sub(pg0));
    row.postgres_cpu_share = share(pg1.saturating_sub(pg0), cpu1 - cpu0);
    row.notes = "PostgreSQL's CPU ms per commit, no TLS; commits in the publish columns".into();
    Ok(row)
}

/// A floor scenario's row: its operations (latencies in ms) in the publish columns, and
/// `ticks` of CPU per operation in the CPU column.
fn floor_row(scenario: &str, mut took: Vec<f64>, elapsed: Duration, ticks: u64) -> Row {
    took.sort_by(f64::total_cmp);
    let n = took.len() as u64;
    Row {
        scenario: scenario.into(),
        events: n,
        seconds: elapsed.as_secs_f64(),
        publish_per_s: n as f64 / elapsed.as_secs_f64(),
        publish_p50_ms: ms(&took, 0.5),
        publish_p99_ms: ms(&took, 0.99),
        cpu_ms_per_delivery: cpu_ms_per(ticks, n),
        ..Row::default()
    }
}

/// Scenario 6: publishing at 200/s with 10,000 webhooks in one tenant (one matches), and the stats
/// endpoints over `log_rows` seeded attempt logs of the last 24 h.
/// Scenario 7: a noisy neighbour. Tenant A has 80 webhooks on a receiver that accepts
/// connections and never answers, and publishes 20 events (1,600 deliveries, each attempt
/// held for the whole 10 s timeout); tenant B, with one webhook on the fast receiver, then
/// publishes an event every 0.5 s for `seconds`. B's end-to-end latency is the figure.
async fn neighbour(args: &Args, seconds: f64) -> anyhow::Result<Row> {
    let env = [("HOOKRELAY_ATTEMPT_TIMEOUT", "10s".to_owned()), ("HOOKRELAY_LEASE", "20s".to_owned())];
    let (_db, hookrelay, extra) = start_service(args, "neighbour", &env).await?;
    let hang = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hang_url = format!("http://{}/hang", hang.local_addr()?);
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hang.accept().await {
            held.push(socket);
        }
    });
    let a = Api::sign_up(&hookrelay.base).await?;
    for i in 0..80 {
        a.webhook(json!({"name": format!("hanging {i}"), "url": format!("{hang_url}/{i}"), "events": ["noisy.*"],
            "rateLimitPerMinute": null, "maxConcurrency": 10}))
            .await?;
    }
    let b = Healthy::sign_up(&hookrelay.base).await?;
    for seq in 0..20 {
        a.publish("noisy.event", seq).await?;
    }
    let measured = b.measure(seconds).await;
    let peak = hookrelay.peak_rss_mib();
    hookrelay.stop();
    for d in extra {
        d.stop();
    }
    holder.abort();
    Ok(measured.row(&b, "7 noisy neighbour", peak, |e2e| {
        format!("B's figures, while A's 1,600 deliveries to 80 endpoints hang; B's e2e max {:.0} ms", ms(e2e, 1.0))
    }))
}

/// Scenario 8: a flood of wide fan-outs. Tenant A has 2,000 webhooks matching its events
/// and 8 clients publishing as fast as they are answered; tenant B publishes 20 events/s
/// to one webhook. API only (nothing is delivered): B's publish latency is the figure.
async fn flood(args: &Args, seconds: f64) -> anyhow::Result<Row> {
    let db = fresh_database(&args.database_url, "hookrelay_bench_flood").await?;
    let hookrelay = Hookrelay::start(&args.hookrelay, &db, "api", &[])?;
    hookrelay.wait_ready().await?;
    let a = Api::sign_up(&hookrelay.base).await?;
    let first = a
        .webhook(
            json!({"name": "wide 0", "url": "http://127.0.0.1:9/", "events": ["wide.*"], "rateLimitPerMinute": null}),
        )
        .await?;
    let client = sql(&db).await?;
    client
        .execute(
            "INSERT INTO webhooks (id, tenant_id, name, url, events, secret, max_concurrency, created_at, updated_at) \
             SELECT gen_random_uuid(), w.tenant_id, 'wide ' || n, w.url, w.events, w.secret, 10, now(), now() \
             FROM webhooks w, generate_series(1, 1999) AS n WHERE w.id = $1::text::uuid",
            &[&first["id"].as_str().unwrap_or_default()],
        )
        .await?;
    let b = Api::sign_up(&hookrelay.base).await?;
    b.webhook(
        json!({"name": "small", "url": "http://127.0.0.1:9/", "events": ["bench.*"], "rateLimitPerMinute": null}),
    )
    .await?;
    let flooding = tokio::spawn(async move {
        publish_all(&a, "wide.event", u64::MAX, &Load::Closed { clients: 8 }).await;
    });
    // let the flood reach its pace first
    tokio::time::sleep(Duration::from_secs(2)).await;
    let events = (seconds * 20.0) as u64;
    let (publish, publish_took) = publish_all(&b, "bench.event", events, &Load::Open { per_second: 20 }).await;
    flooding.abort();
    let created: i64 =
        client.query_one("SELECT count(*) FROM deliveries", &[]).await.map(|r| r.get(0)).unwrap_or_default();
    let peak = hookrelay.peak_rss_mib();
    hookrelay.stop();
    Ok(Row {
        scenario: "8 wide flood".into(),
        events,
        expected_deliveries: events,
        delivered: publish.len() as u64,
        seconds: publish_took.as_secs_f64(),
        publish_per_s: publish.len() as f64 / publish_took.as_secs_f64(),
        publish_p50_ms: ms(&publish, 0.50),
        publish_p99_ms: ms(&publish, 0.99),
        peak_rss_mib: peak,
        notes: format!(
            "B's publishes (20/s) while A's 8 clients publish to 2,000 webhooks each; {created} deliveries created in all; B's publish max {:.0} ms",
            ms(&publish, 1.0)
        ),
        ..Row::default()
    })
}

/// What tenant A does to its backlog in scenarios 9 and 10.
#[derive(Clone, Copy, PartialEq)]
enum Harm {
    /// holds `rows` due deliveries to an inactive webhook (issue 16, item 5)
    Inactive,
    /// deletes a webhook with `rows` deliveries (not due) while B publishes (item 9)
    Delete,
    /// holds `rows` due deliveries to an active webhook whose receiver accepts connections
    /// and never answers, so that its attempts keep it at its concurrency (item 5)
    Saturated,
}

/// How much of a saturated webhook's backlog may stay in the due queue (its window, and
/// rows locked while the upkeep parked the rest) for scenario 13 to count it as parked.
const SATURATED_WINDOW_SLACK: u64 = 5_000;

/// Scenarios 9, 10 and 13: tenant A's large backlog that no claim can take, beside tenant B
/// publishing 2 events/s to a healthy endpoint. B's publish and end-to-end figures, and
/// the longest stretch in which B's attempts arrived but none was recorded.
async fn unclaimable(args: &Args, seconds: f64, rows: u64, harm: Harm) -> anyhow::Result<Row> {
    let name = match harm {
        Harm::Inactive => "parked",
        Harm::Delete => "delete",
        Harm::Saturated => "saturated",
    };
    let (db, hookrelay, extra) = start_service(args, name, &[]).await?;
    let a = Api::sign_up(&hookrelay.base).await?;
    let url = match harm {
        Harm::Saturated => format!("http://{}/", hanging_receiver().await?),
        _ => "http://127.0.0.1:9/".to_owned(),
    };
    let doomed = a
        .webhook(json!({"name": "backlog", "url": url, "events": ["noisy.*"],
            "active": harm != Harm::Inactive, "rateLimitPerMinute": null}))
        .await?;
    let doomed_id = doomed["id"].as_str().unwrap_or_default().to_owned();
    let client = sql(&db).await?;
    // one event of A's, so that the deliveries have one; due now when inactive, in an
    // hour when the webhook is to be deleted (nothing of it is attempted either way)
    let due = if harm == Harm::Delete { "now() + interval '1 hour'" } else { "now()" };
    client
        .execute(
            &format!(
                "WITH e AS (INSERT INTO events (id, tenant_id, event_type, body, test, deliveries, created_at) \
                   SELECT gen_random_uuid(), w.tenant_id, 'noisy.event', '{{}}', false, $2, now() \
                   FROM webhooks w WHERE w.id = $1::text::uuid RETURNING id, tenant_id) \
                 INSERT INTO deliveries (id, tenant_id, event_id, webhook_id, event_type, status, next_attempt_at, \
                   created_at, updated_at) \
                 SELECT gen_random_uuid(), e.tenant_id, e.id, $1::text::uuid, 'noisy.event', 'pending', {due}, \
                   now(), now() FROM e, generate_series(1, $2)"
            ),
            &[&doomed_id, &i32::try_from(rows).unwrap_or(i32::MAX)],
        )
        .await?;
    client.execute("ANALYZE deliveries", &[]).await?;
    // B is measured once the upkeep has parked A's backlog (a one-off cost, reported); a
    // saturated webhook keeps a window of its backlog in the due queue, and code that does
    // not park it is measured after the wait's bound
    let (target, bound) = match harm {
        Harm::Inactive => (rows, Duration::from_secs(300)),
        Harm::Saturated => (rows.saturating_sub(SATURATED_WINDOW_SLACK), Duration::from_secs(90)),
        Harm::Delete => (0, Duration::ZERO),
    };
    let parking = Instant::now();
    let mut parked_in = None;
    while parking.elapsed() < bound {
        let Ok(row) = client.query_one("SELECT count(*) FROM deliveries WHERE parked", &[]).await else { break };
        if row.get::<_, i64>(0) >= i64::try_from(target).unwrap_or(i64::MAX) {
            parked_in = Some(parking.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let b = Healthy::sign_up(&hookrelay.base).await?;
    let b_tenant: String = client
        .query_one("SELECT tenant_id::text FROM webhooks WHERE id = $1::text::uuid", &[&b.webhook_id])
        .await?
        .get(0);
    let deleting = (harm == Harm::Delete).then(|| {
        let a = a.clone();
        let path = format!("/api/v1/webhooks/{doomed_id}");
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            a.delete(&path).await
        })
    });
    let stall = Arc::new(AtomicU64::new(0));
    let watching = tokio::spawn(recording_stall(client, b_tenant, b.receiver.unique.clone(), stall.clone()));
    let measured = b.measure(seconds).await;
    // the last arrivals' recording
    tokio::time::sleep(Duration::from_secs(2)).await;
    watching.abort();
    let stall = Duration::from_micros(stall.load(Ordering::Relaxed));
    let deleted = match deleting {
        Some(task) => match task.await {
            Ok(Ok((status, took))) => {
                format!("; A's DELETE answered {status} in {:.0} ms", took.as_secs_f64() * 1000.0)
            }
            Ok(Err(err)) => format!("; A's DELETE failed: {err}"),
            Err(err) => format!("; A's DELETE failed: {err}"),
        },
        None => String::new(),
    };
    let peak = hookrelay.peak_rss_mib();
    hookrelay.stop();
    for d in extra {
        d.stop();
    }
    let what = match (harm, parked_in) {
        (Harm::Inactive, Some(t)) => format!("due to an inactive webhook (parked in {:.0} s)", t.as_secs_f64()),
        (Harm::Inactive, None) => "due to an inactive webhook".to_owned(),
        (Harm::Delete, _) => "of a webhook A deletes".to_owned(),
        (Harm::Saturated, Some(t)) => {
            format!("due to a webhook whose receiver never answers (parked in {:.0} s)", t.as_secs_f64())
        }
        (Harm::Saturated, None) => "due to a webhook whose receiver never answers (not parked)".to_owned(),
    };
    let scenario = match harm {
        Harm::Inactive => "9 parked backlog",
        Harm::Delete => "10 big delete",
        Harm::Saturated => "13 saturated backlog",
    };
    Ok(measured.row(&b, scenario, peak, |_| {
        format!(
            "B's figures beside A's {rows} deliveries {what}; longest recording stall of B's attempts {:.0} ms{deleted}",
            stall.as_secs_f64() * 1000.0
        )
    }))
}

/// A receiver that accepts every connection and never answers: each attempt holds its
/// lease until the attempt timeout. Returns its address.
async fn hanging_receiver() -> anyhow::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    Ok(addr)
}

/// Scenario 12 (issue 14): tenant A recovers `rows` failed deliveries of one webhook (its
/// endpoint is back: a fast receiver, at the default 100 attempts a minute) while tenant B
/// publishes 2 events/s. B's publish and end-to-end figures, and A's time to `done`.
async fn recover(args: &Args, seconds: f64, rows: u64) -> anyhow::Result<Row> {
    let (db, hookrelay, extra) = start_service(args, "recover", &[]).await?;
    let a = Api::sign_up(&hookrelay.base).await?;
    let a_receiver = Receiver::start()?;
    let hook = a
        .webhook(
            json!({"name": "back again", "url": a_receiver.url(0), "events": ["noisy.*"], "rateLimitPerMinute": 100}),
        )
        .await?;
    if let Ok(mut secrets) = a_receiver.secrets.lock() {
        secrets.insert(0, hook["secret"].as_str().unwrap_or_default().to_owned());
    }
    let hook_id = hook["id"].as_str().unwrap_or_default().to_owned();
    let client = sql(&db).await?;
    // A's outage: `rows` deliveries that used up their attempts an hour ago
    client
        .execute(
            "WITH e AS (INSERT INTO events (id, tenant_id, event_type, body, test, deliveries, created_at) \
               SELECT gen_random_uuid(), w.tenant_id, 'noisy.event', '{\"data\":{}}', false, $2, now() - interval '1 hour' \
               FROM webhooks w WHERE w.id = $1::text::uuid RETURNING id, tenant_id) \
             INSERT INTO deliveries (id, tenant_id, event_id, webhook_id, event_type, status, attempt_count, \
               series_attempts, last_attempt_at, created_at, updated_at) \
             SELECT hookrelay_uuid_v7(), e.tenant_id, e.id, $1::text::uuid, 'noisy.event', 'failed', 4, 4, \
               now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour' FROM e, generate_series(1, $2)",
            &[&hook_id, &i32::try_from(rows).unwrap_or(i32::MAX)],
        )
        .await?;
    client.execute("ANALYZE deliveries", &[]).await?;
    let b = Healthy::sign_up(&hookrelay.base).await?;
    let since = (chrono::Utc::now() - chrono::TimeDelta::hours(2)).to_rfc3339();
    let started = Instant::now();
    let (status, recovery) = a.post(&format!("/api/v1/webhooks/{hook_id}/recover"), json!({"since": since})).await?;
    anyhow::ensure!(status == 202, "recover answered {status}: {recovery}");
    let answered = started.elapsed();
    let progress = format!("/api/v1/webhooks/{hook_id}/recoveries/{}", recovery["id"].as_str().unwrap_or_default());
    let watching = {
        let a = a.clone();
        tokio::spawn(async move {
            loop {
                if let Ok((200, r)) = a.get_json(&progress).await {
                    if r["status"] == "done" {
                        return Some((started.elapsed(), r["deliveries"].as_i64().unwrap_or(0)));
                    }
                }
                if started.elapsed() > Duration::from_secs(600) {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let measured = b.measure(seconds).await;
    let done = watching.await.ok().flatten();
    let peak = hookrelay.peak_rss_mib();
    hookrelay.stop();
    for d in extra {
        d.stop();
    }
    let done = match done {
        Some((took, n)) => format!("done in {:.1} s ({n} re-queued)", took.as_secs_f64()),
        None => "not done within 10 min".to_owned(),
    };
    Ok(measured.row(&b, "12 recover", peak, |_| {
        format!(
            "B's figures while A recovers {rows} failed deliveries: answered in {:.0} ms, {done}",
            answered.as_secs_f64() * 1000.0
        )
    }))
}

/// Scenario 11 (issue 16, item 7): tenant A holds 200 live streams filtered to a quiet
/// webhook while publishing 20 events/s to a busy one; tenant B publishes 2 events/s and
/// lists its webhooks twice a second. B's publish, end-to-end and list figures.
async fn streams(args: &Args, seconds: f64) -> anyhow::Result<Row> {
    const STREAMS: usize = 200;
    let env = [("HOOKRELAY_MAX_STREAMS", (STREAMS + 10).to_string())];
    let (_db, hookrelay, extra) = start_service(args, "streams", &env).await?;
    let a = Api::sign_up(&hookrelay.base).await?;
    let a_receiver = Receiver::start()?;
    let busy = a
        .webhook(json!({"name": "busy", "url": a_receiver.url(0), "events": ["busy.*"], "rateLimitPerMinute": null}))
        .await?;
    if let Ok(mut secrets) = a_receiver.secrets.lock() {
        secrets.insert(0, busy["secret"].as_str().unwrap_or_default().to_owned());
    }
    let quiet = a.webhook(json!({"name": "quiet", "url": "http://127.0.0.1:9/", "events": ["quiet.*"]})).await?;
    let quiet_id = quiet["id"].as_str().unwrap_or_default().to_owned();
    let mut open = Vec::with_capacity(STREAMS);
    for _ in 0..STREAMS {
        let res =
            a.http.get(format!("{}/api/v1/stream?webhookId={quiet_id}", a.base)).bearer_auth(&a.token).send().await?;
        anyhow::ensure!(res.status().as_u16() == 200, "opening a stream answered {}", res.status());
        let mut res = res;
        open.push(tokio::spawn(async move { while let Ok(Some(_)) = res.chunk().await {} }));
    }
    let noisy = tokio::spawn({
        let a = a.clone();
        async move { publish_all(&a, "busy.event", u64::MAX, &Load::Open { per_second: 20 }).await }
    });
    let b = Healthy::sign_up(&hookrelay.base).await?;
    let listing = tokio::spawn({
        let b = b.api.clone();
        async move {
            let mut took = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                if let Ok((200, t)) = b.get("/api/v1/webhooks").await {
                    took.push(t.as_secs_f64() * 1000.0);
                    if took.len() as f64 >= seconds * 2.0 {
                        return took;
                    }
                }
            }
        }
    });
    let measured = b.measure(seconds).await;
    let mut lists =
        tokio::time::timeout(Duration::from_secs(30), listing).await.ok().and_then(Result::ok).unwrap_or_default();
    lists.sort_by(f64::total_cmp);
    noisy.abort();
    for s in open {
        s.abort();
    }
    let peak = hookrelay.peak_rss_mib();
    hookrelay.stop();
    for d in extra {
        d.stop();
    }
    Ok(measured.row(&b, "11 idle streams", peak, |_| {
        format!(
            "B's figures beside A's {STREAMS} streams on a quiet webhook and 20 events/s to a busy one; \
             B's GET /api/v1/webhooks p50 / p99 {:.1} / {:.1} ms; A delivered {}",
            quantile(&lists, 0.5),
            quantile(&lists, 0.99),
            a_receiver.unique.load(Ordering::Relaxed)
        )
    }))
}

/// Samples, every 50 ms until aborted, how many of the tenant's deliveries are recorded
/// as succeeded against how many arrived, and keeps in `longest` (µs) the longest stretch
/// in which arrivals waited and no recording came.
async fn recording_stall(
    client: tokio_postgres::Client,
    tenant: String,
    arrived: Arc<AtomicU64>,
    longest: Arc<AtomicU64>,
) {
    let mut since: Option<(Instant, i64)> = None;
    loop {
        let Ok(row) = client
            .query_one(
                "SELECT count(*) FROM deliveries WHERE tenant_id = $1::text::uuid AND status = 'succeeded'",
                &[&tenant],
            )
            .await
        else {
            return;
        };
        let recorded: i64 = row.get(0);
        let waiting = arrived.load(Ordering::Relaxed) as i64 > recorded;
        since = match since {
            Some((t, r)) if waiting && r == recorded => {
                longest.fetch_max(t.elapsed().as_micros() as u64, Ordering::Relaxed);
                Some((t, r))
            }
            _ if waiting => Some((Instant::now(), recorded)),
            _ => None,
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn scale(args: &Args, events: u64, log_rows: u64) -> anyhow::Result<Row> {
    let (db, hookrelay, _extra) = start_service(args, "scale", &[]).await?;
    let api = Api::sign_up(&hookrelay.base).await?;
    let receiver = Receiver::start()?;
    let matching = api
        .webhook(json!({"name": "match", "url": receiver.url(0), "events": ["scale.match"], "rateLimitPerMinute": null, "maxConcurrency": 100}))
        .await?;
    if let Ok(mut secrets) = receiver.secrets.lock() {
        secrets.insert(0, matching["secret"].as_str().unwrap_or_default().to_owned());
    }
    let webhook_id = matching["id"].as_str().unwrap_or_default().to_owned();
    let others = ((10_000.0 * args.scale.min(1.0)) as usize).max(10) - 1;
    let created = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in 0..8 {
        let (api, url) = (api.clone(), receiver.url(1));
        tasks.spawn(async move {
            for i in (chunk..others).step_by(8) {
                api.webhook(
                    json!({"name": format!("other {i}"), "url": url, "events": [format!("other.e{i}"), "unrelated.*"]}),
                )
                .await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    eprintln!("{} webhooks created in {:?}", others + 1, created.elapsed());
    // at the steady rate of scenario 3, so that the latency shows what matching among
    // 10,000 webhooks costs rather than how a saturated machine queues
    let (publish, publish_took) = publish_all(&api, "scale.match", events, &Load::Open { per_second: 200 }).await;
    wait_delivered(&receiver, events, Duration::from_secs(120)).await;

    let seeded = Instant::now();
    seed_logs(&db, &webhook_id, log_rows).await?;
    eprintln!("{log_rows} attempt logs seeded in {:?}", seeded.elapsed());
    let mut webhook_stats = Vec::new();
    let mut tenant_stats = Vec::new();
    for _ in 0..200 {
        let (status, d) = api.get(&format!("/api/v1/webhooks/{webhook_id}/stats")).await?;
        anyhow::ensure!(status == 200, "stats answered {status}");
        webhook_stats.push(d.as_secs_f64() * 1000.0);
        let (_, d) = api.get("/api/v1/stats").await?;
        tenant_stats.push(d.as_secs_f64() * 1000.0);
    }
    webhook_stats.sort_by(f64::total_cmp);
    tenant_stats.sort_by(f64::total_cmp);
    let peak = hookrelay.peak_rss_mib();
    hookrelay.stop();
    Ok(Row {
        scenario: "6 10k webhooks + stats".into(),
        events,
        expected_deliveries: events,
        delivered: receiver.unique.load(Ordering::Relaxed),
        publish_per_s: publish.len() as f64 / publish_took.as_secs_f64(),
        publish_p50_ms: ms(&publish, 0.5),
        publish_p99_ms: ms(&publish, 0.99),
        peak_rss_mib: peak,
        notes: format!(
            "{} webhooks; stats over {log_rows} log rows (24 h window): webhook p50 {:.1} ms p99 {:.1} ms, tenant p50 {:.1} ms p99 {:.1} ms",
            others + 1,
            quantile(&webhook_stats, 0.5),
            quantile(&webhook_stats, 0.99),
            quantile(&tenant_stats, 0.5),
            quantile(&tenant_stats, 0.99)
        ),
        ..Row::default()
    })
}

/// Seeds `rows` attempt logs over the last 24 h for one webhook (5 attempts per delivery:
/// 4 failures then a success), and the stats rollups that the dispatcher would have
/// written for them, computed by the service's own rollup code.
async fn seed_logs(db: &str, webhook_id: &str, rows: u64) -> anyhow::Result<()> {
    use hookrelay::db::logs::AttemptLog;
    use hookrelay::db::stats::Increments;
    let client = sql(db).await?;
    let tenant = client
        .query_one("SELECT tenant_id::text FROM webhooks WHERE id = $1::text::uuid", &[&webhook_id])
        .await?
        .get::<_, String>(0);
    let tenant = uuid::Uuid::parse_str(&tenant)?;
    let webhook = uuid::Uuid::parse_str(webhook_id)?;
    let deliveries = (rows / 5) as i64;
    let now = chrono::Utc::now();
    let start = now - chrono::Duration::hours(24);
    let step_us = 86_400_000_000i64 / deliveries.max(1);
    // UUID v7 ids of the row's own time, as the service makes them (retention relies on
    // it): the time's 48 bits of milliseconds over the random bits of an md5
    let v7 = |seed: &str| {
        format!(
            "encode(set_bit(set_bit(overlay(uuid_send(md5({seed})::uuid) PLACING substring(int8send(\
             floor(extract(epoch FROM '{start}'::timestamptz + g * interval '{step_us} microseconds') * 1000)::bigint) \
             FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid"
        )
    };
    let (event_id, log_id) = (v7("'e' || g"), v7("'l' || g || '.' || a"));
    client
        .batch_execute(&format!(
            "INSERT INTO events (id, tenant_id, event_type, body, test, deliveries, created_at)
               SELECT {event_id}, '{tenant}', 'seed.event', '{{}}', false, 1,
                      '{start}'::timestamptz + g * interval '{step_us} microseconds'
               FROM generate_series(0, {deliveries} - 1) g;
             INSERT INTO deliveries (id, tenant_id, event_id, webhook_id, event_type, status, attempt_count, series_attempts, test, created_at, updated_at)
               SELECT md5('d' || g)::uuid, '{tenant}', {event_id}, '{webhook}', 'seed.event', 'succeeded', 5, 5, false,
                      '{start}'::timestamptz + g * interval '{step_us} microseconds',
                      '{start}'::timestamptz + g * interval '{step_us} microseconds'
               FROM generate_series(0, {deliveries} - 1) g;
             INSERT INTO webhook_logs (id, tenant_id, delivery_id, event_id, webhook_id, event_type, attempt, success, request_url,
                                       response_status, duration_ms, error_kind, test, created_at)
               SELECT {log_id}, '{tenant}', md5('d' || g)::uuid, {event_id}, '{webhook}', 'seed.event',
                      a, a = 5, 'http://127.0.0.1/seed', CASE WHEN a = 5 THEN 200 ELSE 500 END, (g * 7 + a * 13) % 400 + 1,
                      CASE WHEN a = 5 THEN NULL ELSE 'http_status' END, false,
                      '{start}'::timestamptz + g * interval '{step_us} microseconds'
               FROM generate_series(0, {deliveries} - 1) g, generate_series(1, 5) a;"
        ))
        .await?;
    let mut inc = Increments::default();
    for g in 0..deliveries {
        let created_at = start + chrono::Duration::microseconds(g * step_us);
        for a in 1..=5i64 {
            inc.attempt(&AttemptLog {
                id: uuid::Uuid::nil(),
                tenant_id: tenant,
                delivery_id: uuid::Uuid::nil(),
                event_id: uuid::Uuid::nil(),
                webhook_id: webhook,
                event_type: String::new(),
                attempt: a as i32,
                success: a == 5,
                request_url: String::new(),
                response_status: Some(if a == 5 { 200 } else { 500 }),
                response_body: None,
                duration_ms: ((g * 7 + a * 13) % 400 + 1) as i32,
                error_kind: (a != 5).then(|| "http_status".to_owned()),
                error_message: None,
                test: false,
                created_at,
                response_headers: None,
            });
        }
        inc.delivery(tenant, webhook, created_at, 1, 1, 0);
    }
    let pool = hookrelay::db::build_pool(db, 2)?;
    let conn = pool.get().await?;
    hookrelay::db::stats::apply(&conn, inc).await?;
    client.batch_execute("ANALYZE").await?;
    Ok(())
}

fn print_row(r: &Row) {
    eprintln!("{}", serde_json::to_string(r).unwrap_or_default());
}

fn print_table(rows: &[Row]) {
    println!(
        "| scenario | events | deliveries | dup | deliveries/s | publish/s | publish p50/p99 ms | e2e p50/p95/p99 ms | peak RSS MiB | PG CPU | CPU ms/delivery | notes |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {}/{} | {} | {:.0} | {:.0} | {:.2} / {:.2} | {:.2} / {:.2} / {:.2} | {:.1} | {:.0}% | {:.2} | {} |",
            r.scenario,
            r.events,
            r.delivered,
            r.expected_deliveries,
            r.duplicates,
            r.deliveries_per_s,
            r.publish_per_s,
            r.publish_p50_ms,
            r.publish_p99_ms,
            r.e2e_p50_ms,
            r.e2e_p95_ms,
            r.e2e_p99_ms,
            r.peak_rss_mib,
            r.postgres_cpu_share * 100.0,
            r.cpu_ms_per_delivery,
            r.notes
        );
    }
}
