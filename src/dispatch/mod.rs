//! The dispatcher: claims due deliveries, attempts them over HTTP, records outcomes.

pub mod listener;
pub mod recorder;
pub mod retention;
pub mod schedule;
pub mod sender;
pub mod signing;
pub mod ssrf;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use secrecy::ExposeSecret;
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::db::logs::AttemptLog;
use crate::db::queue::{self, Claim, Claimed, Next, Outcome, WAKE_CHANNEL};
use crate::db::PgPool;
use crate::metrics::Metrics;
use sender::{AttemptResult, Sender};

/// Deliveries of this process whose attempt has ended but whose outcome is not recorded
/// yet: their leases still exist, but they are no longer attempts in flight.
pub type Finished = Arc<std::sync::Mutex<std::collections::HashSet<uuid::Uuid>>>;

/// Most deliveries claimed in one statement. Claims are serialised, so under load the
/// claim rate bounds throughput: fan-out to 10 webhooks ran at ~6,600 deliveries/s with
/// 100 per claim (and 256 attempts in flight), ~8,400/s with 200 (and 512).
const CLAIM_BATCH: usize = 200;

/// Runs until `shutdown` is cancelled; then stops claiming, lets in-flight attempts
/// finish, records their outcomes and returns.
///
/// `wake` is notified when new work is committed (by this process's API directly, by
/// others through LISTEN/NOTIFY).
pub async fn run(
    pool: PgPool,
    config: Arc<Config>,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let sender = Arc::new(Sender::new(config.attempt_timeout, config.allow_private_targets)?);
    let on_work = {
        let wake = wake.clone();
        // this process's own publishes woke the claim loop directly already
        move |payload: &str| {
            if payload != queue::instance() {
                wake.notify_one();
            }
        }
    };
    let listener = tokio::spawn(listener::listen(config.clone(), WAKE_CHANNEL, on_work, shutdown.clone()));
    let purger = tokio::spawn(retention::run(pool.clone(), config.clone(), shutdown.clone()));
    let (outcomes, outcomes_rx) = mpsc::unbounded_channel();
    // notified when attempts end and after each recorded batch: slots of limited webhooks
    // may have freed
    let freed = Arc::new(Notify::new());
    let finished = Finished::default();
    // The claim loop and the recorder each run their few statements, one at a time, on a
    // connection of their own: their cached plans (the claim's takes milliseconds to make)
    // are made once per connection, and again after each VACUUM or ANALYZE of a table
    // they read (migration 8 keeps those rare). Taken from the shared pool, they were
    // remade on every pooled connection in turn: a cluster of slow claims each time.
    let url = config.database_url.expose_secret();
    let claims = crate::db::build_pool_with(url, 1, queue::CLAIM_SETTINGS)?;
    let records = crate::db::build_pool(url, 1)?;
    let recorder = tokio::spawn(recorder::record(records, outcomes_rx, freed.clone(), wake.clone(), finished.clone()));
    let slots = Arc::new(Semaphore::new(config.dispatch_concurrency));
    let mut in_flight = JoinSet::new();
    tracing::info!(concurrency = config.dispatch_concurrency, "dispatcher started");

    while !shutdown.is_cancelled() {
        while in_flight.try_join_next().is_some() {}
        let free = slots.available_permits();
        if free == 0 {
            tokio::select! {
                _ = slots.acquire() => {}
                _ = shutdown.cancelled() => break,
            }
            continue;
        }
        let asked = free.min(CLAIM_BATCH);
        let Claim { claimed, held_back, next_due } = match claim(&claims, asked, config.lease, &finished).await {
            Ok(claim) => claim,
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "claiming deliveries failed; retrying shortly");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = shutdown.cancelled() => break,
                }
                continue;
            }
        };
        let got = claimed.len();
        metrics.claimed(got);
        for delivery in claimed {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            let sender = sender.clone();
            let outcomes = outcomes.clone();
            let metrics = metrics.clone();
            let (finished, freed) = (finished.clone(), freed.clone());
            in_flight.spawn(async move {
                let result = sender.attempt(&delivery).await;
                metrics.attempt(result.error_kind.map(|k| k.as_str()), result.duration.as_secs_f64());
                if let Ok(mut f) = finished.lock() {
                    f.insert(delivery.delivery_id);
                }
                freed.notify_one();
                // the receiver lives until every sender is dropped
                let _ = outcomes.send(outcome(&delivery, result));
                drop(permit);
            });
        }
        if got == asked {
            continue;
        }
        // until the next scheduled attempt, at most the poll interval
        let pause = next_due
            .map_or(config.poll_interval, |at| (at - Utc::now()).to_std().unwrap_or(Duration::ZERO))
            .min(config.poll_interval);
        tokio::select! {
            _ = wake.notified() => {}
            _ = freed.notified(), if held_back => {}
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.cancelled() => break,
        }
    }

    tracing::info!(in_flight = in_flight.len(), "dispatcher stopping: finishing in-flight attempts");
    while in_flight.join_next().await.is_some() {}
    drop(outcomes);
    recorder.await??;
    listener.abort();
    purger.abort();
    tracing::info!("dispatcher stopped");
    Ok(())
}

async fn claim(pool: &PgPool, limit: usize, lease: Duration, finished: &Finished) -> anyhow::Result<Claim> {
    let finished: Vec<uuid::Uuid> = finished.lock().map(|f| f.iter().copied().collect()).unwrap_or_default();
    let mut conn = pool.get().await?;
    Ok(queue::claim(&mut conn, limit, lease, &finished).await?)
}

/// A UUID v7 from the attempt's start, so that logs ordered by id are ordered by time.
fn log_id(started_at: chrono::DateTime<Utc>) -> uuid::Uuid {
    let secs = u64::try_from(started_at.timestamp()).unwrap_or(0);
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, started_at.timestamp_subsec_nanos()))
}

/// Turns an attempt's result into what the database records: the log row and the
/// delivery's next state under the webhook's schedule.
fn outcome(d: &Claimed, r: AttemptResult) -> Outcome {
    let series_attempts = d.series_attempts + 1;
    let next = if r.success() {
        Next::Succeeded
    } else {
        let schedule = d.retry_schedule.as_deref().unwrap_or(&schedule::DEFAULT_SCHEDULE);
        match schedule::retry_delay(schedule, u32::try_from(series_attempts).unwrap_or(u32::MAX)) {
            Some(delay) => Next::RetryAt(r.finished_at + chrono::Duration::from_std(delay).unwrap_or_default()),
            None => Next::Failed,
        }
    };
    Outcome {
        delivery_id: d.delivery_id,
        lease_id: d.lease_id,
        series_attempts,
        next,
        delivery_created_at: d.delivery_created_at,
        log: AttemptLog {
            id: log_id(r.started_at),
            tenant_id: d.tenant_id,
            delivery_id: d.delivery_id,
            event_id: d.event_id,
            webhook_id: d.webhook_id,
            event_type: d.event_type.clone(),
            attempt: d.attempt_count + 1,
            success: r.success(),
            request_url: d.url.clone(),
            response_status: r.status.map(i32::from),
            response_body: r.body,
            duration_ms: i32::try_from(r.duration.as_millis()).unwrap_or(i32::MAX),
            error_kind: r.error_kind.map(|k| k.as_str().to_owned()),
            error_message: r.error_message,
            test: d.test,
            created_at: r.started_at,
            response_headers: r.headers,
        },
    }
}
