//! The delivery queue on PostgreSQL: claim due deliveries under a lease, record each
//! attempt's outcome and release the lease in one transaction. Everything the dispatcher
//! needs from the database goes through this module, so that another queue backend could
//! take its place.

use std::collections::HashMap;
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
use crate::dispatch::limits::{plan_claim, Candidate, WebhookLoad};

/// The channel dispatchers LISTEN on; a notification means "due work may exist".
pub const WAKE_CHANNEL: &str = "hookrelay_work";

/// The channel API processes LISTEN on for the live stream: "attempts were recorded".
pub const ATTEMPTS_CHANNEL: &str = "hookrelay_attempts";

/// Serialises the recording of attempts, so that log sequence numbers are assigned in
/// commit order and a stream reading `seq > last` never skips a row.
const RECORD_LOCK: i64 = 0x686f_6f6b_6c6f_6773; // "hooklogs"

/// Serialises claims across every dispatcher process, so that per-webhook concurrency and
/// rate limits hold exactly however many dispatchers share the database. A claim is a few
/// short statements, so dispatchers wait on it for milliseconds at most.
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

/// A due delivery with the load of its webhook; or, with no delivery, only the news
/// that some webhook was skipped for being at its concurrency limit.
#[derive(QueryableByName)]
struct CandidateRow {
    /// Whether a webhook at its concurrency limit was left out of the scan.
    #[diesel(sql_type = Bool)]
    held_back: bool,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    webhook_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    due: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Int4>)]
    max_concurrency: Option<i32>,
    #[diesel(sql_type = Nullable<Int4>)]
    rate_limit_per_minute: Option<i32>,
    #[diesel(sql_type = Nullable<BigInt>)]
    in_flight: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    unrecorded: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    recent: Option<i64>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    oldest_recent: Option<DateTime<Utc>>,
}

/// What a claim got, and whether due work was held back by a per-webhook limit (then a
/// recorded outcome, which frees a slot, is worth another claim).
#[derive(Default)]
pub struct Claim {
    pub claimed: Vec<Claimed>,
    pub held_back: bool,
}

