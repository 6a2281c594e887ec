//! Scenarios 1 to 5: events published by one tenant and delivered to the fast receiver —
//! closed and open load, fan-out, faults and retries, the publish path alone, and a
//! backlog drained by a dispatcher started after it was built.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{
    cpu_ms_per, ms, publish_all, register_secret, share, sorted_ms, start_service, stop_service, wait_delivered, Load,
    Row, Setup,
};
use crate::harness::{fresh_database, postgres_cpu_ticks, quantile, sql, total_cpu_ticks, Api, Hookrelay, RssSampler};
use crate::receiver::{Answer, Receiver};
use crate::Args;

/// Scenarios 1 to 4: `s.events` published with `s.load`, each delivered to the
/// `s.webhooks` webhooks of one tenant on the receiver (which injects `s.faults`), until
/// every delivery has arrived.
pub(super) async fn deliver(args: &Args, s: Setup) -> anyhow::Result<Row> {
    let slug: String = s.name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
    let (_db, hookrelay, extra) = start_service(args, &slug, &s.env).await?;
    let api = Api::sign_up(&hookrelay.base).await?;
    let receiver = Receiver::start()?;
    if let Ok(mut f) = receiver.faults.lock() {
        *f = s.faults;
    }
    add_webhooks(&api, &receiver, &s).await?;
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
    let (e2e, bad_signatures, (duplicates, mut notes)) = tally.unwrap_or_default();
    let e2e = sorted_ms(e2e);
    stop_service(hookrelay, extra);
    let delivered = receiver.unique.load(Ordering::Relaxed);
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

/// Creates the `s.webhooks` webhooks of `deliver`, each on its own endpoint of `receiver`.
async fn add_webhooks(api: &Api, receiver: &Receiver, s: &Setup) -> anyhow::Result<()> {
    for i in 0..s.webhooks {
        let w = api
            .webhook(json!({"name": format!("bench {i}"), "url": receiver.url(i), "events": ["bench.*"],
                "rateLimitPerMinute": null, "maxConcurrency": 100, "retrySchedule": s.retry_schedule}))
            .await?;
        register_secret(receiver, i, &w);
    }
    Ok(())
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
pub(super) async fn backlog(args: &Args, events: u64) -> anyhow::Result<Row> {
    let db = fresh_database(&args.database_url, "backlog").await?;
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
        register_secret(&receiver, i, &w);
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
