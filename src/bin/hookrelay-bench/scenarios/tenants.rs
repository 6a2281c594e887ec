//! The noisy-tenant scenarios: tenant A does harm while tenant B, healthy, publishes 2
//! events/s (20 in scenario 8) and B's figures are measured. Here tenant B's side, and
//! scenarios 7 (noisy neighbour), 8 (wide flood), 11 (idle streams) and 12 (recover); 9, 10
//! and 13 are in `unclaimable`.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{ms, publish_all, register_secret, sorted_ms, start_service, stop_service, wait_delivered, Load, Row};
use crate::harness::{fresh_database, quantile, sql, Api, Hookrelay};
use crate::receiver::Receiver;
use crate::Args;

/// Tenant B of the noisy-tenant scenarios (7 and 9 to 13): one webhook on a fast receiver
/// of its own, publishing 2 events/s while tenant A does the harm.
pub(super) struct Healthy {
    pub(super) api: Api,
    pub(super) receiver: Receiver,
    pub(super) webhook_id: String,
}

/// What B's publishing took, for its row.
pub(super) struct Measured {
    events: u64,
    publish: Vec<f64>,
    publish_took: Duration,
    took: f64,
    complete: bool,
}

impl Healthy {
    pub(super) async fn sign_up(base: &str) -> anyhow::Result<Healthy> {
        let api = Api::sign_up(base).await?;
        let receiver = Receiver::start()?;
        let w = api
            .webhook(
                json!({"name": "healthy", "url": receiver.url(0), "events": ["bench.*"], "rateLimitPerMinute": null}),
            )
            .await?;
        register_secret(&receiver, 0, &w);
        Ok(Healthy { api, receiver, webhook_id: w["id"].as_str().unwrap_or_default().to_owned() })
    }

