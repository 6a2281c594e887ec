//! Attempt logs (`webhook_logs`): one row per attempt, append-only.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use diesel::sql_types::{Array, Bool, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};

use super::prepared::prepared;
use super::schema::webhook_logs;
use super::TenantId;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = webhook_logs)]
pub struct AttemptLog {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub delivery_id: Uuid,
    pub event_id: Uuid,
    pub webhook_id: Uuid,
    pub event_type: String,
    pub attempt: i32,
    pub success: bool,
    pub request_url: String,
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
    pub duration_ms: i32,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    pub test: bool,
    pub created_at: DateTime<Utc>,
    pub response_headers: Option<serde_json::Value>,
}

/// Appends attempt logs in one statement of fixed text (column arrays through `unnest`),
/// so that it stays prepared whatever the batch size; a multi-row VALUES list would be
/// new SQL, parsed and planned again, for every size.
/// Takes a shared connection so that it can be pipelined with other statements.
pub async fn insert(mut conn: &AsyncPgConnection, logs: &[&AttemptLog]) -> QueryResult<()> {
    let mut ids = Vec::with_capacity(logs.len());
    let (mut tenants, mut deliveries, mut events, mut webhooks) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut types, mut attempts, mut successes, mut urls) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut statuses, mut bodies, mut durations, mut kinds) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut messages, mut tests, mut times, mut headers) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for l in logs {
        ids.push(l.id);
        tenants.push(l.tenant_id);
        deliveries.push(l.delivery_id);
        events.push(l.event_id);
        webhooks.push(l.webhook_id);
        types.push(l.event_type.as_str());
        attempts.push(l.attempt);
        successes.push(l.success);
        urls.push(l.request_url.as_str());
        statuses.push(l.response_status);
        bodies.push(l.response_body.as_deref());
        durations.push(l.duration_ms);
        kinds.push(l.error_kind.as_deref());
        messages.push(l.error_message.as_deref());
        tests.push(l.test);
        times.push(l.created_at);
        headers.push(l.response_headers.as_ref());
    }
    prepared(
        diesel::sql_query(
            "INSERT INTO webhook_logs (id, tenant_id, delivery_id, event_id, webhook_id, event_type, attempt, success, \
               request_url, response_status, response_body, duration_ms, error_kind, error_message, test, created_at, \
               response_headers) \
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::int4[], \
               $8::bool[], $9::text[], $10::int4[], $11::text[], $12::int4[], $13::text[], $14::text[], $15::bool[], \
               $16::timestamptz[], $17::jsonb[])",
        )
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Array<SqlUuid>, _>(tenants)
        .bind::<Array<SqlUuid>, _>(deliveries)
        .bind::<Array<SqlUuid>, _>(events)
        .bind::<Array<SqlUuid>, _>(webhooks)
        .bind::<Array<Text>, _>(types)
        .bind::<Array<Int4>, _>(attempts)
        .bind::<Array<Bool>, _>(successes)
        .bind::<Array<Text>, _>(urls)
        .bind::<Array<Nullable<Int4>>, _>(statuses)
        .bind::<Array<Nullable<Text>>, _>(bodies)
        .bind::<Array<Int4>, _>(durations)
        .bind::<Array<Nullable<Text>>, _>(kinds)
        .bind::<Array<Nullable<Text>>, _>(messages)
        .bind::<Array<Bool>, _>(tests)
        .bind::<Array<Timestamptz>, _>(times)
        .bind::<Array<Nullable<Jsonb>>, _>(headers),
    )
    .execute(&mut conn)
    .await?;
    Ok(())
}

/// The attempts of one delivery, oldest first.
pub async fn for_delivery(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    delivery_id: Uuid,
) -> QueryResult<Vec<AttemptLog>> {
    webhook_logs::table
        .filter(webhook_logs::tenant_id.eq(tenant.0))
        .filter(webhook_logs::delivery_id.eq(delivery_id))
        .select(AttemptLog::as_select())
        .order(webhook_logs::attempt.asc())
        .load(conn)
        .await
}

