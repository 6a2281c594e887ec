//! Events, and the publish transaction that fans an event out into deliveries.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::deliveries::NewDelivery;
use super::schema::{deliveries, events, webhooks};
use super::TenantId;

/// How long an idempotency key answers with the first publish.
pub const IDEMPOTENCY_WINDOW_HOURS: i64 = 24;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct Event {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub event_type: String,
    pub consumer_id: Option<String>,
    pub body: String,
    pub idempotency_key: Option<String>,
    pub test: bool,
    pub deliveries: i32,
    pub created_at: DateTime<Utc>,
}

/// What a publish should create: the event row, and either the webhooks whose filters
/// match (`Fanout`) or one named webhook (`Test`).
pub struct NewEvent {
    pub event: Event,
    pub target: Target,
}

pub enum Target {
    /// Every active webhook of the tenant matching one of these filters and the consumer.
    Fanout { filters: Vec<String> },
    /// One webhook, whatever its filter or active flag (test events).
    Webhook(Uuid),
}

pub enum Published {
    Created(Event),
    /// The idempotency key was used within the window: the first event, nothing created.
    Replayed(Event),
}

pub async fn find_by_idempotency_key(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    key: &str,
) -> QueryResult<Option<Event>> {
    events::table
        .filter(events::tenant_id.eq(tenant.0))
        .filter(events::idempotency_key.eq(key))
        .filter(events::created_at.gt(Utc::now() - Duration::hours(IDEMPOTENCY_WINDOW_HOURS)))
        .select(Event::as_select())
        .first(conn)
        .await
        .optional()
}

/// Stores the event and all its deliveries in one transaction and wakes the dispatchers
/// when it commits. A unique violation on the idempotency key (a concurrent publish with
/// the same key) surfaces as a database error for the caller to resolve by re-reading.
pub async fn publish(conn: &mut AsyncPgConnection, new: NewEvent) -> QueryResult<Published> {
    let NewEvent { mut event, target } = new;
    conn.transaction(async move |conn| {
        let tenant = TenantId(event.tenant_id);
        if let Some(key) = &event.idempotency_key {
            if let Some(first) = find_by_idempotency_key(conn, tenant, key).await? {
                return Ok(Published::Replayed(first));
            }
            // an expired use of the key frees it
            diesel::update(events::table)
                .filter(events::tenant_id.eq(tenant.0))
                .filter(events::idempotency_key.eq(key))
                .set(events::idempotency_key.eq(None::<String>))
                .execute(conn)
                .await?;
        }
        let webhook_ids: Vec<Uuid> = match &target {
            Target::Fanout { filters } => {
                let mut query = webhooks::table
                    .filter(webhooks::tenant_id.eq(tenant.0))
                    .filter(webhooks::active.eq(true))
                    .filter(webhooks::events.overlaps_with(filters))
                    .select(webhooks::id)
                    .into_boxed();
                query = match &event.consumer_id {
                    Some(consumer) => {
                        query.filter(webhooks::consumer_id.is_null().or(webhooks::consumer_id.eq(consumer.clone())))
                    }
                    None => query.filter(webhooks::consumer_id.is_null()),
                };
                query.load(conn).await?
            }
            Target::Webhook(id) => vec![*id],
        };
        event.deliveries = i32::try_from(webhook_ids.len()).unwrap_or(i32::MAX);
        diesel::insert_into(events::table).values(&event).execute(conn).await?;
        if !webhook_ids.is_empty() {
            let rows: Vec<NewDelivery> =
                webhook_ids.into_iter().map(|webhook_id| NewDelivery::pending(&event, webhook_id)).collect();
            // PostgreSQL takes at most 65,535 bind parameters per statement
            for chunk in rows.chunks(4_000) {
                diesel::insert_into(deliveries::table).values(chunk).execute(conn).await?;
            }
            super::queue::wake(conn).await?;
        }
        Ok(Published::Created(event))
    })
    .await
}

pub async fn get(conn: &mut AsyncPgConnection, tenant: TenantId, id: Uuid) -> QueryResult<Event> {
    events::table
        .filter(events::id.eq(id))
        .filter(events::tenant_id.eq(tenant.0))
        .select(Event::as_select())
        .first(conn)
        .await
}

pub struct EventFilter<'a> {
    pub event_type: Option<&'a str>,
    pub consumer_id: Option<&'a str>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    filter: EventFilter<'_>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Event>> {
    let mut query = events::table
        .filter(events::tenant_id.eq(tenant.0))
        .select(Event::as_select())
        .order(events::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(t) = filter.event_type {
        query = query.filter(events::event_type.eq(t.to_owned()));
    }
    if let Some(c) = filter.consumer_id {
        query = query.filter(events::consumer_id.eq(c.to_owned()));
    }
    if let Some(since) = filter.since {
        query = query.filter(events::created_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(events::created_at.lt(until));
    }
    if let Some(after) = after {
        query = query.filter(events::id.lt(after));
    }
    query.load(conn).await
}
