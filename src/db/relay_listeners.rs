//! The listeners of relay webhooks (`hookrelay listen`), as their long polls last saw
//! them: whether a relay webhook has one, and since when (SPEC "Local relay").

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Double, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::prepared::prepared;
use super::schema::relay_listeners;
use super::TenantId;
use crate::domain::ids::WebhookId;

/// A listener that has not polled for this long is gone (SPEC: a dead connection is
/// noticed within 60 s).
pub const GONE_AFTER_SECS: i64 = 60;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = relay_listeners)]
pub struct Listener {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub webhook_id: Uuid,
    pub host: String,
    pub connected_at: DateTime<Utc>,
    pub seen_at: DateTime<Utc>,
}

/// Records that `listener` polls `webhook` now (connected now, if it was not, or was
/// gone for longer than [`GONE_AFTER_SECS`]).
pub async fn seen(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    webhook: WebhookId,
    listener: Uuid,
    host: &str,
) -> QueryResult<()> {
    prepared(
        diesel::sql_query(
            "INSERT INTO relay_listeners (id, tenant_id, webhook_id, host, connected_at, seen_at) \
         VALUES ($1, $2, $3, $4, now(), now()) \
         ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, seen_at = EXCLUDED.seen_at, \
         connected_at = CASE WHEN relay_listeners.seen_at < now() - make_interval(secs => $5) \
           THEN EXCLUDED.connected_at ELSE relay_listeners.connected_at END \
         WHERE relay_listeners.webhook_id = EXCLUDED.webhook_id",
        )
        // (a listener's id is its run's: the WHERE keeps it from moving to another webhook)
        .bind::<SqlUuid, _>(listener)
        .bind::<SqlUuid, _>(tenant.0)
        .bind::<SqlUuid, _>(webhook.0)
        .bind::<Text, _>(host)
        .bind::<Double, _>(GONE_AFTER_SECS as f64),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets `listener` of `webhook`: it said goodbye.
pub async fn gone(conn: &mut AsyncPgConnection, webhook: WebhookId, listener: Uuid) -> QueryResult<()> {
    diesel::delete(relay_listeners::table)
        .filter(relay_listeners::id.eq(listener))
        .filter(relay_listeners::webhook_id.eq(webhook.0))
        .execute(conn)
        .await?;
    Ok(())
}

/// The listeners of `webhook` seen within [`GONE_AFTER_SECS`], longest connected first.
pub async fn connected(conn: &mut AsyncPgConnection, webhook: WebhookId) -> QueryResult<Vec<Listener>> {
    relay_listeners::table
        .filter(relay_listeners::webhook_id.eq(webhook.0))
        .filter(relay_listeners::seen_at.gt(Utc::now() - Duration::seconds(GONE_AFTER_SECS)))
        .order(relay_listeners::connected_at.asc())
        .select(Listener::as_select())
        .load(conn)
        .await
}
