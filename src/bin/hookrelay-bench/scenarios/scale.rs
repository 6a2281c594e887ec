//! Scenario 6: matching among 10,000 webhooks of one tenant, and the stats endpoints over
//! millions of seeded attempt logs.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hookrelay::db::logs::AttemptLog;
use hookrelay::db::stats::Increments;
use serde_json::json;

use super::{ms, publish_all, register_secret, start_service, wait_delivered, Load, Row};
use crate::harness::{quantile, sql, Api};
use crate::receiver::Receiver;
use crate::Args;

/// Scenario 6: publishing at 200/s with 10,000 webhooks in one tenant (one matches), and the stats
/// endpoints over `log_rows` seeded attempt logs of the last 24 h.
pub(super) async fn scale(args: &Args, events: u64, log_rows: u64) -> anyhow::Result<Row> {
    let (db, hookrelay, _extra) = start_service(args, "scale", &[]).await?;
    let api = Api::sign_up(&hookrelay.base).await?;
    let receiver = Receiver::start()?;
    let matching = api
        .webhook(json!({"name": "match", "url": receiver.url(0), "events": ["scale.match"], "rateLimitPerMinute": null, "maxConcurrency": 100}))
        .await?;
    register_secret(&receiver, 0, &matching);
    let webhook_id = matching["id"].as_str().unwrap_or_default().to_owned();
    let others = ((10_000.0 * args.scale.min(1.0)) as usize).max(10) - 1;
    let created = Instant::now();
    add_other_webhooks(&api, &receiver, others).await?;
    eprintln!("{} webhooks created in {:?}", others + 1, created.elapsed());
    // at the steady rate of scenario 3, so that the latency shows what matching among
    // 10,000 webhooks costs rather than how a saturated machine queues
    let (publish, publish_took) = publish_all(&api, "scale.match", events, &Load::Open { per_second: 200 }).await;
    wait_delivered(&receiver, events, Duration::from_secs(120)).await;

    let seeded = Instant::now();
    seed_logs(&db, &webhook_id, log_rows).await?;
    eprintln!("{log_rows} attempt logs seeded in {:?}", seeded.elapsed());
    let (webhook_stats, tenant_stats) = time_stats(&api, &webhook_id).await?;
    spread_rollups(&db, &webhook_id).await?;
    let glance = time_glance(&api, &webhook_id).await?;
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
            "{} webhooks; stats over {log_rows} log rows (24 h window): webhook p50 {:.1} ms p99 {:.1} ms, tenant p50 {:.1} ms p99 {:.1} ms; {glance}",
            others + 1,
            quantile(&webhook_stats, 0.5),
            quantile(&webhook_stats, 0.99),
            quantile(&tenant_stats, 0.5),
            quantile(&tenant_stats, 0.99)
        ),
        ..Row::default()
    })
}

/// Creates `others` webhooks that none of scenario 6's events match, 8 requests at a time.
async fn add_other_webhooks(api: &Api, receiver: &Receiver, others: usize) -> anyhow::Result<()> {
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
    Ok(())
}

/// Calls the webhook's and the tenant's stats endpoints 200 times each, alternately; their
/// sorted latencies (ms).
async fn time_stats(api: &Api, webhook_id: &str) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
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
    Ok((webhook_stats, tenant_stats))
}

