//! Writes attempt outcomes in batches, so that one commit serves many attempts: every
//! outcome that arrives while the previous batch commits goes into the next one, and a
//! batch waits up to [`LINGER`] for more (until it holds [`LINGER_UNTIL`]) before it is
//! written.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Notify};

use crate::queue::{Next, Outcome, Queue, QueueError};

const MAX_BATCH: usize = 500;

/// How long a batch waits for more outcomes, from its first. At moderate rates attempts
/// end a few milliseconds apart, and without the wait each would be a recording
/// transaction of its own: its commit, its WAL flush and a dozen statements, most of the
/// CPU a delivery costs (docs/performance.md, "Where the CPU goes"). Nothing waits on the recording:
/// an attempt's concurrency slot is free when the attempt ends (claims are told which
/// leases are finished), and a retry is seconds away. What it costs is that a log appears
/// this much later, and that a process killed meanwhile leaves these attempts to be made
/// again when their leases expire (at-least-once, as for an attempt in flight).
const LINGER: Duration = Duration::from_millis(100);

/// A batch this big is written without waiting longer. Outcomes held for recording keep
/// their deliveries due in the queue under a finished lease, and every claim walks past
/// them: at saturation a full 100 ms wait (some 400 outcomes) cut one endpoint's throughput
/// by a tenth. (64 is also the most ended leases the claim's fast path takes.)
const LINGER_UNTIL: usize = 64;

/// Runs until every sender of `rx` is dropped and all received outcomes are written.
/// After each batch it notifies `freed` (leases were released), and `wake` when the batch
/// scheduled a retry (the claim loop recomputes when to look next) or failed a delivery
/// (operational events may have been published).
pub async fn record<Q: Queue>(
    queue: Arc<Q>,
    mut rx: mpsc::UnboundedReceiver<Outcome>,
    freed: Arc<Notify>,
    wake: Arc<Notify>,
    finished: super::finished::Finished,
) -> anyhow::Result<()> {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let deadline = tokio::time::Instant::now() + LINGER;
        while batch.len() < LINGER_UNTIL {
            let room = MAX_BATCH - batch.len();
            tokio::select! {
                // 0: every sender is gone (shutdown); write what there is
                got = rx.recv_many(&mut batch, room) => if got == 0 { break },
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        write(queue.as_ref(), &batch).await;
        {
            let mut f = super::finished::lock(&finished);
            for o in &batch {
                f.remove(&o.delivery_id);
            }
        }
        // a delivery that ended failed publishes `hookrelay.delivery.failed` to the
        // webhooks that subscribe to it
        if batch.iter().any(|o| matches!(o.next, Next::RetryAt(_) | Next::Failed)) {
            wake.notify_one();
        }
        batch.clear();
        // leases were released: work held back by a limit may go now
        freed.notify_one();
    }
    Ok(())
}

/// Retries until the batch is written, as long as the queue is unreachable. A batch the
/// queue keeps refusing (bad data rather than a lost connection) is written one outcome
/// at a time, and an outcome still refused is given up after a few tries: its lease
/// expires and the delivery is attempted again, so nothing accepted is lost
/// (at-least-once), and one bad outcome cannot stop all recording.
async fn write<Q: Queue>(queue: &Q, batch: &[Outcome]) {
    const REFUSALS_BEFORE_SPLIT: u32 = 3;
    let mut delay = Duration::from_millis(100);
    let mut refusals = 0;
    loop {
        let err = match queue.record(batch).await {
            Ok(()) => return,
            Err(err) => err,
        };
        if let QueueError::Refused(message) = &err {
            refusals += 1;
            if refusals >= REFUSALS_BEFORE_SPLIT {
                if batch.len() > 1 {
                    for one in batch {
                        Box::pin(write(queue, std::slice::from_ref(one))).await;
                    }
                } else {
                    tracing::error!(error = %message, delivery = %batch[0].delivery_id,
                        "the queue refuses this outcome; dropped, the delivery will be attempted again");
                }
                return;
            }
        }
        tracing::warn!(error = %err, outcomes = batch.len(), "recording outcomes failed; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
