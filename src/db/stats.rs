//! Stats rollups (`stats_rollups`): increments written with each batch of attempt
//! outcomes, and the rows a stats window reads. The nil webhook id is the tenant-wide row.

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Int4, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::logs::AttemptLog;
use super::prepared::prepared;
use super::schema::stats_rollups;
use super::TenantId;
use crate::domain::latency::{bucket, bucket_count, ERROR_KINDS, OTHER_ERROR};

/// The webhook id under which the tenant-wide aggregate is kept.
pub const TENANT_WIDE: Uuid = Uuid::nil();

/// The spans of the rollup rows, in minutes. Quarter-hour rows serve series of 15-minute
/// buckets over long windows: built from minute rows, 15 days of them (the most that
/// 1,500 buckets allow) meant 21,600 histograms per request.
pub const MINUTE: i16 = 1;
pub const QUARTER: i16 = 15;
pub const HOUR: i16 = 60;

/// The start of the span of `span` minutes holding `t`.
pub fn span_start(t: DateTime<Utc>, span: i16) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::minutes(i64::from(span))).unwrap_or(t)
}

/// The counters of one (tenant, webhook, span, start) row, or increments to them.
#[derive(Debug, Clone, Default, Queryable, Selectable)]
#[diesel(table_name = stats_rollups)]
pub struct Counts {
    pub attempts: i32,
    pub attempt_successes: i32,
    pub retries: i32,
    pub answered: i32,
    pub latency_sum_ms: i64,
    pub latency_hist: Vec<i32>,
    pub errors: Vec<i32>,
    pub deliveries_started: i32,
    pub deliveries_succeeded: i32,
    pub deliveries_failed: i32,
}

/// Accumulates increments for the webhook row and the tenant-wide row at once.
#[derive(Debug, Default)]
pub struct Increments(BTreeMap<(Uuid, Uuid, i16, DateTime<Utc>), Counts>);

impl Increments {
    /// Applies `f` to the webhook's rows and the tenant-wide rows of the minute, the
    /// quarter-hour and the hour of `at`.
    fn update(&mut self, tenant: Uuid, webhook: Uuid, at: DateTime<Utc>, f: impl Fn(&mut Counts)) {
        for span in [MINUTE, QUARTER, HOUR] {
            let start = span_start(at, span);
            for w in [webhook, TENANT_WIDE] {
                f(self.0.entry((tenant, w, span, start)).or_default());
            }
        }
    }

    /// One recorded attempt. Response times count only attempts that got an HTTP answer.
    pub fn attempt(&mut self, log: &AttemptLog) {
        let answered_in_ms = log.response_status.map(|_| i64::from(log.duration_ms));
        let (success, attempt, error_kind) = (log.success, log.attempt, log.error_kind.as_deref());
        self.update(log.tenant_id, log.webhook_id, log.created_at, |row| {
            row.attempts += 1;
            row.attempt_successes += i32::from(success);
            row.retries += i32::from(attempt > 1);
            if let Some(ms) = answered_in_ms {
                row.answered += 1;
                row.latency_sum_ms += ms;
                if row.latency_hist.is_empty() {
                    row.latency_hist = vec![0; bucket_count()];
                }
                row.latency_hist[bucket(ms)] += 1;
            }
            if let Some(kind) = error_kind {
                if row.errors.is_empty() {
                    row.errors = vec![0; ERROR_KINDS.len()];
                }
                let i = ERROR_KINDS.iter().position(|k| *k == kind).unwrap_or(OTHER_ERROR);
                row.errors[i] += 1;
            }
        });
    }

