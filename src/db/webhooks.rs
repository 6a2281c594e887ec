//! Webhook subscriptions.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{tenants, webhook_logs, webhooks};
use super::webhook_health::HealthColumns;
use super::TenantId;

/// No `Debug`: it holds the signing secrets.
#[derive(Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = webhooks)]
pub struct Webhook {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    /// `http` (it has a url) or `relay` (no url: its deliveries wait for a listener).
    pub kind: String,
    pub url: Option<String>,
    pub events: Vec<String>,
    pub consumer_id: Option<String>,
    pub description: Option<String>,
    pub headers: serde_json::Value,
    pub active: bool,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub rate_limit_per_minute: Option<i32>,
    pub max_concurrency: i32,
    pub retry_schedule: Option<Vec<i32>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set by a receiver's Retry-After; in the past once the pause is over.
    pub paused_until: Option<DateTime<Utc>>,
    /// Below `max_concurrency` while the endpoint struggles; `None` at the maximum.
    pub adaptive_concurrency: Option<i32>,
    /// `manual` or `failing` while inactive (see [`DISABLED_MANUALLY`]).
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Kept by the recorder for `health`; a new webhook has none.
    #[diesel(embed)]
    pub health: HealthColumns,
}

/// The `disabledReason` of a webhook its owner made inactive.
pub const DISABLED_MANUALLY: &str = "manual";

impl Webhook {
    /// The previous secret while its overlap lasts.
    pub fn live_previous_secret(&self, now: DateTime<Utc>) -> Option<&str> {
        match (&self.previous_secret, self.previous_secret_expires_at) {
            (Some(secret), Some(expires)) if expires > now => Some(secret),
            _ => None,
        }
    }
}

/// The fields a PATCH may change; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = webhooks)]
pub struct WebhookChanges {
    pub name: Option<String>,
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub consumer_id: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub headers: Option<serde_json::Value>,
    pub active: Option<bool>,
    pub disabled_reason: Option<Option<String>>,
    pub disabled_at: Option<Option<DateTime<Utc>>>,
    /// Set back by a re-enable, so that auto-disable counts a whole new streak.
    pub failing_since: Option<Option<DateTime<Utc>>>,
    pub failed_streak: Option<i32>,
    pub rate_limit_per_minute: Option<Option<i32>>,
    pub max_concurrency: Option<i32>,
    pub retry_schedule: Option<Option<Vec<i32>>>,
    pub updated_at: Option<DateTime<Utc>>,
}

pub enum Inserted {
    Created(Box<Webhook>),
    LimitReached,
}

