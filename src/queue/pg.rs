//! The delivery queue on PostgreSQL: claim due deliveries under a lease, record each
//! attempt's outcome and release the lease in one transaction.
//!
//! Where each SQL function's current definition lives (a migration that changes one
//! replaces it whole; update this map with it):
//!
//! | function | current definition | called by |
//! |---|---|---|
//! | `hookrelay_claim` | `migrations/2026-12-03-000016_claim_fast_path/up.sql` | [`claim`] |
//! | `hookrelay_claim_full` | `migrations/2026-12-02-000010_parking_and_soft_delete/up.sql` (as `hookrelay_claim`; renamed by migration 16) | `hookrelay_claim`, when its fast path does not apply |
//! | `hookrelay_add_counts` | `migrations/2026-12-01-000005_add_counts_plpgsql/up.sql` | `db::stats::apply` |
//! | `hookrelay_match_keys` | `migrations/2026-12-01-000006_webhook_match_keys/up.sql` | the generated column `webhooks.match_keys` |
//! | `hookrelay_uuid_v7` | `migrations/2026-11-23-000003_uuid_v7/up.sql` | the publish statements (`db::events`) |

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use secrecy::{ExposeSecret, SecretString};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Claim, ClaimRequest, Leased, Next, Outcome, Queue, QueueError, Strain};
use crate::db::health::Operational;
use crate::db::logs::AttemptLog;
use crate::db::prepared::prepared;
use crate::db::stats::Increments;
use crate::db::PgPool;
use crate::domain::event::RESERVED_PREFIX;
use crate::domain::ids::{DeliveryId, DeliveryStatus, EventId, LeaseId, TenantId, WebhookId};
use crate::domain::operational::{DeliveryFailed, LastError, DELIVERY_FAILED};
use crate::secrets::Sealer;

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

/// A row of `hookrelay_claim` that leased a delivery.
#[derive(QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = SqlUuid)]
    delivery_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    event_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    webhook_id: Uuid,
    #[diesel(sql_type = Text)]
    event_type: String,
    #[diesel(sql_type = Int4)]
    attempt_count: i32,
    #[diesel(sql_type = Int4)]
    series_attempts: i32,
    #[diesel(sql_type = Bool)]
    test: bool,
    #[diesel(sql_type = SqlUuid)]
    lease_id: Uuid,
    #[diesel(sql_type = Text)]
    url: String,
    #[diesel(sql_type = Jsonb)]
    headers: serde_json::Value,
    #[diesel(sql_type = Text)]
    secret: String,
    #[diesel(sql_type = Nullable<Text>)]
    previous_secret: Option<String>,
    #[diesel(sql_type = Nullable<Array<Int4>>)]
    retry_schedule: Option<Vec<i32>>,
    #[diesel(sql_type = Text)]
    body: String,
    #[diesel(sql_type = Timestamptz)]
    delivery_created_at: DateTime<Utc>,
    #[diesel(sql_type = Bool)]
    throttled: bool,
}

impl ClaimedRow {
    /// The leased delivery, its webhook's secrets opened.
    fn open(self, sealer: &Sealer) -> Result<Leased, crate::secrets::OpenError> {
        let r = self;
        let secret = sealer.open(r.webhook_id, &r.secret)?;
        let previous_secret = r.previous_secret.as_deref().map(|p| sealer.open(r.webhook_id, p)).transpose()?;
        Ok(Leased {
            delivery_id: DeliveryId(r.delivery_id),
            tenant_id: TenantId(r.tenant_id),
            event_id: EventId(r.event_id),
            webhook_id: WebhookId(r.webhook_id),
            event_type: r.event_type,
            attempt_count: r.attempt_count,
            series_attempts: r.series_attempts,
            test: r.test,
            lease_id: LeaseId(r.lease_id),
            url: r.url,
            headers: r.headers,
            secret,
            previous_secret,
            retry_schedule: r.retry_schedule,
            body: r.body,
            delivery_created_at: r.delivery_created_at,
            throttled: r.throttled,
        })
    }
}

