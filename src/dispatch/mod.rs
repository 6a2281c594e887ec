//! The dispatcher: claims due deliveries, attempts them over HTTP, records outcomes.

pub mod finished;
pub mod intake;
pub mod lanes;
pub mod recorder;
pub mod relayed;
pub mod retention;
pub mod retry_after;
pub mod schedule;
pub mod sender;
pub mod signing;
pub mod ssrf;
pub mod upkeep;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::db::logs::AttemptLog;
use crate::db::PgPool;
use crate::domain::ids::{DeliveryId, ErrorKind};
use crate::metrics::Metrics;
use crate::queue::{Claim, ClaimRequest, Leased, Next, Outcome, Queue, Strain};
use finished::lock;
pub use finished::Finished;
use lanes::{Lanes, Ticket};
use sender::{AttemptResult, Sender};

/// Most deliveries claimed in one statement. Claims are serialised, so under load the
/// claim rate bounds throughput (see docs/performance.md).
const CLAIM_BATCH: usize = 200;

/// What the claim loop and its attempts share.
struct Dispatcher<Q> {
    queue: Arc<Q>,
    config: Arc<Config>,
    metrics: Arc<Metrics>,
    sender: Arc<Sender>,
    lanes: Arc<Lanes>,
    outcomes: mpsc::UnboundedSender<Outcome>,
    /// notified when attempts end and after each recorded batch: slots of limited
    /// webhooks, and room in the slow lane, may have freed
    freed: Arc<Notify>,
    finished: Finished,
}

/// Runs until `shutdown` is cancelled; then stops claiming, lets in-flight attempts
/// finish, records their outcomes and returns.
///
/// `wake` is notified when new work is committed (by this process's API directly, by
/// others through the queue's own wake-ups); `inbox` brings the deliveries that this
/// process's publishes claimed for it (its lanes are the dispatcher's, see
/// [`intake::intake`]).
pub async fn run<Q: Queue>(
    queue: Q,
    pool: PgPool,
    config: Arc<Config>,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
    inbox: intake::Inbox,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let intake::Inbox { lanes, finished, waiting, mut handed } = inbox;
    let queue = Arc::new(queue);
    let watcher = tokio::spawn({
        let wake = wake.clone();
        queue.watch(move || wake.notify_one(), shutdown.clone())
    });
    let purger = tokio::spawn(retention::run(pool.clone(), config.clone(), shutdown.clone()));
    let upkeep = tokio::spawn(upkeep::run(pool, config.clone(), wake.clone(), shutdown.clone()));
    let (outcomes, outcomes_rx) = mpsc::unbounded_channel();
    let freed = Arc::new(Notify::new());
    let recorder =
        tokio::spawn(recorder::record(queue.clone(), outcomes_rx, freed.clone(), wake.clone(), finished.clone()));
    let dispatcher = Dispatcher {
        queue,
        sender: Arc::new(Sender::new(config.attempt_timeout, config.allow_private_targets, config.dns.clone())?),
        lanes,
        config: config.clone(),
        metrics,
        outcomes,
        freed,
        finished,
    };
    tracing::info!(concurrency = config.dispatch_concurrency, "dispatcher started");
    let mut in_flight = JoinSet::new();
    dispatcher.claim_loop(&mut in_flight, &mut handed, &waiting, &wake, &shutdown).await;
    waiting.store(false, Ordering::Relaxed);
    // what publishes claimed before the intake closed is attempted like the rest in flight
    handed.close();
    while let Some(batch) = handed.recv().await {
        dispatcher.start_handed(&mut in_flight, batch);
    }

    tracing::info!(in_flight = in_flight.len(), "dispatcher stopping: finishing in-flight attempts");
    while in_flight.join_next().await.is_some() {}
    drop(dispatcher);
    recorder.await??;
    // the watcher ends on shutdown after it has said so to the queue (a PostgreSQL queue
    // deletes this dispatcher's registration); a queue that cannot be reached is not waited for
    let watcher_abort = watcher.abort_handle();
    if tokio::time::timeout(Duration::from_secs(2), watcher).await.is_err() {
        watcher_abort.abort();
    }
    purger.abort();
    upkeep.abort();
    tracing::info!("dispatcher stopped");
    Ok(())
}

