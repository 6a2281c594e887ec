//! Endpoints' back-pressure and failing streaks, as a recorded batch changes them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Int4, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::prepared::prepared;
use crate::domain::event::RESERVED_PREFIX;
use crate::queue::{Next, Outcome, Strain};

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
    /// The start of the batch's last attempt, and of its last successful one, operational
    /// events' included (what `health` shows as last attempt and last success).
    last_attempt: Option<DateTime<Utc>>,
    last_success_any: Option<DateTime<Utc>>,
    /// The first delivery that ended failed after `last_success_any` (operational ones
    /// included): where `health`'s failing streak starts, which any success ends.
    first_failed_any: Option<DateTime<Utc>>,
}

/// An attempt of one of hookrelay's own operational events.
pub(super) fn operational(o: &Outcome) -> bool {
    o.log.event_type.starts_with(RESERVED_PREFIX)
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
/// Health at a glance (`domain::webhook_health`): the last attempt and the last success
/// (each written when it moved on by a second or more, so that a busy healthy endpoint's
/// row is written about once a second, not by every batch), and `health_failing_since`:
/// the start of the last attempt of the first delivery that ended failed after the last
/// successful attempt, which neither re-enabling nor auto-disable restarts and in which
/// operational events count like any other (so that `lastSuccessAt` never follows it).
///
/// A webhook is otherwise written only when something of it changes. A written row takes
/// its successes' concurrency back (`eased`) whatever the reason it is written: as SPEC
/// says, each success gives one back.
pub(super) async fn update_endpoints(
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
        p.last_attempt = p.last_attempt.max(Some(o.log.created_at));
        if o.log.success {
            p.last_success_any = p.last_success_any.max(Some(o.log.created_at));
        }
        if o.log.success && !operational(o) {
            p.last_success = p.last_success.max(Some(o.log.created_at));
        }
    }
    for o in live.iter().filter(|o| o.next == Next::Failed && applied(o)) {
        if let Some(p) = by_webhook.get_mut(&o.log.webhook_id) {
            let at = o.log.created_at;
            if p.last_success_any.is_none_or(|s| at > s) {
                p.first_failed_any = p.first_failed_any.min(Some(at)).or(Some(at));
            }
            if !operational(o) && p.last_success.is_none_or(|s| at > s) {
                p.failed.push(at);
            }
        }
    }
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
    let (mut last_attempt, mut last_success_any, mut first_failed_any) =
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
        last_attempt.push(p.last_attempt);
        last_success_any.push(p.last_success_any);
        first_failed_any.push(p.first_failed_any);
    }
    prepared(
        diesel::sql_query(
            "UPDATE webhooks w SET adaptive_concurrency = nullif(greatest(1, least(w.max_concurrency, \
                 least(w.max_concurrency, w.adaptive_concurrency) - u.strained + u.eased)), w.max_concurrency), \
               paused_until = greatest(w.paused_until, u.pause_until), \
               failing_since = CASE WHEN u.last_success >= w.failing_since THEN u.first_failed \
                 ELSE least(w.failing_since, u.first_failed) END, \
               failed_streak = CASE WHEN u.last_success >= w.failing_since THEN u.failed \
                 ELSE w.failed_streak + u.failed END, \
               health_failing_since = CASE WHEN u.last_success_any >= w.health_failing_since \
                 THEN u.first_failed_any ELSE least(w.health_failing_since, u.first_failed_any) END, \
               last_attempt_at = greatest(w.last_attempt_at, u.last_attempt), \
               last_success_at = greatest(w.last_success_at, u.last_success_any) \
             FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
               AS u(id, strained, eased, throttled, pause_until, last_success, failed, first_failed, \
                    last_attempt, last_success_any, first_failed_any) \
             WHERE w.id = u.id AND (u.strained > 0 OR u.pause_until IS NOT NULL OR (u.throttled AND u.eased > 0) \
               OR u.failed > 0 OR u.last_success >= w.failing_since \
               OR u.first_failed_any IS NOT NULL OR u.last_success_any >= w.health_failing_since \
               OR w.last_attempt_at IS NULL OR u.last_attempt >= w.last_attempt_at + interval '1 second' \
               OR (u.last_success_any IS NOT NULL AND w.last_success_at IS NULL) \
               OR u.last_success_any >= w.last_success_at + interval '1 second')",
        )
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Array<Int4>, _>(strained)
        .bind::<Array<Int4>, _>(eased)
        .bind::<Array<Bool>, _>(throttled)
        .bind::<Array<Nullable<Timestamptz>>, _>(pauses)
        .bind::<Array<Nullable<Timestamptz>>, _>(last_success)
        .bind::<Array<Int4>, _>(failed)
        .bind::<Array<Nullable<Timestamptz>>, _>(first_failed)
        .bind::<Array<Nullable<Timestamptz>>, _>(last_attempt)
        .bind::<Array<Nullable<Timestamptz>>, _>(last_success_any)
        .bind::<Array<Nullable<Timestamptz>>, _>(first_failed_any),
    )
    .execute(&mut conn)
    .await
}