pub struct LogFilter<'a> {
    pub success: Option<bool>,
    pub event_type: Option<&'a str>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// A webhook's attempts, newest first (ids are UUID v7 of the attempt's start).
pub async fn for_webhook(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    webhook_id: Uuid,
    filter: LogFilter<'_>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<AttemptLog>> {
    let mut query = webhook_logs::table
        .filter(webhook_logs::tenant_id.eq(tenant.0))
        .filter(webhook_logs::webhook_id.eq(webhook_id))
        .select(AttemptLog::as_select())
        .order(webhook_logs::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(success) = filter.success {
        query = query.filter(webhook_logs::success.eq(success));
    }
    if let Some(t) = filter.event_type {
        query = query.filter(webhook_logs::event_type.eq(t.to_owned()));
    }
    if let Some(since) = filter.since {
        query = query.filter(webhook_logs::created_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(webhook_logs::created_at.lt(until));
    }
    if let Some(after) = after {
        query = query.filter(webhook_logs::id.lt(after));
    }
    query.load(conn).await
}

/// The stream position of a tenant's log row, if it still exists.
pub async fn seq_of(conn: &mut AsyncPgConnection, tenant: TenantId, id: Uuid) -> QueryResult<Option<i64>> {
    webhook_logs::table
        .filter(webhook_logs::id.eq(id))
        .filter(webhook_logs::tenant_id.eq(tenant.0))
        .select(webhook_logs::seq)
        .first(conn)
        .await
        .optional()
}

/// The tenant's newest stream position: a stream without a resume point starts here.
pub async fn last_seq(conn: &mut AsyncPgConnection, tenant: TenantId) -> QueryResult<i64> {
    let max: Option<i64> = webhook_logs::table
        .filter(webhook_logs::tenant_id.eq(tenant.0))
        .select(diesel::dsl::max(webhook_logs::seq))
        .first(conn)
        .await?;
    Ok(max.unwrap_or(0))
}

/// A tenant's rows recorded after stream position `after`, in recording order.
pub async fn after_seq(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    webhook_id: Option<Uuid>,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<(i64, AttemptLog)>> {
    let mut query = webhook_logs::table
        .filter(webhook_logs::tenant_id.eq(tenant.0))
        .filter(webhook_logs::seq.gt(after))
        .select((webhook_logs::seq, AttemptLog::as_select()))
        .order(webhook_logs::seq.asc())
        .limit(limit)
        .into_boxed();
    if let Some(w) = webhook_id {
        query = query.filter(webhook_logs::webhook_id.eq(w));
    }
    query.load(conn).await
}

#[derive(QueryableByName)]
struct Sequenced {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
    #[diesel(embed)]
    log: AttemptLog,
}

/// For each (tenant, position), up to `limit` of the tenant's rows recorded after it; all
/// in recording order. One statement for every tenant with a live stream.
pub async fn after_seqs(
    conn: &mut AsyncPgConnection,
    positions: &[(TenantId, i64)],
    limit: i64,
) -> QueryResult<Vec<(i64, AttemptLog)>> {
    let (tenants, after): (Vec<Uuid>, Vec<i64>) = positions.iter().map(|(t, seq)| (t.0, *seq)).unzip();
    let rows: Vec<Sequenced> = prepared(
        diesel::sql_query(
            "SELECT l.* FROM unnest($1::uuid[], $2::int8[]) AS t(tenant, after_seq) CROSS JOIN LATERAL \
               (SELECT * FROM webhook_logs w WHERE w.tenant_id = t.tenant AND w.seq > t.after_seq \
                ORDER BY w.seq LIMIT $3) l \
             ORDER BY l.seq",
        )
        .bind::<Array<SqlUuid>, _>(tenants)
        .bind::<Array<diesel::sql_types::BigInt>, _>(after)
        .bind::<diesel::sql_types::BigInt, _>(limit),
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.seq, r.log)).collect())
}