/// Inserts a webhook unless the tenant already holds `max` of them. The tenant row is
/// locked so that concurrent creates cannot both slip under the limit.
pub async fn insert(conn: &mut AsyncPgConnection, webhook: Webhook, max: i64) -> QueryResult<Inserted> {
    conn.transaction(async move |conn| {
        tenants::table.find(webhook.tenant_id).select(tenants::id).for_no_key_update().first::<Uuid>(conn).await?;
        let count: i64 = webhooks::table
            .filter(webhooks::tenant_id.eq(webhook.tenant_id))
            .filter(webhooks::deleted_at.is_null())
            .count()
            .get_result(conn)
            .await?;
        if count >= max {
            return Ok(Inserted::LimitReached);
        }
        let row = diesel::insert_into(webhooks::table)
            .values(&webhook)
            .returning(Webhook::as_returning())
            .get_result(conn)
            .await?;
        Ok(Inserted::Created(Box::new(row)))
    })
    .await
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    consumer_id: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Webhook>> {
    let mut query = webhooks::table
        .filter(webhooks::tenant_id.eq(tenant.0))
        .filter(webhooks::deleted_at.is_null())
        .select(Webhook::as_select())
        .order(webhooks::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(consumer_id) = consumer_id {
        query = query.filter(webhooks::consumer_id.eq(consumer_id.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(webhooks::id.lt(after));
    }
    query.load(conn).await
}

pub async fn get(conn: &mut AsyncPgConnection, tenant: TenantId, id: Uuid) -> QueryResult<Webhook> {
    webhooks::table
        .filter(webhooks::id.eq(id))
        .filter(webhooks::tenant_id.eq(tenant.0))
        .filter(webhooks::deleted_at.is_null())
        .select(Webhook::as_select())
        .first(conn)
        .await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    id: Uuid,
    changes: &WebhookChanges,
) -> QueryResult<Webhook> {
    diesel::update(webhooks::table)
        .filter(webhooks::id.eq(id))
        .filter(webhooks::tenant_id.eq(tenant.0))
        .filter(webhooks::deleted_at.is_null())
        .set(changes)
        .returning(Webhook::as_returning())
        .get_result(conn)
        .await
}

/// Deletes a webhook: from now on it answers 404, matches no event and has nothing
/// claimed; its deliveries, stats rows and logs are deleted in the background
/// ([`purge_deleted`]), so that deleting a webhook with millions of deliveries neither
/// waits nor holds up recording.
pub async fn delete(conn: &mut AsyncPgConnection, tenant: TenantId, id: Uuid) -> QueryResult<bool> {
    let n = diesel::update(webhooks::table)
        .filter(webhooks::id.eq(id))
        .filter(webhooks::tenant_id.eq(tenant.0))
        .filter(webhooks::deleted_at.is_null())
        .set((webhooks::deleted_at.eq(Some(Utc::now())), webhooks::active.eq(false)))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

#[derive(QueryableByName)]
struct Deleted {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    tenant_id: Uuid,
}

#[derive(QueryableByName)]
struct Gone {
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    unfinished: bool,
}

/// Deletes what deleted webhooks leave, `batch` deliveries per transaction, and each
/// webhook's row once its deliveries are gone. Returns the deliveries deleted.
///
/// The batches skip deliveries that are locked (being recorded or claimed: the next batch
/// takes them) and do not take the record lock, so recording goes on meanwhile; each takes
/// its attempted but unfinished deliveries out of the tenant's stats, where they would
/// otherwise stay pending forever. Then its logs go, in batches; the last step, with
/// nothing left to cascade, is the one under the record lock. A round stops starting
/// batches after `budget` and the next round goes on where it stopped.
pub async fn purge_deleted(
    conn: &mut AsyncPgConnection,
    batch: i64,
    budget: std::time::Duration,
) -> QueryResult<usize> {
    let started = std::time::Instant::now();
    let doomed: Vec<Deleted> = diesel::sql_query(
        "SELECT id, tenant_id FROM webhooks WHERE deleted_at IS NOT NULL ORDER BY deleted_at LIMIT 16",
    )
    .load(conn)
    .await?;
    let mut purged = 0;
    for w in doomed {
        let tenant = TenantId(w.tenant_id);
        loop {
            if started.elapsed() >= budget {
                // the rest at the next round: other upkeep waits on this one
                return Ok(purged);
            }
            let n = purge_deliveries_batch(conn, tenant, w.id, batch).await?;
            purged += n;
            if n < usize::try_from(batch).unwrap_or(usize::MAX) {
                break;
            }
        }
        // its logs, in batches too (millions, for a busy webhook), before the row goes, so
        // that a round cut short comes back to them
        loop {
            if started.elapsed() >= budget {
                return Ok(purged);
            }
            let n = purge_logs_batch(conn, tenant, w.id, batch).await?;
            if n < usize::try_from(batch).unwrap_or(usize::MAX) {
                break;
            }
        }
        purged += purge_webhook_row(conn, tenant, w.id).await?;
        // The logs of attempts recorded meanwhile (of deliveries a batch skipped); no log can
        // be added any more (recording locks the deliveries, which are gone). Logs left
        // behind by a failure or a crash are unreachable and purged by retention.
        diesel::delete(webhook_logs::table)
            .filter(webhook_logs::webhook_id.eq(w.id))
            .filter(webhook_logs::tenant_id.eq(w.tenant_id))
            .execute(conn)
            .await?;
    }
    Ok(purged)
}

/// One transaction of [`purge_deleted`]: up to `batch` of the deleted webhook's deliveries
/// that no one has locked, out of the deliveries and of the tenant's stats. Returns how many.
async fn purge_deliveries_batch(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    webhook: Uuid,
    batch: i64,
) -> QueryResult<usize> {
    conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
        let gone: Vec<Gone> = diesel::sql_query(
            "DELETE FROM deliveries d WHERE d.id IN (SELECT id FROM deliveries \
               WHERE webhook_id = $1 LIMIT $2 FOR UPDATE SKIP LOCKED) AND d.webhook_id = $1 \
             RETURNING d.created_at, d.status = 'pending' AND d.attempt_count > 0 AS unfinished",
        )
        .bind::<diesel::sql_types::Uuid, _>(webhook)
        .bind::<diesel::sql_types::BigInt, _>(batch)
        .load(conn)
        .await?;
        super::stats::forget_unfinished(
            conn,
            tenant,
            webhook,
            gone.iter().filter(|g| g.unfinished).map(|g| g.created_at),
        )
        .await?;
        Ok(gone.len())
    })
    .await
}

/// Up to `batch` of the deleted webhook's logs. Returns how many.
async fn purge_logs_batch(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    webhook: Uuid,
    batch: i64,
) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM webhook_logs WHERE id IN \
         (SELECT id FROM webhook_logs WHERE webhook_id = $1 AND tenant_id = $2 LIMIT $3)",
    )
    .bind::<diesel::sql_types::Uuid, _>(webhook)
    .bind::<diesel::sql_types::Uuid, _>(tenant.0)
    .bind::<diesel::sql_types::BigInt, _>(batch)
    .execute(conn)
    .await
}

/// The last step of [`purge_deleted`], under the record lock: the deliveries left, then
/// the webhook's row and its stats. Returns the deliveries deleted.
async fn purge_webhook_row(conn: &mut AsyncPgConnection, tenant: TenantId, webhook: Uuid) -> QueryResult<usize> {
    conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
        crate::db::locks::lock_recording(conn).await?;
        // deliveries a batch skipped, or a publish added as the webhook was deleted
        let gone: Vec<Gone> = diesel::sql_query(
            "DELETE FROM deliveries d WHERE d.webhook_id = $1 \
             RETURNING d.created_at, d.status = 'pending' AND d.attempt_count > 0 AS unfinished",
        )
        .bind::<diesel::sql_types::Uuid, _>(webhook)
        .load(conn)
        .await?;
        super::stats::forget_unfinished(
            conn,
            tenant,
            webhook,
            gone.iter().filter(|g| g.unfinished).map(|g| g.created_at),
        )
        .await?;
        diesel::delete(webhooks::table).filter(webhooks::id.eq(webhook)).execute(conn).await?;
        super::stats::delete_webhook(conn, tenant, webhook).await?;
        Ok(gone.len())
    })
    .await
}

/// Makes `new_secret` (sealed) current; the secret it replaces keeps signing until
/// `overlap_until`.
/// A webhook keeps one previous secret, so a second rotation ends the first overlap.
pub async fn rotate_secret(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    id: Uuid,
    new_secret: &str,
    overlap_until: DateTime<Utc>,
) -> QueryResult<Webhook> {
    diesel::update(webhooks::table)
        .filter(webhooks::id.eq(id))
        .filter(webhooks::tenant_id.eq(tenant.0))
        .filter(webhooks::deleted_at.is_null())
        .set((
            webhooks::previous_secret.eq(webhooks::secret.nullable()),
            webhooks::previous_secret_expires_at.eq(Some(overlap_until)),
            webhooks::secret.eq(new_secret),
            webhooks::updated_at.eq(Utc::now()),
        ))
        .returning(Webhook::as_returning())
        .get_result(conn)
        .await
}