/// A row of `hookrelay_claim`: a leased delivery, or (alone, when nothing was leased)
/// only the news whether due work was held back by a limit.
struct ClaimRow {
    held_back: bool,
    next_due: Option<DateTime<Utc>>,
    claimed: Option<ClaimedRow>,
}

impl QueryableByName<diesel::pg::Pg> for ClaimRow {
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, diesel::pg::Pg>) -> diesel::deserialize::Result<Self> {
        use diesel::row::NamedRow;
        let held_back = NamedRow::get::<Bool, bool>(row, "held_back")?;
        let next_due = NamedRow::get::<Nullable<Timestamptz>, Option<DateTime<Utc>>>(row, "next_due")?;
        let leased = NamedRow::get::<Nullable<SqlUuid>, Option<Uuid>>(row, "delivery_id")?.is_some();
        let claimed = if leased { Some(ClaimedRow::build(row)?) } else { None };
        Ok(ClaimRow { held_back, next_due, claimed })
    }
}

/// Settings of the connection that runs `claim`. The claim reads after taking the claim
/// lock, in a statement of its own, so that it sees the leases of the claim before it:
/// that needs each statement's fresh snapshot of READ COMMITTED. Under a stricter
/// database default, every claim overlapping another's commit would fail.
pub const CLAIM_SETTINGS: &str = "SET default_transaction_isolation = 'read committed'";

