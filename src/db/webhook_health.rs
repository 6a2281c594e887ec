//! What a webhook answer's `health` reads (SPEC "Health at a glance"): the columns the
//! recorder keeps on the webhook row, and one batched read of the rollups for a page of
//! webhooks. The verdict itself is `domain::webhook_health`.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Int4, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::prepared::prepared;
use super::schema::webhooks;
use super::stats::{span_start, HOUR, MINUTE};
use super::TenantId;
use crate::domain::latency::add_counts;
use crate::domain::operational::WINDOW_MINUTES;
use crate::domain::webhook_health::Counted;

/// The webhook row's health columns (embedded in `db::webhooks::Webhook`).
#[derive(Debug, Clone, Default, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct HealthColumns {
    pub health_failing_since: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    webhook_id: Uuid,
    #[diesel(sql_type = BigInt)]
    attempts: i64,
    #[diesel(sql_type = BigInt)]
    successes: i64,
    /// A minute of the degraded rule's window, or else the 24 h sum.
    #[diesel(sql_type = Bool)]
    recent: bool,
    #[diesel(sql_type = Array<Int4>)]
    hist: Vec<i32>,
}

/// The rollup counts of the webhooks `ids` of one tenant, in one statement: the last 24 h
/// (the hour rows, and the minute rows of the hour the window starts in) and the minute
/// rows of the degraded rule's window. Webhooks with no rows are absent.
pub async fn counted(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> QueryResult<HashMap<Uuid, Counted>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let day_start = span_start(now - TimeDelta::hours(24), MINUTE);
    let mut whole_hours = span_start(day_start, HOUR);
    if whole_hours < day_start {
        whole_hours += TimeDelta::hours(1);
    }
    let window_start = span_start(now, MINUTE) - TimeDelta::minutes(WINDOW_MINUTES - 1);
    let rows: Vec<Row> = prepared(
        diesel::sql_query(
            "SELECT webhook_id, sum(attempts)::int8 AS attempts, sum(attempt_successes)::int8 AS successes, \
               false AS recent, '{}'::int4[] AS hist \
             FROM stats_rollups WHERE tenant_id = $1 AND webhook_id = ANY($2) \
               AND ((span = 1 AND start >= $3 AND start < $4) OR (span = 60 AND start >= $4)) \
             GROUP BY webhook_id \
             UNION ALL \
             SELECT webhook_id, attempts::int8, attempt_successes::int8, true, latency_hist \
             FROM stats_rollups WHERE tenant_id = $1 AND webhook_id = ANY($2) AND span = 1 AND start >= $5",
        )
        .bind::<SqlUuid, _>(tenant.0)
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Timestamptz, _>(day_start)
        .bind::<Timestamptz, _>(whole_hours)
        .bind::<Timestamptz, _>(window_start),
    )
    .load(conn)
    .await?;
    let mut counted: HashMap<Uuid, Counted> = HashMap::with_capacity(ids.len());
    for r in rows {
        let c = counted.entry(r.webhook_id).or_default();
        if r.recent {
            c.window_attempts += r.attempts;
            c.window_successes += r.successes;
            add_counts(&mut c.window_hist, &r.hist);
        } else {
            c.attempts_24h = r.attempts;
            c.successes_24h = r.successes;
        }
    }
    Ok(counted)
}
