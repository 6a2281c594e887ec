//! The retention task: purges old logs, finished deliveries and events in small batches.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::db::{retention, PgPool};

/// How often the purge runs.
const EVERY: Duration = Duration::from_secs(60);
/// Rows per delete statement: small, so that no purge holds locks for long.
const BATCH: i64 = 1_000;

pub async fn run(pool: PgPool, config: Arc<Config>, shutdown: CancellationToken) {
    let retention = chrono::Duration::from_std(config.log_retention).unwrap_or(chrono::Duration::days(30));
    let stats_retention = chrono::Duration::days(retention::STATS_RETENTION_DAYS).max(retention);
    loop {
        let now = Utc::now();
        let purged = match pool.get().await {
            Ok(mut conn) => retention::purge(&mut conn, now - retention, now - stats_retention, BATCH)
                .await
                .map_err(anyhow::Error::from),
            Err(err) => Err(anyhow::anyhow!("database pool: {err}")),
        };
        match purged {
            Ok(p) if p != retention::Purged::default() => tracing::info!(?p, "retention purge"),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = format!("{err:#}"), "retention purge failed; will retry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}
