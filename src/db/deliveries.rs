//! Deliveries: one per (event, webhook), the unit the dispatcher claims and retries.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::ids::DeliveryStatus;

use super::schema::{deliveries, webhooks};
use super::stats::Increments;
use super::TenantId;

pub const PENDING: &str = DeliveryStatus::Pending.as_str();
pub const SUCCEEDED: &str = DeliveryStatus::Succeeded.as_str();
pub const FAILED: &str = DeliveryStatus::Failed.as_str();

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deliveries)]
pub struct Delivery {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub event_id: Uuid,
    pub webhook_id: Uuid,
    pub event_type: String,
    pub status: String,
    pub attempt_count: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub test: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The delivery's webhook is not deleted: a deleted webhook's deliveries answer 404 at
/// once, while the upkeep deletes them in the background.
#[diesel::dsl::auto_type]
fn of_live_webhook() -> _ {
    diesel::dsl::exists(
        webhooks::table.filter(webhooks::id.eq(deliveries::webhook_id)).filter(webhooks::deleted_at.is_null()),
    )
}

pub async fn get(conn: &mut AsyncPgConnection, tenant: TenantId, id: Uuid) -> QueryResult<Delivery> {
    deliveries::table
        .filter(deliveries::id.eq(id))
        .filter(deliveries::tenant_id.eq(tenant.0))
        .filter(of_live_webhook())
        .select(Delivery::as_select())
        .first(conn)
        .await
}

#[derive(Default)]
pub struct DeliveryFilter<'a> {
    pub status: Option<&'a str>,
    pub webhook_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    /// Only deliveries of this consumer's webhooks (a portal session's).
    pub consumer_id: Option<&'a str>,
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    filter: DeliveryFilter<'_>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    let mut query = deliveries::table
        .filter(deliveries::tenant_id.eq(tenant.0))
        .filter(of_live_webhook())
        .select(Delivery::as_select())
        .order(deliveries::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(deliveries::status.eq(status.to_owned()));
    }
    if let Some(webhook_id) = filter.webhook_id {
        query = query.filter(deliveries::webhook_id.eq(webhook_id));
    }
    if let Some(event_id) = filter.event_id {
        query = query.filter(deliveries::event_id.eq(event_id));
    }
    if let Some(consumer) = filter.consumer_id {
        let theirs = webhooks::table
            .filter(webhooks::tenant_id.eq(tenant.0))
            .filter(webhooks::consumer_id.eq(consumer.to_owned()))
            .select(webhooks::id);
        query = query.filter(deliveries::webhook_id.eq_any(theirs));
    }
    if let Some(after) = after {
        query = query.filter(deliveries::id.lt(after));
    }
    query.load(conn).await
}

pub enum Retried {
    Started(Delivery),
    StillPending,
}

/// Starts a new series of attempts for a finished delivery, due at once. Attempt numbers
/// keep counting; the series counter restarts so the webhook's schedule applies again.
/// The delivery is no longer finished, so its stats count it as pending again. The
/// caller wakes the dispatchers once it is committed.
pub async fn retry(conn: &mut AsyncPgConnection, tenant: TenantId, id: Uuid) -> QueryResult<Retried> {
    conn.transaction(async move |conn| {
        let current: Delivery = deliveries::table
            .filter(deliveries::id.eq(id))
            .filter(deliveries::tenant_id.eq(tenant.0))
            .filter(of_live_webhook())
            .select(Delivery::as_select())
            .for_update()
            .first(conn)
            .await?;
        if current.status == PENDING {
            return Ok(Retried::StillPending);
        }
        let now = Utc::now();
        let delivery = diesel::update(deliveries::table.find(id))
            .set((
                deliveries::status.eq(PENDING),
                deliveries::series_attempts.eq(0),
                deliveries::next_attempt_at.eq(Some(now)),
                deliveries::updated_at.eq(now),
            ))
            .returning(Delivery::as_returning())
            .get_result(conn)
            .await?;
        let mut stats = Increments::default();
        let (succeeded, failed) = (current.status == SUCCEEDED, current.status == FAILED);
        stats.delivery(tenant.0, current.webhook_id, current.created_at, 0, -i32::from(succeeded), -i32::from(failed));
        super::stats::apply(conn, stats).await?;
        Ok(Retried::Started(delivery))
    })
    .await
}