    /// A change in the counters of the delivery created at `created_at`.
    pub fn delivery(
        &mut self,
        tenant: Uuid,
        webhook: Uuid,
        created_at: DateTime<Utc>,
        started: i32,
        succeeded: i32,
        failed: i32,
    ) {
        self.update(tenant, webhook, created_at, |row| {
            row.deliveries_started += started;
            row.deliveries_succeeded += succeeded;
            row.deliveries_failed += failed;
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn counts_literal(v: &[i32]) -> String {
    let items: Vec<String> = v.iter().map(i32::to_string).collect();
    format!("{{{}}}", items.join(","))
}

/// Adds the increments to their rows in one statement (rows in key order, so that
/// concurrent writers lock them in the same order).
pub async fn apply(mut conn: &AsyncPgConnection, inc: Increments) -> QueryResult<()> {
    if inc.is_empty() {
        return Ok(());
    }
    let mut cols: (Vec<Uuid>, Vec<Uuid>, Vec<i16>, Vec<DateTime<Utc>>) = Default::default();
    let mut ints: [Vec<i32>; 7] = Default::default();
    let mut sums = Vec::new();
    let mut hists = Vec::new();
    let mut errors = Vec::new();
    for ((tenant, webhook, span, start), r) in inc.0 {
        cols.0.push(tenant);
        cols.1.push(webhook);
        cols.2.push(span);
        cols.3.push(start);
        for (col, v) in ints.iter_mut().zip([
            r.attempts,
            r.attempt_successes,
            r.retries,
            r.answered,
            r.deliveries_started,
            r.deliveries_succeeded,
            r.deliveries_failed,
        ]) {
            col.push(v);
        }
        sums.push(r.latency_sum_ms);
        hists.push(counts_literal(&r.latency_hist));
        errors.push(counts_literal(&r.errors));
    }
    let [attempts, successes, retries, answered, started, succeeded, failed] = ints;
    prepared(diesel::sql_query(
        "INSERT INTO stats_rollups AS s (tenant_id, webhook_id, span, start, attempts, attempt_successes, retries, \
           answered, deliveries_started, deliveries_succeeded, deliveries_failed, latency_sum_ms, latency_hist, errors) \
         SELECT t, w, sp, st, a, sa, r, an, ds, dsu, df, ls, lh::integer[], er::integer[] \
         FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
           AS u(t, w, sp, st, a, sa, r, an, ds, dsu, df, ls, lh, er) \
         ON CONFLICT (tenant_id, webhook_id, span, start) DO UPDATE SET \
           attempts = s.attempts + EXCLUDED.attempts, \
           attempt_successes = s.attempt_successes + EXCLUDED.attempt_successes, \
           retries = s.retries + EXCLUDED.retries, \
           answered = s.answered + EXCLUDED.answered, \
           deliveries_started = s.deliveries_started + EXCLUDED.deliveries_started, \
           deliveries_succeeded = s.deliveries_succeeded + EXCLUDED.deliveries_succeeded, \
           deliveries_failed = s.deliveries_failed + EXCLUDED.deliveries_failed, \
           latency_sum_ms = s.latency_sum_ms + EXCLUDED.latency_sum_ms, \
           latency_hist = hookrelay_add_counts(s.latency_hist, EXCLUDED.latency_hist), \
           errors = hookrelay_add_counts(s.errors, EXCLUDED.errors)",
    )
    .bind::<Array<SqlUuid>, _>(cols.0)
    .bind::<Array<SqlUuid>, _>(cols.1)
    .bind::<Array<diesel::sql_types::Int2>, _>(cols.2)
    .bind::<Array<Timestamptz>, _>(cols.3)
    .bind::<Array<Int4>, _>(attempts)
    .bind::<Array<Int4>, _>(successes)
    .bind::<Array<Int4>, _>(retries)
    .bind::<Array<Int4>, _>(answered)
    .bind::<Array<Int4>, _>(started)
    .bind::<Array<Int4>, _>(succeeded)
    .bind::<Array<Int4>, _>(failed)
    .bind::<Array<BigInt>, _>(sums)
    .bind::<Array<Text>, _>(hists)
    .bind::<Array<Text>, _>(errors))
    .execute(&mut conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = stats_rollups)]
pub struct StatsRow {
    pub start: DateTime<Utc>,
    #[diesel(embed)]
    pub counts: Counts,
}

/// The rows of one webhook (or of the tenant, with `TENANT_WIDE`) covering [since, until),
/// whose bounds are whole minutes: rows of `span` minutes for the whole spans inside the
/// window and minute rows for its ragged edges (minute rows only with `MINUTE`).
pub async fn rows(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    webhook: Uuid,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    span: i16,
) -> QueryResult<Vec<StatsRow>> {
    let first_whole = span_start(since + TimeDelta::minutes(i64::from(span) - 1), span);
    let end_whole = span_start(until, span);
    let query = stats_rollups::table
        .filter(stats_rollups::tenant_id.eq(tenant.0))
        .filter(stats_rollups::webhook_id.eq(webhook))
        .select(StatsRow::as_select());
    if span == MINUTE || first_whole >= end_whole {
        return query
            .filter(stats_rollups::span.eq(MINUTE))
            .filter(stats_rollups::start.ge(since))
            .filter(stats_rollups::start.lt(until))
            .load(conn)
            .await;
    }
    query
        .filter(
            (stats_rollups::span
                .eq(span)
                .and(stats_rollups::start.ge(first_whole))
                .and(stats_rollups::start.lt(end_whole)))
            .or(stats_rollups::span.eq(MINUTE).and(
                (stats_rollups::start.ge(since).and(stats_rollups::start.lt(first_whole)))
                    .or(stats_rollups::start.ge(end_whole).and(stats_rollups::start.lt(until))),
            )),
        )
        .load(conn)
        .await
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Deliveries created in [since, until) that no attempt has finished yet: they are
/// pending in stats but appear in no rollup until their first attempt is recorded.
pub async fn unattempted(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    webhook: Option<Uuid>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> QueryResult<i64> {
    let query = match webhook {
        Some(_) => {
            "SELECT count(*) AS n FROM deliveries WHERE webhook_id = $2 AND tenant_id = $1 \
             AND status = 'pending' AND attempt_count = 0 AND created_at >= $3 AND created_at < $4"
        }
        None => {
            "SELECT count(*) AS n FROM deliveries WHERE tenant_id = $1 AND $2 IS NULL \
             AND status = 'pending' AND attempt_count = 0 AND created_at >= $3 AND created_at < $4"
        }
    };
    let row: Count = prepared(
        diesel::sql_query(query)
            .bind::<SqlUuid, _>(tenant.0)
            .bind::<diesel::sql_types::Nullable<SqlUuid>, _>(webhook)
            .bind::<Timestamptz, _>(since)
            .bind::<Timestamptz, _>(until),
    )
    .get_result(conn)
    .await?;
    Ok(row.n)
}

/// Takes started but unfinished deliveries of a webhook (their creation times) out of the
/// delivery counters: the webhook is being deleted, so they will never finish.
pub async fn forget_unfinished(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    webhook: Uuid,
    created: impl Iterator<Item = DateTime<Utc>>,
) -> QueryResult<()> {
    let mut inc = Increments::default();
    for at in created {
        inc.delivery(tenant.0, webhook, at, -1, 0, 0);
    }
    apply(conn, inc).await
}

/// Removes a webhook's own rows (its share of the tenant-wide rows stays: history).
pub async fn delete_webhook(conn: &mut AsyncPgConnection, tenant: TenantId, webhook: Uuid) -> QueryResult<()> {
    diesel::delete(stats_rollups::table)
        .filter(stats_rollups::tenant_id.eq(tenant.0))
        .filter(stats_rollups::webhook_id.eq(webhook))
        .execute(conn)
        .await?;
    Ok(())
}
