//! Sources: a tenant's ingest URLs for providers' webhooks (SPEC "Inbound sources").
//! Secrets and the URL's token are sealed (`crate::secrets`), with the source id as the
//! associated data; the token is looked up by its SHA-256.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::schema::{sources, tenants};
use super::TenantId;

/// Most sources a tenant holds (SPEC).
pub const MAX_PER_TENANT: i64 = 100;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sources, treat_none_as_null = true)]
pub struct Source {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub provider: String,
    /// Every field of the provider's config but the secret ones.
    pub config: serde_json::Value,
    /// The secret fields, one JSON object, sealed.
    pub secrets: String,
    pub previous_secrets: Option<String>,
    pub previous_secrets_expire_at: Option<DateTime<Utc>>,
    pub event_type: Option<String>,
    pub consumer_id: Option<String>,
    pub active: bool,
    pub token_hash: Vec<u8>,
    /// The ingest URL's token, sealed.
    pub token: String,
    pub previous_token_hash: Option<Vec<u8>>,
    pub previous_token_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the ingest route looks a token up by.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Inserts the source unless its tenant holds [`MAX_PER_TENANT`] already (then `false`).
/// The tenant's row is locked meanwhile, so that concurrent creates count one another.
pub async fn insert(conn: &mut AsyncPgConnection, source: &Source) -> QueryResult<bool> {
    conn.transaction(async |conn| {
        tenants::table.find(source.tenant_id).select(tenants::id).for_update().first::<Uuid>(conn).await?;
        let held: i64 = sources::table.filter(sources::tenant_id.eq(source.tenant_id)).count().get_result(conn).await?;
        if held >= MAX_PER_TENANT {
            return Ok(false);
        }
        diesel::insert_into(sources::table).values(source).execute(conn).await?;
        Ok(true)
    })
    .await
}

pub async fn get(conn: &mut AsyncPgConnection, tenant: TenantId, id: Uuid) -> QueryResult<Source> {
    sources::table
        .filter(sources::id.eq(id))
        .filter(sources::tenant_id.eq(tenant.0))
        .select(Source::as_select())
        .first(conn)
        .await
}

/// Newest first, after the cursor's id.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Source>> {
    let mut query = sources::table
        .filter(sources::tenant_id.eq(tenant.0))
        .select(Source::as_select())
        .order(sources::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(sources::id.lt(after));
    }
    query.load(conn).await
}

/// Writes every field of `source`, which the caller made from `read`, unless the row
/// changed since it was read (another PATCH, a rotate-url, a re-encryption): then
/// `false`, and nothing is written, so that no change or re-sealed value is lost.
pub async fn update(conn: &mut AsyncPgConnection, source: &Source, read: &Source) -> QueryResult<bool> {
    let n = diesel::update(sources::table)
        .filter(sources::id.eq(source.id))
        .filter(sources::tenant_id.eq(source.tenant_id))
        .filter(sources::updated_at.eq(read.updated_at))
        .filter(sources::token.eq(&read.token))
        .filter(sources::secrets.eq(&read.secrets))
        .filter(sources::previous_secrets.is_not_distinct_from(&read.previous_secrets))
        .set(source)
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Deletes the source; its requests and their events stay until retention.
pub async fn delete(conn: &mut AsyncPgConnection, tenant: TenantId, id: Uuid) -> QueryResult<bool> {
    let n = diesel::delete(sources::table)
        .filter(sources::id.eq(id))
        .filter(sources::tenant_id.eq(tenant.0))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// The source whose ingest URL carries `token`: its current token, or its previous one
/// while that still works.
pub async fn by_token(conn: &mut AsyncPgConnection, token: &str) -> QueryResult<Option<Source>> {
    let hash = token_hash(token);
    sources::table
        .filter(
            sources::token_hash
                .eq(&hash)
                .or(sources::previous_token_hash.eq(&hash).and(sources::previous_token_expires_at.gt(Utc::now()))),
        )
        .select(Source::as_select())
        .first(conn)
        .await
        .optional()
}
