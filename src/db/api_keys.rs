//! API keys: only their SHA-256 hash is stored.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::api_keys;
use super::TenantId;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub prefix: String,
    pub key_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// `all` or `publish` (see `auth::Scope`)
    pub scope: String,
}

pub async fn insert(conn: &mut AsyncPgConnection, key: &ApiKey) -> QueryResult<()> {
    diesel::insert_into(api_keys::table).values(key).execute(conn).await?;
    Ok(())
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<ApiKey>> {
    let mut query = api_keys::table
        .filter(api_keys::tenant_id.eq(tenant.0))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKey::as_select())
        .order(api_keys::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(api_keys::id.lt(after));
    }
    query.load(conn).await
}

/// Revokes a key; false when the tenant has no such live key.
pub async fn revoke(conn: &mut AsyncPgConnection, tenant: TenantId, id: Uuid) -> QueryResult<bool> {
    let n = diesel::update(api_keys::table)
        .filter(api_keys::id.eq(id))
        .filter(api_keys::tenant_id.eq(tenant.0))
        .filter(api_keys::revoked_at.is_null())
        .set(api_keys::revoked_at.eq(Utc::now()))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Finds the live key with this hash (its tenant and scope) and notes its use (at most once a minute, so that
/// publishing does not write a row per request).
pub async fn authenticate(conn: &mut AsyncPgConnection, key_hash: &[u8]) -> QueryResult<Option<(TenantId, String)>> {
    let found: Option<(Uuid, Uuid, Option<DateTime<Utc>>, String)> = api_keys::table
        .filter(api_keys::key_hash.eq(key_hash))
        .filter(api_keys::revoked_at.is_null())
        .select((api_keys::id, api_keys::tenant_id, api_keys::last_used_at, api_keys::scope))
        .first(conn)
        .await
        .optional()?;
    let Some((id, tenant_id, last_used_at, scope)) = found else {
        return Ok(None);
    };
    let now = Utc::now();
    if last_used_at.is_none_or(|t| now - t > chrono::Duration::seconds(60)) {
        diesel::update(api_keys::table.find(id)).set(api_keys::last_used_at.eq(now)).execute(conn).await?;
    }
    Ok(Some((TenantId(tenant_id), scope)))
}
