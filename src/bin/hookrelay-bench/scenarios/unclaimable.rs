//! Scenarios 9, 10 and 13: tenant A's large backlog that no claim can take — due to an
//! inactive webhook (parked), of a webhook A deletes, due to a webhook whose receiver never
//! answers (saturated) — beside tenant B publishing 2 events/s to a healthy endpoint.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::tenants::Healthy;
use super::{start_service, stop_service, Row};
use crate::harness::{sql, Api};
use crate::Args;

/// What tenant A does to its backlog in scenarios 9, 10 and 13.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Harm {
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

impl Harm {
    /// The scenario's name on the command line, which also names its database.
    fn name(self) -> &'static str {
        match self {
            Harm::Inactive => "parked",
            Harm::Delete => "delete",
            Harm::Saturated => "saturated",
        }
    }

    /// The scenario's name in the table.
    fn scenario(self) -> &'static str {
        match self {
            Harm::Inactive => "9 parked backlog",
            Harm::Delete => "10 big delete",
            Harm::Saturated => "13 saturated backlog",
        }
    }

    /// What A's backlog is, for B's notes, given how long the upkeep took to park it.
    fn what(self, parked_in: Option<Duration>) -> String {
        match (self, parked_in) {
            (Harm::Inactive, Some(t)) => format!("due to an inactive webhook (parked in {:.0} s)", t.as_secs_f64()),
            (Harm::Inactive, None) => "due to an inactive webhook".to_owned(),
            (Harm::Delete, _) => "of a webhook A deletes".to_owned(),
            (Harm::Saturated, Some(t)) => {
                format!("due to a webhook whose receiver never answers (parked in {:.0} s)", t.as_secs_f64())
            }
            (Harm::Saturated, None) => "due to a webhook whose receiver never answers (not parked)".to_owned(),
        }
    }
}

/// Scenarios 9, 10 and 13: tenant A's large backlog that no claim can take, beside tenant B
/// publishing 2 events/s to a healthy endpoint. B's publish and end-to-end figures, and
/// the longest stretch in which B's attempts arrived but none was recorded.
pub(super) async fn unclaimable(args: &Args, seconds: f64, rows: u64, harm: Harm) -> anyhow::Result<Row> {
    let (db, hookrelay, extra) = start_service(args, harm.name(), &[]).await?;
    let a = Api::sign_up(&hookrelay.base).await?;
    let doomed_id = add_doomed_webhook(&a, harm).await?;
    let client = sql(&db).await?;
    seed_backlog(&client, &doomed_id, rows, harm).await?;
    let parked_in = wait_parked(&client, rows, harm).await;
    let b = Healthy::sign_up(&hookrelay.base).await?;
    let b_tenant: String = client
        .query_one("SELECT tenant_id::text FROM webhooks WHERE id = $1::text::uuid", &[&b.webhook_id])
        .await?
        .get(0);
    let deleting = (harm == Harm::Delete).then(|| delete_soon(a.clone(), &doomed_id));
    let stall = Arc::new(AtomicU64::new(0));
    let watching = tokio::spawn(recording_stall(client, b_tenant, b.receiver.unique.clone(), stall.clone()));
    let measured = b.measure(seconds).await;
    // the last arrivals' recording
    tokio::time::sleep(Duration::from_secs(2)).await;
    watching.abort();
    let stall = Duration::from_micros(stall.load(Ordering::Relaxed));
    let deleted = deletion_note(deleting).await;
    let peak = hookrelay.peak_rss_mib();
    stop_service(hookrelay, extra);
    let what = harm.what(parked_in);
    Ok(measured.row(&b, harm.scenario(), peak, |_| {
        format!(
            "B's figures beside A's {rows} deliveries {what}; longest recording stall of B's attempts {:.0} ms{deleted}",
            stall.as_secs_f64() * 1000.0
        )
    }))
}

/// A's webhook that will hold the backlog: inactive for `Harm::Inactive`, on a receiver
/// that never answers for `Harm::Saturated`, on a closed port otherwise. Returns its id.
async fn add_doomed_webhook(a: &Api, harm: Harm) -> anyhow::Result<String> {
    let url = match harm {
        Harm::Saturated => format!("http://{}/", hanging_receiver().await?),
        _ => "http://127.0.0.1:9/".to_owned(),
    };
    let doomed = a
        .webhook(json!({"name": "backlog", "url": url, "events": ["noisy.*"],
            "active": harm != Harm::Inactive, "rateLimitPerMinute": null}))
        .await?;
    Ok(doomed["id"].as_str().unwrap_or_default().to_owned())
}

/// Inserts `rows` pending deliveries of the webhook `doomed_id`, and analyzes them.
async fn seed_backlog(client: &tokio_postgres::Client, doomed_id: &str, rows: u64, harm: Harm) -> anyhow::Result<()> {
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
    Ok(())
}

/// Waits until the upkeep has parked A's backlog; how long that took, or `None` if it did
/// not within the wait's bound (or there is nothing to wait for).
async fn wait_parked(client: &tokio_postgres::Client, rows: u64, harm: Harm) -> Option<Duration> {
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
    parked_in
}

/// Deletes the webhook `doomed_id` of A's after 2 s, while B is measured.
fn delete_soon(a: Api, doomed_id: &str) -> tokio::task::JoinHandle<anyhow::Result<(u16, Duration)>> {
    let path = format!("/api/v1/webhooks/{doomed_id}");
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        a.delete(&path).await
    })
}

/// How A's DELETE went, for B's notes (empty when A deleted nothing).
async fn deletion_note(deleting: Option<tokio::task::JoinHandle<anyhow::Result<(u16, Duration)>>>) -> String {
    match deleting {
        Some(task) => match task.await {
            Ok(Ok((status, took))) => {
                format!("; A's DELETE answered {status} in {:.0} ms", took.as_secs_f64() * 1000.0)
            }
            Ok(Err(err)) => format!("; A's DELETE failed: {err}"),
            Err(err) => format!("; A's DELETE failed: {err}"),
        },
        None => String::new(),
    }
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