impl<Q: Queue> Dispatcher<Q> {
    /// Claims as much as the free fast slots allow, starts the attempts, and sleeps
    /// until work may be due again; attempts handed over by publishes start meanwhile.
    async fn claim_loop(
        &self,
        in_flight: &mut JoinSet<()>,
        handed: &mut mpsc::UnboundedReceiver<intake::Handed>,
        waiting: &AtomicBool,
        wake: &Notify,
        shutdown: &CancellationToken,
    ) {
        while !shutdown.is_cancelled() {
            while in_flight.try_join_next().is_some() {}
            let free = self.lanes.free();
            if free == 0 {
                tokio::select! {
                    _ = self.lanes.slot_freed() => {}
                    Some(batch) = handed.recv() => self.start_handed(in_flight, batch),
                    _ = shutdown.cancelled() => break,
                }
                continue;
            }
            let asked = free.min(CLAIM_BATCH);
            let skips = self.lanes.skips();
            let finished: Vec<DeliveryId> = lock(&self.finished).iter().copied().collect();
            let request =
                ClaimRequest { limit: asked, lease: self.config.lease, finished: &finished, skip_webhooks: &skips };
            let Claim { claimed, held_back, next_due } = match self.queue.claim(request).await {
                Ok(claim) => claim,
                Err(err) => {
                    tracing::warn!(error = %err, "claiming deliveries failed; retrying shortly");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                        _ = shutdown.cancelled() => break,
                    }
                    continue;
                }
            };
            let got = claimed.len();
            self.metrics.claimed(got);
            for delivery in claimed {
                let Some(ticket) = self.lanes.enter(delivery.webhook_id).await else {
                    break;
                };
                in_flight.spawn(self.attempt(delivery, ticket));
            }
            if got == asked {
                continue;
            }
            // work left for a limit or a full slow lane is worth a claim when a slot frees
            let held_back = held_back || !skips.is_empty();
            let pause = next_due
                .map_or(self.config.poll_interval, |at| (at - Utc::now()).to_std().unwrap_or(Duration::ZERO))
                .min(self.config.poll_interval);
            let sleep = tokio::time::sleep(pause);
            tokio::pin!(sleep);
            // handed attempts need no claim: keep waiting for a reason to claim after them
            waiting.store(true, Ordering::Relaxed);
            loop {
                tokio::select! {
                    _ = wake.notified() => break,
                    _ = self.freed.notified(), if held_back => break,
                    _ = &mut sleep => break,
                    Some(batch) = handed.recv() => self.start_handed(in_flight, batch),
                    _ = shutdown.cancelled() => return,
                }
            }
            waiting.store(false, Ordering::Relaxed);
        }
    }

    /// Starts attempts that a publish claimed, in the slots it reserved for them.
    fn start_handed(&self, in_flight: &mut JoinSet<()>, batch: intake::Handed) {
        self.metrics.claimed(batch.len());
        for (delivery, ticket) in batch {
            in_flight.spawn(self.attempt(delivery, ticket));
        }
    }

    /// One attempt, moved to the slow lane if it runs long, its outcome handed to the
    /// recorder.
    fn attempt(&self, delivery: Leased, mut ticket: Ticket) -> impl std::future::Future<Output = ()> + Send + 'static {
        let (sender, outcomes, metrics) = (self.sender.clone(), self.outcomes.clone(), self.metrics.clone());
        let (finished, freed) = (self.finished.clone(), self.freed.clone());
        let max_retry_after = self.config.max_retry_after;
        async move {
            let attempt = sender.attempt(&delivery);
            tokio::pin!(attempt);
            let result = tokio::select! {
                result = &mut attempt => result,
                _ = tokio::time::sleep(lanes::SLOW_AFTER) => {
                    ticket.to_slow_lane();
                    attempt.await
                }
            };
            metrics.attempt(result.error_kind.map(|k| k.as_str()), result.duration.as_secs_f64());
            lock(&finished).insert(delivery.delivery_id);
            drop(ticket);
            freed.notify_one();
            // the receiver lives until every sender is dropped
            let _ = outcomes.send(outcome(&delivery, result, max_retry_after));
        }
    }
}

/// A UUID v7 from the attempt's start, so that logs ordered by id are ordered by time.
fn log_id(started_at: chrono::DateTime<Utc>) -> uuid::Uuid {
    let secs = u64::try_from(started_at.timestamp()).unwrap_or(0);
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, started_at.timestamp_subsec_nanos()))
}

/// Turns an attempt's result into what the queue records: the log row, the delivery's
/// next state under the webhook's schedule, and what the attempt says about the endpoint.
///
/// A receiver's Retry-After (capped at `max_retry_after`) puts the delivery's next attempt
/// at max(schedule, Retry-After) and pauses the endpoint until that same moment (SPEC
/// "Back-pressure from receivers"); a delivery with no attempt left pauses it until the
/// Retry-After.
pub(crate) fn outcome(d: &Leased, r: AttemptResult, max_retry_after: Duration) -> Outcome {
    let series_attempts = d.series_attempts + 1;
    let asked_until = r.retry_after.map(|after| after_delay(r.finished_at, after.min(max_retry_after)));
    let next = if r.success() {
        Next::Succeeded
    } else {
        let schedule = d.retry_schedule.as_deref().unwrap_or(&schedule::DEFAULT_SCHEDULE);
        match schedule::retry_delay(schedule, u32::try_from(series_attempts).unwrap_or(u32::MAX)) {
            Some(delay) => {
                let scheduled = after_delay(r.finished_at, delay);
                Next::RetryAt(asked_until.map_or(scheduled, |asked| scheduled.max(asked)))
            }
            None => Next::Failed,
        }
    };
    let pause_until = match (asked_until, next) {
        (Some(_), Next::RetryAt(at)) => Some(at),
        (asked, _) => asked,
    };
    let strain = match r.error_kind {
        None => Strain::Eased,
        Some(ErrorKind::Timeout | ErrorKind::Connect) => Strain::Strained,
        Some(_) => Strain::Unchanged,
    };
    Outcome {
        delivery_id: d.delivery_id,
        lease_id: d.lease_id,
        series_attempts,
        next,
        delivery_created_at: d.delivery_created_at,
        pause_until,
        strain,
        throttled: d.throttled,
        log: AttemptLog {
            id: log_id(r.started_at),
            tenant_id: d.tenant_id.0,
            delivery_id: d.delivery_id.0,
            event_id: d.event_id.0,
            webhook_id: d.webhook_id.0,
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

/// `delay` after `t`, saturating at the latest representable time (a configured cap of
/// millennia must not overflow).
fn after_delay(t: DateTime<Utc>, delay: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(delay).ok().and_then(|d| t.checked_add_signed(d)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}
