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
