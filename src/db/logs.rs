//! Attempt logs (`webhook_logs`): one row per attempt, append-only.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::webhook_logs;
use super::TenantId;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
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

/// The newest stream position overall: a stream without a resume point starts here.
pub async fn last_seq(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    let max: Option<i64> = webhook_logs::table.select(diesel::dsl::max(webhook_logs::seq)).first(conn).await?;
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
