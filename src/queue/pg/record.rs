//! Recording a batch of attempts' outcomes: logs, deliveries, stats, back-pressure and
//! the operational events they raise, in one transaction that releases the leases.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::pressure::{operational, update_endpoints};
use crate::db::health::Operational;
use crate::db::locks::RECORD_LOCK;
use crate::db::logs::AttemptLog;
use crate::db::prepared::prepared;
use crate::db::stats::Increments;
use crate::domain::ids::DeliveryStatus;
use crate::domain::operational::{DeliveryFailed, LastError, DELIVERY_FAILED};
use crate::queue::{Next, Outcome};

/// The channel API processes LISTEN on for the live stream: "attempts were recorded".
pub const ATTEMPTS_CHANNEL: &str = "hookrelay_attempts";

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

/// The record lock (see `db::locks::lock_recording`); for the rest of the transaction, plans are
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
