//! Writes attempt outcomes in batches: every outcome that arrives while the previous
//! batch commits goes into the next transaction, so one commit serves many attempts.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Notify};

use crate::db::queue::{self, Next, Outcome};
use crate::db::PgPool;

const MAX_BATCH: usize = 500;

/// Runs until every sender of `rx` is dropped and all received outcomes are written.
/// After each batch it notifies `freed` (leases were released), and `wake` when the batch
/// scheduled a retry, so that the claim loop recomputes when to look next.
pub async fn record(
    pool: PgPool,
    mut rx: mpsc::UnboundedReceiver<Outcome>,
    freed: Arc<Notify>,
    wake: Arc<Notify>,
    finished: super::Finished,
) -> anyhow::Result<()> {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        write(&pool, &batch).await;
        if let Ok(mut f) = finished.lock() {
            for o in &batch {
                f.remove(&o.delivery_id);
            }
        }
        if batch.iter().any(|o| matches!(o.next, Next::RetryAt(_))) {
            wake.notify_one();
        }
        batch.clear();
        // leases were released: work held back by a limit may go now
        freed.notify_one();
    }
    Ok(())
}

/// Retries until the batch is written, as long as the database is unreachable. A batch
/// the database keeps refusing (bad data rather than a lost connection) is written one
/// outcome at a time, and an outcome still refused is given up after a few tries: its
/// lease expires and the delivery is attempted again, so nothing accepted is lost
/// (at-least-once), and one bad outcome cannot stop all recording.
async fn write(pool: &PgPool, batch: &[Outcome]) {
    const REFUSALS_BEFORE_SPLIT: u32 = 3;
    let mut delay = Duration::from_millis(100);
    let mut refusals = 0;
    loop {
        let result = match pool.get().await {
            Ok(mut conn) => queue::record(&mut conn, batch).await.map_err(Refusal::Database),
            Err(err) => Err(Refusal::Pool(err.to_string())),
        };
        let err = match result {
            Ok(()) => return,
            Err(err) => err,
        };
        if let Refusal::Database(diesel::result::Error::DatabaseError(kind, info)) = &err {
            // the server answered, so retrying the same rows will not help
            if !matches!(kind, diesel::result::DatabaseErrorKind::ClosedConnection) {
                refusals += 1;
                if refusals >= REFUSALS_BEFORE_SPLIT {
                    if batch.len() > 1 {
                        for one in batch {
                            Box::pin(write(pool, std::slice::from_ref(one))).await;
                        }
                    } else {
                        tracing::error!(error = info.message(), delivery = %batch[0].delivery_id,
                            "the database refuses this outcome; dropped, the delivery will be attempted again");
                    }
                    return;
                }
            }
        }
        tracing::warn!(error = %err, outcomes = batch.len(), "recording outcomes failed; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("database: {0}")]
    Database(diesel::result::Error),
    #[error("database pool: {0}")]
    Pool(String),
}
