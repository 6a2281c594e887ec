//! The delivery queue on PostgreSQL: claim due deliveries under a lease, record each
//! attempt's outcome and release the lease in one transaction. Everything the dispatcher
//! needs from the database goes through this module, so that another queue backend could
//! take its place.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::deliveries::{FAILED, PENDING, SUCCEEDED};
use super::logs::AttemptLog;
use super::prepared::prepared;
use super::stats::Increments;

/// The channel dispatchers LISTEN on; a notification means "due work may exist".
pub const WAKE_CHANNEL: &str = "hookrelay_work";

/// The channel API processes LISTEN on for the live stream: "attempts were recorded".
pub const ATTEMPTS_CHANNEL: &str = "hookrelay_attempts";

/// Serialises the recording of attempts, so that log sequence numbers are assigned in
/// commit order and a stream reading `seq > last` never skips a row.
const RECORD_LOCK: i64 = 0x686f_6f6b_6c6f_6773; // "hooklogs"

/// Serialises claims across every dispatcher process, so that per-webhook concurrency and
/// rate limits hold exactly however many dispatchers share the database. A claim is one
/// statement of well under a millisecond, so dispatchers wait on it briefly.
const CLAIM_LOCK: i64 = 0x686f_6f6b_7265_6c61; // "hookrela"

/// A leased delivery with everything needed to attempt it. No `Debug`: it holds the
/// webhook's secrets.
#[derive(Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub delivery_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub event_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub webhook_id: Uuid,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    /// Attempts made before this one, over every series.
    #[diesel(sql_type = Int4)]
    pub attempt_count: i32,
    /// Attempts made before this one in the current series.
    #[diesel(sql_type = Int4)]
    pub series_attempts: i32,
    #[diesel(sql_type = Bool)]
    pub test: bool,
    #[diesel(sql_type = SqlUuid)]
    pub lease_id: Uuid,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Jsonb)]
    pub headers: serde_json::Value,
    #[diesel(sql_type = Text)]
    pub secret: String,
    /// The previous secret, only while its rotation overlap lasts.
    #[diesel(sql_type = Nullable<Text>)]
    pub previous_secret: Option<String>,
    #[diesel(sql_type = Nullable<Array<Int4>>)]
    pub retry_schedule: Option<Vec<i32>>,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Timestamptz)]
    pub delivery_created_at: DateTime<Utc>,
}

/// A row of `hookrelay_claim`: a leased delivery, or (alone, when nothing was leased)
/// only the news whether due work was held back by a limit.
struct ClaimRow {
    held_back: bool,
    next_due: Option<DateTime<Utc>>,
    claimed: Option<Claimed>,
}

impl QueryableByName<diesel::pg::Pg> for ClaimRow {
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, diesel::pg::Pg>) -> diesel::deserialize::Result<Self> {
        use diesel::row::NamedRow;
        let held_back = NamedRow::get::<Bool, bool>(row, "held_back")?;
        let next_due = NamedRow::get::<Nullable<Timestamptz>, Option<DateTime<Utc>>>(row, "next_due")?;
        let leased = NamedRow::get::<Nullable<SqlUuid>, Option<Uuid>>(row, "delivery_id")?.is_some();
        let claimed = if leased { Some(Claimed::build(row)?) } else { None };
        Ok(ClaimRow { held_back, next_due, claimed })
    }
}

/// What a claim got; whether due work was held back by a per-webhook limit (then a
/// recorded outcome, which frees a slot, is worth another claim); and when the earliest
/// pending delivery that is not due yet falls due. Work that is due but waiting (on a
/// limit, an inactive webhook or another dispatcher's lease) is picked up when a
/// notification or the fallback poll wakes the dispatcher.
#[derive(Default)]
pub struct Claim {
    pub claimed: Vec<Claimed>,
    pub held_back: bool,
    pub next_due: Option<DateTime<Utc>>,
}