/// Claims up to `limit` due deliveries, honouring each webhook's `maxConcurrency` and
/// `rateLimitPerMinute`. Work over a limit stays pending (a rate-limited delivery is
/// rescheduled to when its window frees); it is neither attempted nor failed.
///
/// Three statements: take the claim lock; find due deliveries with their webhooks'
/// loads; lease the ones the limits allow and read what their attempts need. The claim
/// commits without waiting for its WAL flush (`synchronous_commit = off`): a lease lost
/// in a database crash only means the delivery is claimed again, which at-least-once
/// delivery allows, and the flush stays off the path to the first attempt.
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
    let lease_secs = lease.as_secs_f64();
    conn.transaction(async move |conn| {
        // The lock comes first, in its own statement: the scan's snapshot must see the
        // leases of the claim that held it before.
        //
        // The claim's plans are pinned to their one right shape, whatever the statistics
        // say: a queue's statistics are stale by nature (a backlog grows faster than
        // autovacuum analyses). With sorting off, the scan walks the due index in order
        // and stops at the limit (a plan built on "few rows are due" reads and sorts the
        // whole backlog at every claim); with sequential scans off, per-webhook lookups
        // (recent attempts for the rate limit) use their indexes. With both, the generic
        // plan is as good as a custom one, so it is used from the first run and the
        // claim is not planned again each time (planning cost more than executing).
        prepared(
            diesel::sql_query(
                "SELECT pg_advisory_xact_lock($1), set_config('synchronous_commit', 'off', true), \
                   set_config('enable_sort', 'off', true), set_config('enable_seqscan', 'off', true), \
                   set_config('plan_cache_mode', 'force_generic_plan', true)",
            )
            .bind::<BigInt, _>(CLAIM_LOCK),
        )
        .execute(conn)
        .await?;
        // Webhooks already at their concurrency limit are left out of the scan, so that
        // one saturated webhook's backlog cannot starve the others. Leased deliveries are
        // still pending, and the scan passes every one of them (hundreds under load):
        // `NOT IN` checks them against one hashed read of the leases, where an anti-join
        // planned from stale estimates probes the lease index once per row. Loads are counted
        // once per webhook (MATERIALIZED: inlined, they would be counted per delivery).
        // The LEFT JOIN from one row answers `held_back` even when nothing is due.
        let rows: Vec<CandidateRow> = prepared(
            diesel::sql_query(
                "WITH ended AS MATERIALIZED ( \
                 SELECT l.webhook_id, count(*) FILTER (WHERE l.locked_until > now()) AS live, count(*) AS n \
                 FROM unnest($1::uuid[]) AS f(id) JOIN leases l ON l.delivery_id = f.id GROUP BY l.webhook_id), \
                 live AS MATERIALIZED ( \
                 SELECT webhook_id, count(*) AS n FROM leases WHERE locked_until > now() GROUP BY webhook_id), \
                 saturated AS ( \
                 SELECT live.webhook_id FROM live JOIN webhooks w ON w.id = live.webhook_id \
                 LEFT JOIN ended ON ended.webhook_id = live.webhook_id \
                 WHERE live.n - coalesce(ended.live, 0) >= w.max_concurrency), \
                 c AS ( \
                 SELECT d.id, d.webhook_id, d.next_attempt_at FROM deliveries d \
                 JOIN webhooks w ON w.id = d.webhook_id \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= now() \
                 AND d.id NOT IN (SELECT delivery_id FROM leases WHERE locked_until > now()) \
                 AND (w.active OR d.test) AND d.webhook_id NOT IN (SELECT webhook_id FROM saturated) \
                 ORDER BY d.next_attempt_at LIMIT $2 \
                 FOR UPDATE OF d SKIP LOCKED), \
                 loads AS MATERIALIZED ( \
                 SELECT w.id AS webhook_id, w.max_concurrency, w.rate_limit_per_minute, \
                 coalesce(live.n, 0) - coalesce(ended.live, 0) AS in_flight, \
                 coalesce(ended.n, 0) AS unrecorded, \
                 CASE WHEN w.rate_limit_per_minute IS NULL THEN 0 ELSE \
                 (SELECT count(*) FROM webhook_logs l \
                 WHERE l.webhook_id = w.id AND l.created_at > now() - interval '60 seconds') END AS recent, \
                 CASE WHEN w.rate_limit_per_minute IS NULL THEN NULL ELSE \
                 (SELECT min(l.created_at) FROM webhook_logs l \
                 WHERE l.webhook_id = w.id AND l.created_at > now() - interval '60 seconds') END AS oldest_recent \
                 FROM (SELECT DISTINCT webhook_id FROM c) AS cw JOIN webhooks w ON w.id = cw.webhook_id \
                 LEFT JOIN live ON live.webhook_id = w.id LEFT JOIN ended ON ended.webhook_id = w.id) \
                 SELECT EXISTS (SELECT 1 FROM saturated) AS held_back, x.* FROM (SELECT 1) AS one LEFT JOIN ( \
                 SELECT c.id, c.webhook_id, c.next_attempt_at AS due, loads.max_concurrency, \
                 loads.rate_limit_per_minute, loads.in_flight, loads.unrecorded, loads.recent, loads.oldest_recent \
                 FROM c JOIN loads ON loads.webhook_id = c.webhook_id) AS x ON true",
            )
            .bind::<Array<SqlUuid>, _>(finished)
            .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX)),
        )
        .load(conn)
        .await?;
        let mut held_back = rows.iter().any(|r| r.held_back);
        let mut candidates = Vec::with_capacity(rows.len());
        let mut loads: HashMap<Uuid, WebhookLoad> = HashMap::new();
        for r in rows {
            let (Some(delivery_id), Some(webhook_id), Some(due)) = (r.id, r.webhook_id, r.due) else {
                continue;
            };
            candidates.push((due, Candidate { delivery_id, webhook_id }));
            loads.entry(webhook_id).or_insert(WebhookLoad {
                max_concurrency: r.max_concurrency.unwrap_or(1),
                rate_limit_per_minute: r.rate_limit_per_minute,
                in_flight: r.in_flight.unwrap_or(0),
                unrecorded: r.unrecorded.unwrap_or(0),
                recent_attempts: r.recent.unwrap_or(0),
                oldest_recent_attempt: r.oldest_recent,
            });
        }
        if candidates.is_empty() {
            return Ok(Claim { claimed: Vec::new(), held_back });
        }
        // the plan takes candidates in due order (the join above may have reordered them)
        candidates.sort_by_key(|(due, c)| (*due, c.delivery_id));
        let candidates: Vec<Candidate> = candidates.into_iter().map(|(_, c)| c).collect();
        let plan = plan_claim(&candidates, &loads, Utc::now());
        for (at, ids) in &plan.defer {
            prepared(
                diesel::sql_query("UPDATE deliveries SET next_attempt_at = $1 WHERE id = ANY($2)")
                    .bind::<Timestamptz, _>(at)
                    .bind::<Array<SqlUuid>, _>(ids),
            )
            .execute(conn)
            .await?;
        }
        held_back = held_back || plan.claim.len() < candidates.len();
        if plan.claim.is_empty() {
            return Ok(Claim { claimed: Vec::new(), held_back });
        }
        let webhook_of: HashMap<Uuid, Uuid> = candidates.iter().map(|c| (c.delivery_id, c.webhook_id)).collect();
        let webhooks: Vec<Uuid> = plan.claim.iter().filter_map(|id| webhook_of.get(id).copied()).collect();
        let lease_id = Uuid::now_v7();
        // an expired lease (its dispatcher died) is taken over
        prepared(
            diesel::sql_query(
                "WITH leased AS ( \
                 INSERT INTO leases (delivery_id, webhook_id, lease_id, locked_until) \
                 SELECT d, w, $3, now() + make_interval(secs => $4) FROM unnest($1, $2) AS u(d, w) \
                 ON CONFLICT (delivery_id) DO UPDATE \
                 SET lease_id = EXCLUDED.lease_id, locked_until = EXCLUDED.locked_until \
                 RETURNING delivery_id) \
                 SELECT d.id AS delivery_id, d.tenant_id, d.event_id, d.webhook_id, d.event_type, \
                 d.attempt_count, d.series_attempts, d.test, $3 AS lease_id, w.url, w.headers, w.secret, \
                 CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END AS previous_secret, \
                 w.retry_schedule, e.body, d.created_at AS delivery_created_at \
                 FROM leased JOIN deliveries d ON d.id = leased.delivery_id \
                 JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id",
            )
            .bind::<Array<SqlUuid>, _>(&plan.claim)
            .bind::<Array<SqlUuid>, _>(&webhooks)
            .bind::<SqlUuid, _>(lease_id)
            .bind::<diesel::sql_types::Double, _>(lease_secs),
        )
        .load(conn)
        .await
        .map(|claimed| Claim { claimed, held_back })
    })
    .await
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

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// Records a batch of outcomes in one transaction: the attempt logs, each delivery's new
/// state and the release of its lease, the stats rollups; then wakes the live streams.
/// (Other dispatchers see freed slots and scheduled retries at their next claim or
/// poll.) A delivery whose webhook was deleted mid-attempt is gone: its outcome is
/// dropped. A delivery whose lease was lost (expired and claimed again) keeps the newer
/// claimant's state, but its attempt is still logged and counted: it did happen.
pub async fn record(conn: &mut AsyncPgConnection, outcomes: &[Outcome]) -> QueryResult<()> {
    conn.transaction(async move |conn| {
        lock_recording(conn).await?;
        let ids: Vec<Uuid> = outcomes.iter().map(|o| o.delivery_id).collect();
        // locking the rows also holds off a concurrent webhook delete until we commit
        let existing: Vec<IdRow> = prepared(
            diesel::sql_query("SELECT id FROM deliveries WHERE id = ANY($1) ORDER BY id FOR UPDATE")
                .bind::<Array<SqlUuid>, _>(&ids),
        )
        .load(conn)
        .await?;
        let existing: std::collections::HashSet<Uuid> = existing.into_iter().map(|r| r.id).collect();
        let live: Vec<&Outcome> = outcomes.iter().filter(|o| existing.contains(&o.delivery_id)).collect();
        if live.is_empty() {
            return Ok(());
        }
        super::logs::insert(conn, &live.iter().map(|o| &o.log).collect::<Vec<_>>()).await?;
        // release the leases this dispatcher still holds; only those deliveries change
        let (ids, leases): (Vec<Uuid>, Vec<Uuid>) = live.iter().map(|o| (o.delivery_id, o.lease_id)).unzip();
        let applied: Vec<IdRow> = prepared(
            diesel::sql_query(
                "DELETE FROM leases l USING unnest($1, $2) AS u(id, lease) \
             WHERE l.delivery_id = u.id AND l.lease_id = u.lease RETURNING l.delivery_id AS id",
            )
            .bind::<Array<SqlUuid>, _>(ids)
            .bind::<Array<SqlUuid>, _>(leases),
        )
        .load(conn)
        .await?;
        let applied: std::collections::HashSet<Uuid> = applied.into_iter().map(|r| r.id).collect();
        let mut columns: (Vec<Uuid>, Vec<&str>, Vec<i32>, Vec<i32>) = Default::default();
        let mut times: (Vec<Option<DateTime<Utc>>>, Vec<DateTime<Utc>>) = Default::default();
        for o in live.iter().filter(|o| applied.contains(&o.delivery_id)) {
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
        prepared(
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
        )
        .execute(conn)
        .await?;

        let mut stats = Increments::default();
        for o in &live {
            let l = &o.log;
            stats.attempt(l);
            if applied.contains(&o.delivery_id) {
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
        super::stats::apply(conn, stats).await?;
        prepared(diesel::sql_query("SELECT pg_notify($1, '')").bind::<Text, _>(ATTEMPTS_CHANNEL)).execute(conn).await?;
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
struct NextDue {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    at: Option<DateTime<Utc>>,
}

/// When the earliest pending delivery that is not yet due falls due. Work that is due but
/// waiting (on a limit, an inactive webhook or another dispatcher's lease) is picked up
/// when a notification or the fallback poll wakes the dispatcher.
pub async fn next_due(conn: &mut AsyncPgConnection) -> QueryResult<Option<DateTime<Utc>>> {
    let row: Option<NextDue> = prepared(diesel::sql_query(
        "SELECT next_attempt_at AS at FROM deliveries \
         WHERE status = 'pending' AND next_attempt_at > now() ORDER BY next_attempt_at LIMIT 1",
    ))
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.and_then(|r| r.at))
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