/// Copies the seeded day's rollups of the webhook to the 29 days before it, and to 199 other
/// webhooks: a month of history for the long stats windows, and a list page of 200 webhooks
/// whose health has a day of rollups to read.
async fn spread_rollups(db: &str, webhook_id: &str) -> anyhow::Result<()> {
    const COLUMNS: &str = "attempts, attempt_successes, retries, answered, latency_sum_ms, latency_hist, errors, \
                           deliveries_started, deliveries_succeeded, deliveries_failed";
    let client = sql(db).await?;
    client
        .batch_execute(&format!(
            "INSERT INTO stats_rollups (tenant_id, webhook_id, span, start, {COLUMNS})
               SELECT tenant_id, webhook_id, span, start - k * interval '1 day', {COLUMNS}
               FROM stats_rollups, generate_series(1, 29) k WHERE webhook_id = '{webhook_id}'
             ON CONFLICT DO NOTHING;
             INSERT INTO stats_rollups (tenant_id, webhook_id, span, start, {COLUMNS})
               SELECT r.tenant_id, w.id, r.span, r.start, {COLUMNS}
               FROM stats_rollups r, (SELECT id FROM webhooks WHERE id <> '{webhook_id}' ORDER BY id LIMIT 199) w
               WHERE r.webhook_id = '{webhook_id}' AND r.start > now() - interval '25 hours'
             ON CONFLICT DO NOTHING;
             ANALYZE stats_rollups;"
        ))
        .await?;
    Ok(())
}

/// What a dashboard asks at a glance, 50 times each: the first page of 200 webhooks with
/// their health, and the webhook's stats over the longest windows its bucket sizes allow
/// (15 days at 15 minutes is 1,440 buckets; 30 days of them would be more than 1,500).
async fn time_glance(api: &Api, webhook_id: &str) -> anyhow::Result<String> {
    let now = chrono::Utc::now();
    let since = |days: i64| (now - chrono::Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let stats = format!("/api/v1/webhooks/{webhook_id}/stats");
    let asks = [
        ("list of 200 with health", "/api/v1/webhooks?limit=200".to_owned()),
        ("stats 15 d at 15m", format!("{stats}?since={}&bucket=15m", since(15))),
        ("stats 30 d at 1h", format!("{stats}?since={}&bucket=1h", since(30))),
        ("stats 30 d at 1d", format!("{stats}?since={}&bucket=1d", since(30))),
    ];
    let mut notes = Vec::new();
    for (what, path) in asks {
        let mut took = Vec::new();
        for _ in 0..50 {
            let (status, d) = api.get(&path).await?;
            anyhow::ensure!(status == 200, "{what} answered {status}");
            took.push(d.as_secs_f64() * 1000.0);
        }
        took.sort_by(f64::total_cmp);
        notes.push(format!("{what} p50 {:.1} ms p99 {:.1} ms", quantile(&took, 0.5), quantile(&took, 0.99)));
    }
    Ok(notes.join(", "))
}

/// Seeds `rows` attempt logs over the last 24 h for one webhook (5 attempts per delivery:
/// 4 failures then a success), and the stats rollups that the dispatcher would have
/// written for them, computed by the service's own rollup code.
async fn seed_logs(db: &str, webhook_id: &str, rows: u64) -> anyhow::Result<()> {
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
    let seed = Seed { tenant, webhook, deliveries, start, step_us };
    client.batch_execute(&seed.sql()).await?;
    let inc = seed.rollups();
    let pool = hookrelay::db::build_pool(db, 2)?;
    let conn = pool.get().await?;
    hookrelay::db::stats::apply(&conn, inc).await?;
    client.batch_execute("ANALYZE").await?;
    Ok(())
}

/// What `seed_logs` writes: `deliveries` of one webhook, spread `step_us` apart from `start`.
#[derive(Clone, Copy)]
struct Seed {
    tenant: uuid::Uuid,
    webhook: uuid::Uuid,
    deliveries: i64,
    start: chrono::DateTime<chrono::Utc>,
    step_us: i64,
}

impl Seed {
    /// The statements that insert the events, the deliveries and their attempt logs.
    fn sql(&self) -> String {
        let Seed { tenant, webhook, deliveries, start, step_us } = *self;
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
        format!(
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
        )
    }

    /// The stats rollups the dispatcher would have written for the seeded attempts.
    fn rollups(&self) -> Increments {
        let Seed { tenant, webhook, deliveries, start, step_us } = *self;
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
        inc
    }
}