/// Settings of the connection that runs `claim`. The claim reads after taking the claim
/// lock, in a statement of its own, so that it sees the leases of the claim before it:
/// that needs each statement's fresh snapshot of READ COMMITTED. Under a stricter
/// database default, every claim overlapping another's commit would fail.
pub const CLAIM_SETTINGS: &str = "SET default_transaction_isolation = 'read committed'";

/// Claims up to `limit` due deliveries, honouring each webhook's `maxConcurrency` and
/// `rateLimitPerMinute`. Work over a limit stays pending (a rate-limited delivery is
/// rescheduled to when its window frees); it is neither attempted nor failed.
///
/// One round trip: `hookrelay_claim` (see its migration) takes the claim lock, finds due
/// deliveries with their webhooks' loads, applies the limits and leases what they allow,
/// committing without waiting for its WAL flush.
///
/// `finished` names leased deliveries whose attempt has ended but whose outcome is not
/// recorded yet: they no longer count as attempts in flight (they still count against
/// the rate limit). They are looked up by lease key and counted per webhook once, in
/// the claim's own snapshot, so the count is exact and costs no scan per lease.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    limit: usize,
    lease: Duration,
    finished: &[Uuid],
) -> QueryResult<Claim> {
    let rows: Vec<ClaimRow> = prepared(
        diesel::sql_query("SELECT * FROM hookrelay_claim($1, $2, $3, $4, $5)")
            .bind::<BigInt, _>(CLAIM_LOCK)
            .bind::<Array<SqlUuid>, _>(finished)
            .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
            .bind::<SqlUuid, _>(Uuid::now_v7())
            .bind::<diesel::sql_types::Double, _>(lease.as_secs_f64()),
    )
    .load(conn)
    .await?;
    // through a slice: diesel's `first` (a query method) is in scope and would be taken
    let (held_back, next_due) = rows.as_slice().first().map(|r| (r.held_back, r.next_due)).unwrap_or_default();
    Ok(Claim { claimed: rows.into_iter().filter_map(|r| r.claimed).collect(), held_back, next_due })
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Succeeded,
    RetryAt(DateTime<Utc>),
    Failed,
}

/// One finished attempt, ready to be recorded.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub delivery_id: Uuid,
    pub lease_id: Uuid,
    pub series_attempts: i32,
    pub next: Next,
    pub delivery_created_at: DateTime<Utc>,
    pub log: AttemptLog,
}

/// A delivery that still exists (no lease), or a lease released (the one it was under).
#[derive(QueryableByName)]
struct Recordable {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    lease: Option<Uuid>,
}

