//! Retention: deletes old attempt logs, finished deliveries, their events, old stats rows,
//! sources' old request log rows and expired dedupe keys in small batches, so that purging never holds locks long enough to slow delivery.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Stats rows are kept as long as the longest stats window, whatever the log retention.
pub const STATS_RETENTION_DAYS: i64 = 90;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub logs: usize,
    pub deliveries: usize,
    pub events: usize,
    pub stats_rows: usize,
    /// Sources' request log rows, and dedupe keys past their window.
    pub inbound_requests: usize,
    pub dedupe_keys: usize,
}

/// Deletes, `batch` rows per statement, everything older than `cutoff` (stats: older than
/// `stats_cutoff`). Pending deliveries and the events they belong to are never purged.
pub async fn purge(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
    stats_cutoff: DateTime<Utc>,
    batch: i64,
) -> diesel::QueryResult<Purged> {
    // logs and events by id: UUID v7 ids order rows by their own time, so the primary
    // key finds old rows and no index on the time column is kept for retention alone
    let logs = drain_ids(
        conn,
        "DELETE FROM webhook_logs WHERE id IN (SELECT id FROM webhook_logs WHERE id < $1 ORDER BY id LIMIT $2)",
        super::v7_floor(cutoff),
        batch,
    )
    .await?;
    // The subquery locks what it picks, skipping rows another transaction holds (a manual
    // retry making the delivery pending again, a recovery), and the outer statement
    // repeats its predicates: the DELETE alone re-checks only `id IN`, so a row that
    // became pending while the DELETE waited on its lock was deleted, with the retry that
    // had already answered 202.
    let deliveries = drain(
        conn,
        "DELETE FROM deliveries d WHERE d.id IN \
           (SELECT id FROM deliveries WHERE status <> 'pending' AND updated_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED) \
         AND d.status <> 'pending' AND d.updated_at < $1",
        cutoff,
        batch,
    )
    .await?;
    // Logs are append-only and no delivery is ever added to an existing event, so these
    // rows do not change under the purge; the event subquery still skips locked rows (a
    // delivery being written for it holds a key-share lock on it).
    let events = drain_ids(
        conn,
        "DELETE FROM events WHERE id IN \
         (SELECT e.id FROM events e WHERE e.id < $1 \
            AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) ORDER BY e.id LIMIT $2 \
            FOR UPDATE SKIP LOCKED)",
        super::v7_floor(cutoff),
        batch,
    )
    .await?;
    let stats_rows = drain(
        conn,
        "DELETE FROM stats_rollups WHERE (tenant_id, webhook_id, span, start) IN \
         (SELECT tenant_id, webhook_id, span, start FROM stats_rollups WHERE start < $1 LIMIT $2)",
        stats_cutoff,
        batch,
    )
    .await?;
    let inbound_requests = drain_ids(
        conn,
        "DELETE FROM inbound_requests WHERE id IN (SELECT id FROM inbound_requests WHERE id < $1 ORDER BY id LIMIT $2)",
        super::v7_floor(cutoff),
        batch,
    )
    .await?;
    // a key past its window no longer dedupes (the next copy takes its row over); its row
    // is only kept until here
    let dedupe_keys = drain(
        conn,
        "DELETE FROM inbound_dedupe WHERE (source_id, dedupe_key) IN \
         (SELECT source_id, dedupe_key FROM inbound_dedupe WHERE created_at < $1 LIMIT $2)",
        Utc::now() - chrono::Duration::hours(super::inbound::DEDUPE_WINDOW_HOURS),
        batch,
    )
    .await?;
    Ok(Purged { logs, deliveries, events, stats_rows, inbound_requests, dedupe_keys })
}

/// Runs a batched delete of rows with ids below `floor` until a batch comes back short.
async fn drain_ids(conn: &mut AsyncPgConnection, sql: &str, floor: Uuid, batch: i64) -> diesel::QueryResult<usize> {
    let mut total = 0;
    loop {
        let n = diesel::sql_query(sql).bind::<SqlUuid, _>(floor).bind::<BigInt, _>(batch).execute(conn).await?;
        total += n;
        if i64::try_from(n).unwrap_or(i64::MAX) < batch {
            return Ok(total);
        }
    }
}

/// Runs a batched delete until a batch comes back short.
async fn drain(
    conn: &mut AsyncPgConnection,
    sql: &str,
    cutoff: DateTime<Utc>,
    batch: i64,
) -> diesel::QueryResult<usize> {
    let mut total = 0;
    loop {
        let n = diesel::sql_query(sql).bind::<Timestamptz, _>(cutoff).bind::<BigInt, _>(batch).execute(conn).await?;
        total += n;
        if i64::try_from(n).unwrap_or(i64::MAX) < batch {
            return Ok(total);
        }
    }
}
