//! The upkeep task: parks the deliveries that no claim can take now and unparks them when
//! their webhook can run again (`db::parking`), and deletes what deleted webhooks leave
//! (`db::webhooks::purge_deleted`). Every dispatcher runs it; the statements skip rows
//! that another process holds, so several can run side by side.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::db::{parking, webhooks, PgPool};

/// How often it runs: an unpark comes within this of its webhook's reactivation (a pause
/// is unparked ahead of its end, see `db::parking`).
const EVERY: Duration = Duration::from_secs(1);
/// Rows of the due queue's front looked at for webhooks whose deliveries can be parked.
const FRONT: i64 = 5_000;
/// Deliveries of one webhook walked per parking statement.
const PARK_BATCH: i64 = 10_000;
/// Time one round may spend deleting what deleted webhooks leave, so that unparking (the
/// next round's first step) is never held up for long.
const PURGE_BUDGET: Duration = Duration::from_secs(2);
/// Rows per unpark and per purge statement: small, so that no statement holds locks long.
const BATCH: i64 = 2_000;

/// Runs until `shutdown`; notifies `wake` when deliveries came back to the due queue.
pub async fn run(pool: PgPool, wake: Arc<Notify>, shutdown: CancellationToken) {
    loop {
        if let Err(err) = round(&pool, &wake).await {
            tracing::warn!(error = format!("{err:#}"), "delivery upkeep failed; will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

async fn round(pool: &PgPool, wake: &Notify) -> anyhow::Result<()> {
    let mut conn = pool.get().await.map_err(|err| anyhow::anyhow!("database pool: {err}"))?;
    let unparked = parking::unpark(&mut conn, BATCH, || wake.notify_one()).await?;
    if unparked > 0 {
        tracing::debug!(unparked, "deliveries back in the due queue");
    }
    let purged = webhooks::purge_deleted(&mut conn, BATCH, PURGE_BUDGET).await?;
    if purged > 0 {
        tracing::info!(purged, "deliveries of deleted webhooks deleted");
    }
    let parked = parking::park_front(&mut conn, FRONT, PARK_BATCH).await?;
    if parked > 0 {
        tracing::debug!(parked, "deliveries parked");
    }
    Ok(())
}