/// Records a batch of outcomes in one transaction: the attempt logs, each delivery's new
/// state and the release of its lease, the stats rollups; then wakes the live streams.
/// (Other dispatchers see freed slots and scheduled retries at their next claim or
/// poll.) A delivery whose webhook was deleted mid-attempt is gone: its outcome is
/// dropped. A delivery whose lease was lost (expired and claimed again) keeps the newer
/// claimant's state, but its attempt is still logged and counted: it did happen.
///
/// Five round trips: BEGIN; the record lock; locking the deliveries and releasing the
/// leases; the three writes and the NOTIFY, pipelined (they touch different tables);
/// COMMIT.
pub async fn record(conn: &mut AsyncPgConnection, outcomes: &[Outcome]) -> QueryResult<()> {
    conn.transaction(async move |conn| {
        // The record lock first (see `lock_recording`). For the rest of the transaction,
        // plans are generic and use indexes: every statement below finds its rows by key
        // from arrays, and PostgreSQL otherwise planned each afresh at every run (custom
        // plans for each set of arrays cost as much as running them).
        prepared(
            diesel::sql_query(
                "SELECT pg_advisory_xact_lock($1), set_config('plan_cache_mode', 'force_generic_plan', true), \
                   set_config('enable_seqscan', 'off', true)",
            )
            .bind::<BigInt, _>(RECORD_LOCK),
        )
        .execute(conn)
        .await?;
        let (ids, leases): (Vec<Uuid>, Vec<Uuid>) = outcomes.iter().map(|o| (o.delivery_id, o.lease_id)).unzip();
        // Locking the deliveries holds off a concurrent webhook delete until we commit. A
        // lease is released only after its delivery is locked (the claim takes them in
        // the same order), and only if this dispatcher still holds it. Every step goes
        // row by row through a primary key: no join between two sets of unknown size,
        // which a generic plan would do as a nested loop over both.
        let rows: Vec<Recordable> = prepared(
            diesel::sql_query(
                "WITH existing AS (SELECT d.id, u.lease FROM unnest($1, $2) AS u(id, lease) \
                   JOIN deliveries d ON d.id = u.id ORDER BY d.id FOR UPDATE OF d), \
                 released AS (DELETE FROM leases l USING existing e \
                   WHERE l.delivery_id = e.id AND l.lease_id = e.lease RETURNING l.delivery_id, l.lease_id) \
                 SELECT id, NULL::uuid AS lease FROM existing UNION ALL SELECT delivery_id, lease_id FROM released",
            )
            .bind::<Array<SqlUuid>, _>(ids)
            .bind::<Array<SqlUuid>, _>(leases),
        )
        .load(conn)
        .await?;
        // The deliveries that still exist, and the leases released. An outcome applies
        // (changes its delivery) only with the lease it was attempted under: a batch may
        // hold two outcomes of one delivery, one under a lease that expired.
        let mut existing = HashSet::with_capacity(rows.len());
        let mut released = HashSet::with_capacity(rows.len());
        for r in rows {
            match r.lease {
                Some(lease) => released.insert((r.id, lease)),
                None => existing.insert(r.id),
            };
        }
        let live: Vec<&Outcome> = outcomes.iter().filter(|o| existing.contains(&o.delivery_id)).collect();
        if live.is_empty() {
            return Ok(());
        }
        let applied = |o: &Outcome| released.contains(&(o.delivery_id, o.lease_id));
        let mut columns: (Vec<Uuid>, Vec<&str>, Vec<i32>, Vec<i32>) = Default::default();
        let mut times: (Vec<Option<DateTime<Utc>>>, Vec<DateTime<Utc>>) = Default::default();
        for o in live.iter().filter(|o| applied(o)) {
            let (status, next_at) = match o.next {
                Next::Succeeded => (SUCCEEDED, None),
                Next::RetryAt(at) => (PENDING, Some(at)),
                Next::Failed => (FAILED, None),
            };
            columns.0.push(o.delivery_id);
            columns.1.push(status);
            columns.2.push(o.log.attempt);
            columns.3.push(o.series_attempts);
            times.0.push(next_at);
            times.1.push(o.log.created_at);
        }
        let mut stats = Increments::default();
        for o in &live {
            let l = &o.log;
            stats.attempt(l);
            if applied(o) {
                stats.delivery(
                    l.tenant_id,
                    l.webhook_id,
                    o.delivery_created_at,
                    i32::from(l.attempt == 1),
                    i32::from(o.next == Next::Succeeded),
                    i32::from(o.next == Next::Failed),
                );
            }
        }
        let shared: &AsyncPgConnection = conn;
        let logs: Vec<&AttemptLog> = live.iter().map(|o| &o.log).collect();
        let update = prepared(
            diesel::sql_query(
                "UPDATE deliveries d SET status = u.status, attempt_count = u.attempt, series_attempts = u.series, \
               next_attempt_at = u.next_at, last_attempt_at = u.last_at, updated_at = now() \
             FROM unnest($1, $2, $3, $4, $5, $6) AS u(id, status, attempt, series, next_at, last_at) \
             WHERE d.id = u.id",
            )
            .bind::<Array<SqlUuid>, _>(columns.0)
            .bind::<Array<Text>, _>(columns.1)
            .bind::<Array<Int4>, _>(columns.2)
            .bind::<Array<Int4>, _>(columns.3)
            .bind::<Array<Nullable<Timestamptz>>, _>(times.0)
            .bind::<Array<Timestamptz>, _>(times.1),
        );
        // the live streams are woken at commit
        let notify = prepared(diesel::sql_query("SELECT pg_notify($1, '')").bind::<Text, _>(ATTEMPTS_CHANNEL));
        tokio::try_join!(
            super::logs::insert(shared, &logs),
            async move { update.execute(&mut &*shared).await },
            super::stats::apply(shared, stats),
            async move { notify.execute(&mut &*shared).await },
        )?;
        Ok(())
    })
    .await
}

