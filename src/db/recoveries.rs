//! Recoveries (SPEC "Endpoint health", Recover): every `failed` delivery of one webhook
//! created in [since, until) gets a new series of attempts, as a manual retry gives one.
//! The API only stores the recovery; the dispatchers' upkeep re-queues its deliveries in
//! batches, each batch one short transaction that also advances the recovery's cursor and
//! count, so a recovery of a million deliveries holds no lock for long, and one interrupted
//! by a kill -9 goes on after the last committed batch: no delivery twice, none skipped.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::prepared::prepared;
use super::schema::{recoveries, webhooks};
use super::stats::Increments;
use super::{v7_floor, TenantId};

/// For a webhook without a rate limit, the pace of a recovery's deliveries per minute and
/// per unit of `maxConcurrency`: ten attempts a second per slot, as if each took 100 ms.
const UNLIMITED_PACE_PER_SLOT: i32 = 600;

pub const RUNNING: &str = "running";
pub const DONE: &str = "done";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = recoveries)]
pub struct Recovery {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub webhook_id: Uuid,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub status: String,
    pub deliveries: i32,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

pub async fn insert(conn: &mut AsyncPgConnection, recovery: &Recovery) -> QueryResult<Recovery> {
    diesel::insert_into(recoveries::table).values(recovery).returning(Recovery::as_returning()).get_result(conn).await
}

pub async fn get(conn: &mut AsyncPgConnection, tenant: TenantId, webhook: Uuid, id: Uuid) -> QueryResult<Recovery> {
    recoveries::table
        .filter(recoveries::id.eq(id))
        .filter(recoveries::tenant_id.eq(tenant.0))
        .filter(recoveries::webhook_id.eq(webhook))
        .select(Recovery::as_select())
        .first(conn)
        .await
}

#[derive(QueryableByName)]
struct Requeued {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    webhook_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

/// Works on running recoveries until none is left or `budget` is spent; `on_requeued` is
/// called after each batch that made deliveries due. Returns the deliveries re-queued.
pub async fn run(
    conn: &mut AsyncPgConnection,
    batch: i64,
    budget: Duration,
    on_requeued: impl Fn(),
) -> QueryResult<usize> {
    let started = Instant::now();
    let mut total = 0;
    while started.elapsed() < budget {
        match step(conn, batch).await? {
            Some(n) => {
                total += n;
                if n > 0 {
                    on_requeued();
                }
            }
            None => break,
        }
    }
    Ok(total)
}

/// One batch of the oldest running recovery that no other process is working on: `None`
/// when there is none. Deliveries are walked in id order after the cursor (ids are UUID v7,
/// so in creation order: the window bounds the walk), through the index of failed
/// deliveries (`deliveries_failed_idx`), and locked without skipping, so that one a retry
/// holds is waited for, not passed over. Its stats count each delivery as pending again,
/// as a retry does.
///
/// The deliveries are made due at the webhook's pace, the k-th of the recovery k
/// minutes / `rateLimitPerMinute` after the recovery began (without a rate limit, at
/// [`UNLIMITED_PACE_PER_SLOT`] × `maxConcurrency` a minute): the limits would hold them
/// to that pace anyway, and a million deliveries due at once would sit in front of every
/// other tenant's work in the due queue (every claim walked them: scenario 12 in
/// docs/performance.md, other tenants' deliveries 38 s late).
async fn step(conn: &mut AsyncPgConnection, batch: i64) -> QueryResult<Option<usize>> {
    conn.transaction(async move |conn| {
        let Some(running) = oldest_running(conn).await? else {
            return Ok(None);
        };
        // a webhook deleted meanwhile has nothing left to recover
        let requeued: Vec<Requeued> = match webhook_limits(conn, running.webhook).await? {
            None => Vec::new(),
            Some(limits) => requeue_batch(conn, &running, limits, batch).await?,
        };
        let n = requeued.len();
        count_pending_again(conn, &requeued).await?;
        advance(conn, &running, &requeued, batch).await?;
        Ok(Some(n))
    })
    .await
}

/// A running recovery, as [`step`] reads it.
#[derive(Queryable)]
struct Running {
    id: Uuid,
    webhook: Uuid,
    cursor: Option<Uuid>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    /// The deliveries re-queued so far.
    so_far: i32,
    created_at: DateTime<Utc>,
}

/// The oldest running recovery that no other process has locked, locked.
async fn oldest_running(conn: &mut AsyncPgConnection) -> QueryResult<Option<Running>> {
    recoveries::table
        .filter(recoveries::status.eq(RUNNING))
        .order(recoveries::created_at)
        .select((
            recoveries::id,
            recoveries::webhook_id,
            recoveries::cursor,
            recoveries::since,
            recoveries::until,
            recoveries::deliveries,
            recoveries::created_at,
        ))
        .for_update()
        .skip_locked()
        .first::<Running>(conn)
        .await
        .optional()
}

/// The webhook's `rateLimitPerMinute` and `maxConcurrency`; `None` once it is deleted.
async fn webhook_limits(conn: &mut AsyncPgConnection, webhook: Uuid) -> QueryResult<Option<(Option<i32>, i32)>> {
    webhooks::table
        .find(webhook)
        .filter(webhooks::deleted_at.is_null())
        .select((webhooks::rate_limit_per_minute, webhooks::max_concurrency))
        .first::<(Option<i32>, i32)>(conn)
        .await
        .optional()
}

/// Makes the next `batch` failed deliveries of the recovery's window pending again, due at
/// the webhook's pace (see [`step`]).
async fn requeue_batch(
    conn: &mut AsyncPgConnection,
    running: &Running,
    (rate, concurrency): (Option<i32>, i32),
    batch: i64,
) -> QueryResult<Vec<Requeued>> {
    // Ids are made by the database's clock, creation times by the API's: an
    // hour of slack either side bounds the walk without trusting the two to
    // agree. The bounds are parameters, so that the walk is one ordered range
    // of the failed-deliveries index.
    let from = running.cursor.unwrap_or_else(|| v7_floor(running.since - TimeDelta::hours(1)));
    let to = v7_floor(running.until + TimeDelta::hours(1));
    let pace = f64::from(rate.unwrap_or(concurrency.saturating_mul(UNLIMITED_PACE_PER_SLOT)).max(1));
    prepared(
        diesel::sql_query(
            "WITH picked AS (SELECT d.id FROM deliveries d WHERE d.webhook_id = $1 AND d.status = 'failed' \
               AND d.id > $2 AND d.id < $3 AND d.created_at >= $4 AND d.created_at < $5 \
               ORDER BY d.id LIMIT $6 FOR UPDATE OF d), \
             numbered AS (SELECT id, row_number() OVER (ORDER BY id) - 1 + $7 AS k FROM picked) \
             UPDATE deliveries d SET status = 'pending', series_attempts = 0, updated_at = now(), \
               next_attempt_at = greatest(now(), $8 + make_interval(secs => n.k * 60.0 / $9)) \
             FROM numbered n WHERE d.id = n.id AND d.status = 'failed' \
             RETURNING d.id, d.tenant_id, d.webhook_id, d.created_at",
        )
        .bind::<SqlUuid, _>(running.webhook)
        .bind::<SqlUuid, _>(from)
        .bind::<SqlUuid, _>(to)
        .bind::<Timestamptz, _>(running.since)
        .bind::<Timestamptz, _>(running.until)
        .bind::<BigInt, _>(batch)
        .bind::<BigInt, _>(i64::from(running.so_far))
        .bind::<Timestamptz, _>(running.created_at)
        .bind::<Double, _>(pace),
    )
    .load(conn)
    .await
}

/// The re-queued deliveries count as pending again in their stats, as after a retry.
async fn count_pending_again(conn: &mut AsyncPgConnection, requeued: &[Requeued]) -> QueryResult<()> {
    let mut stats = Increments::default();
    for d in requeued {
        stats.delivery(d.tenant_id, d.webhook_id, d.created_at, 0, 0, -1);
    }
    super::stats::apply(conn, stats).await
}

/// Moves the recovery's cursor and count past the batch; a short batch was the last.
async fn advance(
    conn: &mut AsyncPgConnection,
    running: &Running,
    requeued: &[Requeued],
    batch: i64,
) -> QueryResult<()> {
    let n = requeued.len();
    let last = requeued.iter().map(|d| d.id).max();
    let finished = i64::try_from(n).unwrap_or(i64::MAX) < batch;
    diesel::update(recoveries::table.find(running.id))
        .set((
            recoveries::deliveries.eq(recoveries::deliveries + i32::try_from(n).unwrap_or(i32::MAX)),
            recoveries::cursor.eq(last.or(running.cursor)),
            finished.then_some((recoveries::status.eq(DONE), recoveries::completed_at.eq(Some(Utc::now())))),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
