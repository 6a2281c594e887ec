//! The upkeep task: parks the deliveries that no claim can take now and unparks them when
//! their webhook can run again, and keeps slow webhooks' backlogs to a window
//! (`db::parking`), deletes what deleted webhooks leave
//! (`db::webhooks::purge_deleted`), re-queues the deliveries of recoveries
//! (`db::recoveries`), disables webhooks that keep failing and evaluates which are degraded
//! (`db::health`), and fails relay deliveries that waited too long for a listener
//! (`queue::pg::relay`). Every dispatcher runs it; the statements skip rows that another process
//! holds, or change only what is still to change, so several can run side by side.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::relayed;
use crate::config::Config;
use crate::db::{health, parking, recoveries, relay_listeners, webhooks, PgPool};
use crate::queue::pg::relay;

/// How often it runs: an unpark comes within this of its webhook's reactivation (a pause
/// is unparked ahead of its end, see `db::parking`).
const EVERY: Duration = Duration::from_secs(1);
/// Rows of the due queue's front looked at for webhooks whose deliveries can be parked.
const FRONT: i64 = 5_000;
/// Deliveries of one webhook walked per parking statement.
const PARK_BATCH: i64 = 10_000;
/// Time one round may spend deleting what deleted webhooks leave, and as much again
/// re-queueing recovered deliveries, so that unparking (the next round's first step) is
/// never held up for long.
const BUDGET: Duration = Duration::from_secs(2);
/// Rows per unpark, purge and recovery statement: small, so that no statement holds locks long.
const BATCH: i64 = 2_000;

/// Runs until `shutdown`; notifies `wake` when deliveries came back to the due queue.
pub async fn run(pool: PgPool, config: Arc<Config>, wake: Arc<Notify>, shutdown: CancellationToken) {
    // the first evaluation waits a whole interval: a process just started has seen nothing
    let mut evaluated = Instant::now();
    let mut windows = parking::Windows::default();
    let mut offline_checked = Instant::now();
    loop {
        if let Err(err) = round(&pool, &config, &wake, &mut windows).await {
            tracing::warn!(error = format!("{err:#}"), "delivery upkeep failed; will retry");
        }
        // a relay's hold is hours by default: a pass every quarter of it (at most a minute
        // apart) fails what outlived it soon enough, without walking the relay backlogs
        // every second
        if offline_checked.elapsed() >= (config.relay_hold / 4).clamp(Duration::from_secs(1), Duration::from_secs(60)) {
            offline_checked = Instant::now();
            if let Err(err) = fail_offline(&pool, &config).await {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "failing relay deliveries past their hold failed; will retry"
                );
            }
        }
        if evaluated.elapsed() >= config.health_interval {
            evaluated = Instant::now();
            if let Err(err) = evaluate(&pool, &wake).await {
                tracing::warn!(error = format!("{err:#}"), "endpoint health evaluation failed; will retry");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY.min(config.health_interval)) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

async fn round(pool: &PgPool, config: &Config, wake: &Notify, windows: &mut parking::Windows) -> anyhow::Result<()> {
    let mut conn = pool.get().await.map_err(|err| anyhow::anyhow!("database pool: {err}"))?;
    let unparked = parking::unpark(&mut conn, BATCH, || wake.notify_one()).await?
        + parking::top_up(&mut conn, || wake.notify_one()).await?;
    if unparked > 0 {
        tracing::debug!(unparked, "deliveries back in the due queue");
    }
    let purged = webhooks::purge_deleted(&mut conn, BATCH, BUDGET).await?;
    if purged > 0 {
        tracing::info!(purged, "deliveries of deleted webhooks deleted");
    }
    let requeued = recoveries::run(&mut conn, BATCH, BUDGET, || wake.notify_one()).await?;
    if requeued > 0 {
        tracing::info!(requeued, "failed deliveries re-queued by recoveries");
    }
    if let Some(rule) = config.auto_disable {
        let disabled = health::disable_failing(&mut conn, rule).await?;
        if disabled > 0 {
            tracing::info!(disabled, "webhooks disabled for failing");
            wake.notify_one();
        }
    }
    let parked = parking::park_front(&mut conn, FRONT, PARK_BATCH, windows).await?
        + parking::park_arrivals(&mut conn, PARK_BATCH, windows).await?;
    if parked > 0 {
        tracing::debug!(parked, "deliveries parked");
    }
    Ok(())
}

/// Fails the deliveries of relay webhooks that waited longer than `HOOKRELAY_RELAY_HOLD`
/// while no listener was connected: leased, then recorded like any attempt (a log with
/// `relay_offline`, stats, `hookrelay.delivery.failed`), at most [`BATCH`] per round.
async fn fail_offline(pool: &PgPool, config: &Config) -> anyhow::Result<()> {
    let Ok(hold) = chrono::Duration::from_std(config.relay_hold) else { return Ok(()) };
    let mut conn = pool.get().await.map_err(|err| anyhow::anyhow!("database pool: {err}"))?;
    let conn = &mut *conn;
    let gone_after = Duration::from_secs(relay_listeners::GONE_AFTER_SECS.unsigned_abs());
    let leased = relay::claim_offline(conn, Utc::now() - hold, gone_after, BATCH, config.lease, &config.sealer).await?;
    if leased.is_empty() {
        return Ok(());
    }
    let outcomes: Vec<_> = leased.iter().map(|d| relayed::offline(d, config.relay_hold)).collect();
    crate::queue::pg::record(conn, &outcomes).await?;
    tracing::info!(failed = outcomes.len(), "relay deliveries failed: no listener within HOOKRELAY_RELAY_HOLD");
    Ok(())
}

async fn evaluate(pool: &PgPool, wake: &Notify) -> anyhow::Result<()> {
    let mut conn = pool.get().await.map_err(|err| anyhow::anyhow!("database pool: {err}"))?;
    let changed = health::evaluate(&mut conn, Utc::now()).await?;
    if changed > 0 {
        tracing::info!(changed, "webhooks degraded or recovered");
        wake.notify_one();
    }
    Ok(())
}