    /// Publishes 2 events/s for `seconds` and waits (up to a minute) for their delivery.
    pub(super) async fn measure(&self, seconds: f64) -> Measured {
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
    pub(super) fn row(
        self,
        b: &Healthy,
        scenario: &str,
        peak_rss_mib: f64,
        notes: impl FnOnce(&[f64]) -> String,
    ) -> Row {
        let tally = b.receiver.tally.lock().map(|t| (t.latencies_us.clone(), t.bad_signatures));
        let (e2e, bad_signatures) = tally.unwrap_or_default();
        let e2e = sorted_ms(e2e);
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

/// Scenario 7: a noisy neighbour. Tenant A has 80 webhooks on a receiver that accepts
/// connections and never answers, and publishes 20 events (1,600 deliveries, each attempt
/// held for the whole 10 s timeout); tenant B, with one webhook on the fast receiver, then
/// publishes an event every 0.5 s for `seconds`. B's end-to-end latency is the figure.
pub(super) async fn neighbour(args: &Args, seconds: f64) -> anyhow::Result<Row> {
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
    stop_service(hookrelay, extra);
    holder.abort();
    Ok(measured.row(&b, "7 noisy neighbour", peak, |e2e| {
        format!("B's figures, while A's 1,600 deliveries to 80 endpoints hang; B's e2e max {:.0} ms", ms(e2e, 1.0))
    }))
}

/// Scenario 8: a flood of wide fan-outs. Tenant A has 2,000 webhooks matching its events
/// and 8 clients publishing as fast as they are answered; tenant B publishes 20 events/s
/// to one webhook. API only (nothing is delivered): B's publish latency is the figure.
pub(super) async fn flood(args: &Args, seconds: f64) -> anyhow::Result<Row> {
    let db = fresh_database(&args.database_url, "flood").await?;
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

/// Scenario 12 (issue 14): tenant A recovers `rows` failed deliveries of one webhook (its
/// endpoint is back: a fast receiver, at the default 100 attempts a minute) while tenant B
/// publishes 2 events/s. B's publish and end-to-end figures, and A's time to `done`.
pub(super) async fn recover(args: &Args, seconds: f64, rows: u64) -> anyhow::Result<Row> {
    let (db, hookrelay, extra) = start_service(args, "recover", &[]).await?;
    let a = Api::sign_up(&hookrelay.base).await?;
    let a_receiver = Receiver::start()?;
    let hook = a
        .webhook(
            json!({"name": "back again", "url": a_receiver.url(0), "events": ["noisy.*"], "rateLimitPerMinute": 100}),
        )
        .await?;
    register_secret(&a_receiver, 0, &hook);
    let hook_id = hook["id"].as_str().unwrap_or_default().to_owned();
    let client = sql(&db).await?;
    fail_deliveries(&client, &hook_id, rows).await?;
    let b = Healthy::sign_up(&hookrelay.base).await?;
    let since = (chrono::Utc::now() - chrono::TimeDelta::hours(2)).to_rfc3339();
    let started = Instant::now();
    let (status, recovery) = a.post(&format!("/api/v1/webhooks/{hook_id}/recover"), json!({"since": since})).await?;
    anyhow::ensure!(status == 202, "recover answered {status}: {recovery}");
    let answered = started.elapsed();
    let progress = format!("/api/v1/webhooks/{hook_id}/recoveries/{}", recovery["id"].as_str().unwrap_or_default());
    let watching = watch_recovery(a.clone(), progress, started);
    let measured = b.measure(seconds).await;
    let done = watching.await.ok().flatten();
    let peak = hookrelay.peak_rss_mib();
    stop_service(hookrelay, extra);
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

/// A's outage in scenario 12: `rows` deliveries of the webhook that used up their attempts
/// an hour ago.
async fn fail_deliveries(client: &tokio_postgres::Client, hook_id: &str, rows: u64) -> anyhow::Result<()> {
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
    Ok(())
}

/// Polls the recovery at `progress` every 200 ms until it is done (its time since `started`,
/// and how many deliveries it re-queued), or for 10 minutes (then `None`).
fn watch_recovery(a: Api, progress: String, started: Instant) -> tokio::task::JoinHandle<Option<(Duration, i64)>> {
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
}

/// Scenario 11 (issue 16, item 7): tenant A holds 200 live streams filtered to a quiet
/// webhook while publishing 20 events/s to a busy one; tenant B publishes 2 events/s and
/// lists its webhooks twice a second. B's publish, end-to-end and list figures.
pub(super) async fn streams(args: &Args, seconds: f64) -> anyhow::Result<Row> {
    const STREAMS: usize = 200;
    let env = [("HOOKRELAY_MAX_STREAMS", (STREAMS + 10).to_string())];
    let (_db, hookrelay, extra) = start_service(args, "streams", &env).await?;
    let a = Api::sign_up(&hookrelay.base).await?;
    let a_receiver = Receiver::start()?;
    let busy = a
        .webhook(json!({"name": "busy", "url": a_receiver.url(0), "events": ["busy.*"], "rateLimitPerMinute": null}))
        .await?;
    register_secret(&a_receiver, 0, &busy);
    let quiet = a.webhook(json!({"name": "quiet", "url": "http://127.0.0.1:9/", "events": ["quiet.*"]})).await?;
    let quiet_id = quiet["id"].as_str().unwrap_or_default().to_owned();
    let open = open_streams(&a, &quiet_id, STREAMS).await?;
    let noisy = tokio::spawn({
        let a = a.clone();
        async move { publish_all(&a, "busy.event", u64::MAX, &Load::Open { per_second: 20 }).await }
    });
    let b = Healthy::sign_up(&hookrelay.base).await?;
    let listing = list_webhooks(b.api.clone(), seconds);
    let measured = b.measure(seconds).await;
    let mut lists =
        tokio::time::timeout(Duration::from_secs(30), listing).await.ok().and_then(Result::ok).unwrap_or_default();
    lists.sort_by(f64::total_cmp);
    noisy.abort();
    for s in open {
        s.abort();
    }
    let peak = hookrelay.peak_rss_mib();
    stop_service(hookrelay, extra);
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

/// Opens `n` live streams of A's, filtered to the webhook `quiet_id`, each read to its end
/// by a task of its own.
async fn open_streams(a: &Api, quiet_id: &str, n: usize) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut open = Vec::with_capacity(n);
    for _ in 0..n {
        let res =
            a.http.get(format!("{}/api/v1/stream?webhookId={quiet_id}", a.base)).bearer_auth(&a.token).send().await?;
        anyhow::ensure!(res.status().as_u16() == 200, "opening a stream answered {}", res.status());
        let mut res = res;
        open.push(tokio::spawn(async move { while let Ok(Some(_)) = res.chunk().await {} }));
    }
    Ok(open)
}

/// Lists B's webhooks twice a second until `seconds` × 2 lists answered 200; their
/// latencies (ms), in order.
fn list_webhooks(b: Api, seconds: f64) -> tokio::task::JoinHandle<Vec<f64>> {
    tokio::spawn(async move {
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
    })
}
