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

/// Retries until the batch is written. Nothing is lost if the process dies meanwhile:
/// the leases expire and the deliveries are attempted again (at-least-once).
async fn write(pool: &PgPool, batch: &[Outcome]) {
    let mut delay = Duration::from_millis(100);
    loop {
        let result = match pool.get().await {
            Ok(mut conn) => queue::record(&mut conn, batch).await.map_err(anyhow::Error::from),
            Err(err) => Err(anyhow::anyhow!("database pool: {err}")),
        };
        match result {
            Ok(()) => return,
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    outcomes = batch.len(),
                    "recording outcomes failed; retrying"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