/// Claims up to `request.limit` due deliveries, honouring each webhook's
/// `maxConcurrency` (as lowered by its adaptive concurrency), `rateLimitPerMinute` and
/// pause, and leaving out the webhooks the request skips. Work over a limit
/// stays pending (a rate-limited delivery is rescheduled to when its window frees); it
/// is neither attempted nor failed.
///
/// One round trip: `hookrelay_claim` (see the map at the top of this module) takes the
/// claim lock, finds due deliveries with their webhooks' loads, applies the limits and
/// leases what they allow, committing without waiting for its WAL flush.
///
/// `finished` leases are looked up by key and counted per webhook once, in the claim's
/// own snapshot, so the count is exact and costs no scan per lease.
///
/// The webhooks' secrets are opened with `sealer`. A delivery whose secret does not open
/// (start-up checks that every stored key id is known, so only an altered row) is logged
/// and left to its lease, which expires: it is never sent unsigned or signed wrongly.
///
/// The connection is shared so that a publish can claim for this process's dispatcher in
/// its own round trip (`db::publisher`); it needs [`CLAIM_SETTINGS`]' isolation.
pub async fn claim(mut conn: &AsyncPgConnection, request: &ClaimRequest<'_>, sealer: &Sealer) -> QueryResult<Claim> {
    let finished: Vec<Uuid> = request.finished.iter().map(|d| d.0).collect();
    let skip_webhooks: Vec<Uuid> = request.skip_webhooks.iter().map(|w| w.0).collect();
    let rows: Vec<ClaimRow> = prepared(
        diesel::sql_query("SELECT * FROM hookrelay_claim($1, $2, $3, $4, $5, $6)")
            .bind::<BigInt, _>(CLAIM_LOCK)
            .bind::<Array<SqlUuid>, _>(finished)
            .bind::<Array<SqlUuid>, _>(skip_webhooks)
            .bind::<BigInt, _>(i64::try_from(request.limit).unwrap_or(i64::MAX))
            .bind::<SqlUuid, _>(Uuid::now_v7())
            .bind::<diesel::sql_types::Double, _>(request.lease.as_secs_f64()),
    )
    .load(&mut conn)
    .await?;
    // through a slice: diesel's `first` (a query method) is in scope and would be taken
    let (held_back, next_due) = rows.as_slice().first().map(|r| (r.held_back, r.next_due)).unwrap_or_default();
    let claimed = rows
        .into_iter()
        .filter_map(|r| r.claimed)
        .filter_map(|r| {
            let (delivery, webhook) = (r.delivery_id, r.webhook_id);
            r.open(sealer)
                .map_err(|err| tracing::error!(%delivery, %webhook, error = %err, "a webhook secret does not open; not attempted"))
                .ok()
        })
        .collect();
    Ok(Claim { claimed, held_back, next_due })
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
/// state and the release of its lease, the stats rollups, the endpoints' back-pressure
/// (pauses and adaptive concurrency); then wakes the live streams. (Other dispatchers see
/// freed slots and scheduled retries at their next claim or poll.) A delivery whose
/// webhook was deleted mid-attempt is gone: its outcome is dropped. A delivery whose lease
/// was lost (expired and claimed again) keeps the newer claimant's state, but its attempt
/// is still logged and counted: it did happen.
///
/// Five round trips: BEGIN; the record lock; locking the deliveries and releasing the
/// leases; the writes, the refill of backlogged webhooks' windows (`db::parking::refill`)
/// and the NOTIFY, pipelined; COMMIT.
/// A batch in which deliveries ended failed takes two more, publishing
/// `hookrelay.delivery.failed` in the same transaction (`db::health::publish`).
pub async fn record(conn: &mut AsyncPgConnection, outcomes: &[Outcome]) -> QueryResult<()> {
    conn.transaction(async move |conn| {
        lock_recording_generic(conn).await?;
        let (existing, released) = lock_deliveries_release_leases(conn, outcomes).await?;
        let live: Vec<&Outcome> = outcomes.iter().filter(|o| existing.contains(&o.delivery_id.0)).collect();
        if live.is_empty() {
            return Ok(());
        }
        let applied = |o: &Outcome| released.contains(&(o.delivery_id.0, o.lease_id.0));
        let shared: &AsyncPgConnection = conn;
        let logs: Vec<&AttemptLog> = live.iter().map(|o| &o.log).collect();
        let applied_outcomes: Vec<&Outcome> = live.iter().copied().filter(|o| applied(o)).collect();
        let stats = stats_of(&live, applied);
        let ended = applied_outcomes.iter().filter(|o| !matches!(o.next, Next::RetryAt(_))).map(|o| o.log.webhook_id);
        // the live streams are woken at commit
        let notify = prepared(diesel::sql_query("SELECT pg_notify($1, '')").bind::<Text, _>(ATTEMPTS_CHANNEL));
        tokio::try_join!(
            crate::db::logs::insert(shared, &logs),
            update_deliveries(shared, &applied_outcomes),
            crate::db::stats::apply(shared, stats),
            update_endpoints(shared, &live, applied),
            crate::db::parking::refill(shared, ended.collect()),
            async move { notify.execute(&mut &*shared).await },
        )?;
        crate::db::health::publish(conn, delivery_failed_events(&applied_outcomes)?).await?;
        Ok(())
    })
    .await
}

/// An attempt of one of hookrelay's own operational events.
fn operational(o: &Outcome) -> bool {
    o.log.event_type.starts_with(RESERVED_PREFIX)
}

/// `hookrelay.delivery.failed` for each delivery that ended failed, except deliveries of
/// operational events (they raise none).
fn delivery_failed_events(applied: &[&Outcome]) -> QueryResult<Vec<Operational>> {
    applied
        .iter()
        .filter(|o| o.next == Next::Failed && !operational(o))
        .map(|o| {
            let l = &o.log;
            let data = DeliveryFailed {
                webhook_id: l.webhook_id,
                delivery_id: l.delivery_id,
                event_id: l.event_id,
                event_type: l.event_type.clone(),
                attempts: l.attempt,
                last_error: LastError { error_kind: l.error_kind.clone(), response_status: l.response_status },
            };
            Operational::new(l.tenant_id, l.webhook_id, DELIVERY_FAILED, &data)
        })
        .collect()
}

/// The record lock (see [`lock_recording`]); for the rest of the transaction, plans are
/// generic and use indexes: every statement of a record finds its rows by key from
/// arrays, and PostgreSQL otherwise planned each afresh at every run (custom plans for
/// each set of arrays cost as much as running them).
async fn lock_recording_generic(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    prepared(
        diesel::sql_query(
            "SELECT pg_advisory_xact_lock($1), set_config('plan_cache_mode', 'force_generic_plan', true), \
               set_config('enable_seqscan', 'off', true)",
        )
        .bind::<BigInt, _>(RECORD_LOCK),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks the outcomes' deliveries and releases the leases this dispatcher still holds:
/// the deliveries that still exist, and the (delivery, lease) pairs released. An outcome
/// applies (changes its delivery) only with the lease it was attempted under: a batch may
/// hold two outcomes of one delivery, one under a lease that expired.
///
/// Locking the deliveries holds off a concurrent webhook delete until the commit. A lease
/// is released only after its delivery is locked (the claim takes them in the same
/// order). Every step goes row by row through a primary key: no join between two sets of
/// unknown size, which a generic plan would do as a nested loop over both.
async fn lock_deliveries_release_leases(
    conn: &mut AsyncPgConnection,
    outcomes: &[Outcome],
) -> QueryResult<(HashSet<Uuid>, HashSet<(Uuid, Uuid)>)> {
    let (ids, leases): (Vec<Uuid>, Vec<Uuid>) = outcomes.iter().map(|o| (o.delivery_id.0, o.lease_id.0)).unzip();
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
    let mut existing = HashSet::with_capacity(rows.len());
    let mut released = HashSet::with_capacity(rows.len());
    for r in rows {
        match r.lease {
            Some(lease) => released.insert((r.id, lease)),
            None => existing.insert(r.id),
        };
    }
    Ok((existing, released))
}

/// Each applied outcome's delivery: its status, counters and next attempt time.
async fn update_deliveries(mut conn: &AsyncPgConnection, applied: &[&Outcome]) -> QueryResult<usize> {
    let mut columns: (Vec<Uuid>, Vec<&str>, Vec<i32>, Vec<i32>) = Default::default();
    let mut times: (Vec<Option<DateTime<Utc>>>, Vec<DateTime<Utc>>) = Default::default();
    for o in applied {
        let (status, next_at) = match o.next {
            Next::Succeeded => (DeliveryStatus::Succeeded, None),
            Next::RetryAt(at) => (DeliveryStatus::Pending, Some(at)),
            Next::Failed => (DeliveryStatus::Failed, None),
        };
        columns.0.push(o.delivery_id.0);
        columns.1.push(status.as_str());
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
    .execute(&mut conn)
    .await
}

/// The stats rollups: every attempt counts; a delivery's progress only when its outcome
/// applied.
fn stats_of(live: &[&Outcome], applied: impl Fn(&Outcome) -> bool) -> Increments {
    let mut stats = Increments::default();
    for o in live {
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
    stats
}

/// An endpoint's back-pressure and failing streak over one batch.
#[derive(Default)]
struct Pressure {
    strained: i32,
    eased: i32,
    throttled: bool,
    pause_until: Option<DateTime<Utc>>,
    /// The start of the batch's last successful attempt.
    last_success: Option<DateTime<Utc>>,
    /// Deliveries that ended failed after `last_success` (all, without one), and the
    /// start of the first one's last attempt.
    failed: Vec<DateTime<Utc>>,
}

/// The endpoints whose state the batch changes.
///
/// Back-pressure (SPEC "Back-pressure from receivers"): each timeout or failed connection
/// takes one from the endpoint's adaptive concurrency (at least 1), each success gives one
/// back (at most `maxConcurrency`, then NULL), so an endpoint keeps in flight what its
/// recent answers support: one that hangs drops to 1 within one round of attempts, one that
/// times out now and then stays near its maximum. (Halving at every batch holding a
/// timeout, as tried first, collapsed an endpoint with 5 % timeouts to a few attempts in
/// flight and made its retries late.) A Retry-After pauses the endpoint, never shortening
/// a pause.
///
/// The failing streak that auto-disable decides from (`db::health`): a delivery that ended
/// failed lengthens it, a successful attempt that started after the streak's first
/// failure ends it. Deliveries of operational events count for neither: they raise no
/// operational events, `hookrelay.webhook.disabled` included.
///
/// A webhook is written only when something of it changes: a healthy endpoint's row is
/// only read.
async fn update_endpoints(
    mut conn: &AsyncPgConnection,
    live: &[&Outcome],
    applied: impl Fn(&Outcome) -> bool,
) -> QueryResult<usize> {
    // in id order, as every writer of several webhook rows takes them
    let mut by_webhook: BTreeMap<Uuid, Pressure> = BTreeMap::new();
    for o in live {
        let p = by_webhook.entry(o.log.webhook_id).or_default();
        p.strained += i32::from(o.strain == Strain::Strained);
        p.eased += i32::from(o.strain == Strain::Eased);
        p.throttled |= o.throttled;
        p.pause_until = p.pause_until.max(o.pause_until);
        if o.log.success && !operational(o) {
            p.last_success = p.last_success.max(Some(o.log.created_at));
        }
    }
    for o in live.iter().filter(|o| o.next == Next::Failed && applied(o) && !operational(o)) {
        if let Some(p) = by_webhook.get_mut(&o.log.webhook_id) {
            if p.last_success.is_none_or(|s| o.log.created_at > s) {
                p.failed.push(o.log.created_at);
            }
        }
    }
    by_webhook.retain(|_, p| {
        p.strained > 0 || p.pause_until.is_some() || p.eased > 0 || p.last_success.is_some() || !p.failed.is_empty()
    });
    if by_webhook.is_empty() {
        return Ok(0);
    }
    let n = by_webhook.len();
    let mut ids = Vec::with_capacity(n);
    let (mut strained, mut eased, mut throttled) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let mut pauses = Vec::with_capacity(n);
    let (mut last_success, mut failed, mut first_failed) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for (id, p) in by_webhook {
        ids.push(id);
        strained.push(p.strained);
        eased.push(p.eased);
        throttled.push(p.throttled);
        pauses.push(p.pause_until);
        last_success.push(p.last_success);
        failed.push(i32::try_from(p.failed.len()).unwrap_or(i32::MAX));
        first_failed.push(p.failed.iter().min().copied());
    }
    prepared(
        diesel::sql_query(
            "UPDATE webhooks w SET adaptive_concurrency = nullif(greatest(1, least(w.max_concurrency, \
                 least(w.max_concurrency, w.adaptive_concurrency) - u.strained + u.eased)), w.max_concurrency), \
               paused_until = greatest(w.paused_until, u.pause_until), \
               failing_since = CASE WHEN u.last_success >= w.failing_since THEN u.first_failed \
                 ELSE least(w.failing_since, u.first_failed) END, \
               failed_streak = CASE WHEN u.last_success >= w.failing_since THEN u.failed \
                 ELSE w.failed_streak + u.failed END \
             FROM unnest($1, $2, $3, $4, $5, $6, $7, $8) \
               AS u(id, strained, eased, throttled, pause_until, last_success, failed, first_failed) \
             WHERE w.id = u.id AND (u.strained > 0 OR u.pause_until IS NOT NULL OR (u.throttled AND u.eased > 0) \
               OR u.failed > 0 OR u.last_success >= w.failing_since)",
        )
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Array<Int4>, _>(strained)
        .bind::<Array<Int4>, _>(eased)
        .bind::<Array<Bool>, _>(throttled)
        .bind::<Array<Nullable<Timestamptz>>, _>(pauses)
        .bind::<Array<Nullable<Timestamptz>>, _>(last_success)
        .bind::<Array<Int4>, _>(failed)
        .bind::<Array<Nullable<Timestamptz>>, _>(first_failed),
    )
    .execute(&mut conn)
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

#[derive(QueryableByName)]
struct QueueGauges {
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    oldest_due_age: f64,
}

/// Pending deliveries (parked ones included), and how long the oldest due one that a claim
/// can take has waited (seconds; 0 if none).
pub async fn gauges(conn: &mut AsyncPgConnection) -> QueryResult<(i64, f64)> {
    let g: QueueGauges = prepared(diesel::sql_query(
        "SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending' AND NOT parked) \
             + (SELECT count(*) FROM deliveries WHERE parked AND status = 'pending') AS pending, \
           coalesce((SELECT extract(epoch FROM now() - next_attempt_at)::float8 FROM deliveries \
             WHERE status = 'pending' AND NOT parked AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 1), 0) \
             AS oldest_due_age",
    ))
    .get_result(conn)
    .await?;
    Ok((g.pending, g.oldest_due_age))
}

/// Coalesces wake-ups after publishes: every publish calls [`Wakeup::soon`], and one
/// background task sends a NOTIFY for each burst, as long as a dispatcher of another
/// process is alive (`dispatchers`, looked at every [`RECHECK`]): this process's own is
/// woken directly. Keeping NOTIFY out of the publish statement keeps commits from
/// queueing on PostgreSQL's notification lock; should the process die between a commit
/// and its NOTIFY, the dispatchers' fallback poll finds the work.
#[derive(Clone)]
pub struct Wakeup {
    signal: std::sync::Arc<tokio::sync::Notify>,
    local: Option<std::sync::Arc<tokio::sync::Notify>>,
}

impl Wakeup {
    /// `local` is this process's dispatcher, if it runs one: it is woken directly,
    /// without the round trip through PostgreSQL.
    pub fn spawn(
        pool: PgPool,
        local: Option<std::sync::Arc<tokio::sync::Notify>>,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Wakeup {
        let signal = std::sync::Arc::new(tokio::sync::Notify::new());
        let wakeup = Wakeup { signal: signal.clone(), local };
        tokio::spawn(async move {
            // (when it was looked at, whether another dispatcher was alive)
            let mut others: Option<(std::time::Instant, bool)> = None;
            loop {
                tokio::select! {
                    _ = signal.notified() => {}
                    _ = shutdown.cancelled() => return,
                }
                let sent = match pool.get().await {
                    Ok(mut conn) => {
                        async {
                            let known = others.filter(|(at, _)| at.elapsed() < RECHECK);
                            let alive = match known {
                                Some((_, alive)) => alive,
                                // when the registry cannot be read, notify anyway
                                None => other_dispatchers(&mut conn).await.unwrap_or(true),
                            };
                            if known.is_none() {
                                others = Some((std::time::Instant::now(), alive));
                            }
                            if alive {
                                notify_async(&mut conn).await?;
                            }
                            anyhow::Ok(())
                        }
                        .await
                    }
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

/// The queue on PostgreSQL, as the dispatcher uses it. The claim and the recorder each
/// run their few statements, one at a time, on a connection of their own: their cached
/// plans (the claim's takes milliseconds to make) are made once per connection, and
/// again after each VACUUM or ANALYZE of a table they read (migration 8 keeps those
/// rare). Taken from a shared pool, they were remade on every pooled connection in turn:
/// a cluster of slow claims each time.
pub struct PgQueue {
    claims: PgPool,
    records: PgPool,
    database_url: SecretString,
    sealer: Arc<Sealer>,
}

impl PgQueue {
    pub fn connect(database_url: &SecretString, sealer: Arc<Sealer>) -> anyhow::Result<PgQueue> {
        let url = database_url.expose_secret();
        Ok(PgQueue {
            claims: crate::db::build_pool_with(url, 1, CLAIM_SETTINGS)?,
            records: crate::db::build_pool(url, 1)?,
            database_url: database_url.clone(),
            sealer,
        })
    }
}

/// An error of the database as the dispatcher must treat it: a server that answered
/// (other than to say that it is going away) will refuse the same rows again. A lost
/// connection (diesel-async reports it as `UnableToSendCommand`) is not a refusal.
fn queue_error(err: diesel::result::Error) -> QueueError {
    match &err {
        e @ diesel::result::Error::DatabaseError(..) if !crate::db::is_unreachable(e) => {
            QueueError::Refused(err.to_string())
        }
        _ => QueueError::Unavailable(err.to_string()),
    }
}

impl Queue for PgQueue {
    async fn claim(&self, request: ClaimRequest<'_>) -> Result<Claim, QueueError> {
        let conn = self.claims.get().await.map_err(|e| QueueError::Unavailable(format!("database pool: {e}")))?;
        claim(&conn, &request, &self.sealer).await.map_err(queue_error)
    }

    async fn record(&self, outcomes: &[Outcome]) -> Result<(), QueueError> {
        let mut conn = self.records.get().await.map_err(|e| QueueError::Unavailable(format!("database pool: {e}")))?;
        record(&mut conn, outcomes).await.map_err(queue_error)
    }

    fn watch(
        &self,
        on_wake: impl Fn() + Send + 'static,
        shutdown: CancellationToken,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        // this process's own publishes woke its dispatcher directly already
        let on_notify = move |payload: &str| {
            if payload != instance() {
                on_wake();
            }
        };
        let listen =
            crate::dispatch::listener::listen(self.database_url.clone(), WAKE_CHANNEL, on_notify, shutdown.clone());
        let registered = heartbeat(self.records.clone(), shutdown);
        async move {
            tokio::join!(listen, registered);
        }
    }
}

/// How often a dispatcher refreshes its row in `dispatchers`, and how old a row may be for
/// its dispatcher to count as alive (several missed heartbeats).
const HEARTBEAT: Duration = Duration::from_secs(5);
const ALIVE: &str = "20 seconds";
/// How long an API process trusts its last look at `dispatchers`. A dispatcher that starts
/// meanwhile finds the new work by its fallback poll.
const RECHECK: Duration = Duration::from_secs(2);

/// Keeps this process's row in `dispatchers` fresh while it listens for wake-ups, and
/// deletes it at shutdown (a row left by a killed process goes stale, and is deleted by
/// the next process that starts).
async fn heartbeat(pool: PgPool, shutdown: CancellationToken) {
    loop {
        let beat = async {
            let mut conn = pool.get().await.map_err(|err| anyhow::anyhow!("database pool: {err}"))?;
            diesel::sql_query(format!(
                "WITH gone AS (DELETE FROM dispatchers WHERE seen_at < now() - interval '{ALIVE}') \
                 INSERT INTO dispatchers (instance, seen_at) VALUES ($1, now()) \
                 ON CONFLICT (instance) DO UPDATE SET seen_at = now()"
            ))
            .bind::<Text, _>(instance())
            .execute(&mut conn)
            .await?;
            anyhow::Ok(())
        };
        if let Err(err) = beat.await {
            tracing::warn!(
                error = format!("{err:#}"),
                "could not register this dispatcher; API processes may not wake it"
            );
        }
        tokio::select! {
            _ = tokio::time::sleep(HEARTBEAT) => {}
            _ = shutdown.cancelled() => break,
        }
    }
    if let Ok(mut conn) = pool.get().await {
        let _ = diesel::sql_query("DELETE FROM dispatchers WHERE instance = $1")
            .bind::<Text, _>(instance())
            .execute(&mut conn)
            .await;
    }
}

#[derive(QueryableByName)]
struct Others {
    #[diesel(sql_type = Bool)]
    others: bool,
}

/// Whether a dispatcher process other than this one is alive.
async fn other_dispatchers(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    let row: Others = diesel::sql_query(format!(
        "SELECT EXISTS (SELECT 1 FROM dispatchers WHERE instance <> $1 AND seen_at > now() - interval '{ALIVE}') \
           AS others"
    ))
    .bind::<Text, _>(instance())
    .get_result(conn)
    .await?;
    Ok(row.others)
}