/// Takes the record lock until the caller's transaction ends. Recording takes it first,
/// so that log sequence numbers follow commit order; a transaction that also changes
/// deliveries and stats rows (deleting a webhook) takes it first too, so that the two
/// never lock those rows in opposite orders (a deadlock).
pub async fn lock_recording(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    prepared(diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<BigInt, _>(RECORD_LOCK))
        .execute(conn)
        .await?;
    Ok(())
}

/// This process's name in the wake-ups it sends after publishing, so that its own
/// dispatcher, already woken directly, can ignore them.
pub fn instance() -> &'static str {
    static INSTANCE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| Uuid::new_v4().to_string());
    &INSTANCE
}

/// NOTIFY outside a transaction, without waiting for a WAL flush: it carries only the
/// sender's name.
async fn notify_async(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    prepared(
        diesel::sql_query("SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)")
            .bind::<Text, _>(WAKE_CHANNEL)
            .bind::<Text, _>(instance()),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Tells every dispatcher that due work may exist (delivered when the transaction commits).
pub async fn wake(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    prepared(diesel::sql_query("SELECT pg_notify($1, '')").bind::<Text, _>(WAKE_CHANNEL)).execute(conn).await?;
    Ok(())
}

#[derive(QueryableByName)]
struct QueueGauges {
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    oldest_due_age: f64,
}

/// Pending deliveries, and how long the oldest due one has waited (seconds; 0 if none).
pub async fn gauges(conn: &mut AsyncPgConnection) -> QueryResult<(i64, f64)> {
    let g: QueueGauges = prepared(diesel::sql_query(
        "SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending') AS pending, \
           coalesce((SELECT extract(epoch FROM now() - next_attempt_at)::float8 FROM deliveries \
             WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 1), 0) \
             AS oldest_due_age",
    ))
    .get_result(conn)
    .await?;
    Ok((g.pending, g.oldest_due_age))
}

/// Coalesces wake-ups after publishes: every publish calls [`Wakeup::soon`], and one
/// background task sends a NOTIFY for each burst. Keeping NOTIFY out of the publish
/// statement keeps commits from queueing on PostgreSQL's notification lock; should the
/// process die between a commit and its NOTIFY, the dispatchers' fallback poll finds the
/// work.
#[derive(Clone)]
pub struct Wakeup {
    signal: std::sync::Arc<tokio::sync::Notify>,
    local: Option<std::sync::Arc<tokio::sync::Notify>>,
}

impl Wakeup {
    /// `local` is this process's dispatcher, if it runs one: it is woken directly,
    /// without the round trip through PostgreSQL.
    pub fn spawn(
        pool: super::PgPool,
        local: Option<std::sync::Arc<tokio::sync::Notify>>,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Wakeup {
        let signal = std::sync::Arc::new(tokio::sync::Notify::new());
        let wakeup = Wakeup { signal: signal.clone(), local };
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = signal.notified() => {}
                    _ = shutdown.cancelled() => return,
                }
                let sent = match pool.get().await {
                    Ok(mut conn) => notify_async(&mut conn).await.map_err(anyhow::Error::from),
                    Err(err) => Err(anyhow::anyhow!("database pool: {err}")),
                };
                if let Err(err) = sent {
                    tracing::warn!(error = format!("{err:#}"), "could not notify dispatchers; they will poll");
                }
            }
        });
        wakeup
    }

    pub fn soon(&self) {
        if let Some(local) = &self.local {
            local.notify_one();
        }
        self.signal.notify_one();
    }
}
