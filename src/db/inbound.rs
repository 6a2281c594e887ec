//! The requests that reached a source's ingest URL, and the statement that accepts one:
//! its dedupe key, its row and its event, all or nothing.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel::sql_types::{Array, Bool, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::events::{match_keys, Event};
use super::prepared::prepared;
use super::schema::inbound_requests;
use super::TenantId;

/// How long a dedupe key answers `duplicate` (SPEC: 72 h).
pub const DEDUPE_WINDOW_HOURS: i64 = 72;

/// Rejected requests stored per source per minute; the rest are only counted (SPEC).
pub const REJECTED_PER_MINUTE: i64 = 60;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = inbound_requests)]
pub struct InboundRequest {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub source_id: Uuid,
    pub received_at: DateTime<Utc>,
    pub method: String,
    /// The raw query string, credential values replaced by `****`.
    pub query: String,
    /// Signature and credential values replaced by `****`.
    pub headers: serde_json::Value,
    /// The first 64 KiB of the body as text.
    pub body: String,
    pub body_truncated: bool,
    /// `accepted`, `duplicate`, `rejected` or `handshake`.
    pub status: String,
    pub failed_check: Option<String>,
    pub matched: Option<String>,
    pub dedupe_key: Option<String>,
    pub event_id: Option<Uuid>,
}

/// How an accepted request ended.
pub enum Accepted {
    /// Stored and published: the event.
    New(Event),
    /// Its dedupe key was accepted within the window: the first request's id.
    Duplicate(Uuid),
}

#[derive(QueryableByName)]
struct Written {
    /// Whether this request took the dedupe key (else it is a duplicate, and nothing was
    /// written).
    #[diesel(sql_type = Bool)]
    first: bool,
    #[diesel(sql_type = Int4)]
    deliveries: i32,
}

#[derive(QueryableByName)]
struct First {
    #[diesel(sql_type = SqlUuid)]
    request_id: Uuid,
}

/// Stores a verified request and publishes its event: one statement, so one round trip
/// and no explicit transaction. A request whose dedupe key the source accepted within
/// [`DEDUPE_WINDOW_HOURS`] writes nothing there; a second statement stores it as a
/// `duplicate` of the first. The dedupe row is claimed with `INSERT … ON CONFLICT`: of
/// two copies arriving at once, the second waits for the first's commit and finds its
/// row taken, so exactly one is published.
///
/// Tried again (at most twice more) when the key's row is gone by the second statement
/// (retention purged it at the edge of its window: the key is free again), and when
/// the database runs a stricter isolation than READ COMMITTED, where the second of two
/// copies fails to serialise instead of waiting (the retry finds the key taken).
pub async fn accept(
    conn: &mut AsyncPgConnection,
    request: InboundRequest,
    dedupe_key: String,
    mut event: Event,
    filters: Vec<String>,
) -> QueryResult<Accepted> {
    let mut tries = 0;
    loop {
        tries += 1;
        let again = tries < 3;
        match write_first(conn, &request, &dedupe_key, &event, &filters).await {
            Ok(Some(deliveries)) => {
                event.deliveries = deliveries;
                return Ok(Accepted::New(event));
            }
            Ok(None) => match duplicate(conn, request.clone(), &dedupe_key).await? {
                Some(first) => return Ok(Accepted::Duplicate(first)),
                None if again => continue,
                None => return Err(diesel::result::Error::NotFound),
            },
            Err(diesel::result::Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) if again => continue,
            Err(err) => return Err(err),
        }
    }
}

/// The statement that takes the dedupe key and, only if it did, writes the event, its
/// deliveries and the request row: the event's number of deliveries, or `None` when the
/// key was taken already.
async fn write_first(
    conn: &mut AsyncPgConnection,
    request: &InboundRequest,
    dedupe_key: &str,
    e: &Event,
    filters: &[String],
) -> QueryResult<Option<i32>> {
    let written: Written = prepared(
        diesel::sql_query(
            "WITH k AS (INSERT INTO inbound_dedupe (source_id, dedupe_key, request_id, created_at) \
               VALUES ($1, $2, $3, $4) ON CONFLICT (source_id, dedupe_key) DO UPDATE \
               SET request_id = EXCLUDED.request_id, created_at = EXCLUDED.created_at \
               WHERE inbound_dedupe.created_at < $5 RETURNING request_id), \
             w AS (SELECT id FROM webhooks WHERE tenant_id = $6 AND match_keys && $7::text[] AND active \
               AND (consumer_id IS NULL OR consumer_id = $8) AND EXISTS (SELECT 1 FROM k) FOR KEY SHARE), \
             e AS (INSERT INTO events (id, tenant_id, event_type, consumer_id, body, idempotency_key, test, deliveries, \
               created_at, source_id, inbound_request_id, source_headers) \
               SELECT $9, $6, $10, $8, $11, NULL, false, (SELECT count(*) FROM w), $4, $1, $3, $12 \
               WHERE EXISTS (SELECT 1 FROM k) RETURNING deliveries), \
             d AS (INSERT INTO deliveries (id, tenant_id, event_id, webhook_id, event_type, status, next_attempt_at, test, \
               created_at, updated_at) \
               SELECT hookrelay_uuid_v7(), $6, $9, w.id, $10, 'pending', $4, false, $4, $4 FROM w), \
             r AS (INSERT INTO inbound_requests (id, tenant_id, source_id, received_at, method, query, headers, body, \
               body_truncated, status, failed_check, matched, dedupe_key, event_id) \
               SELECT $3, $6, $1, $4, $13, $14, $15, $16, $17, 'accepted', NULL, $18, $2, $9 \
               WHERE EXISTS (SELECT 1 FROM k)) \
             SELECT EXISTS (SELECT 1 FROM k) AS first, coalesce((SELECT deliveries FROM e), 0) AS deliveries",
        )
        .bind::<SqlUuid, _>(request.source_id)
        .bind::<Text, _>(dedupe_key)
        .bind::<SqlUuid, _>(request.id)
        .bind::<Timestamptz, _>(request.received_at)
        .bind::<Timestamptz, _>(request.received_at - Duration::hours(DEDUPE_WINDOW_HOURS))
        .bind::<SqlUuid, _>(e.tenant_id)
        .bind::<Array<Text>, _>(match_keys(e.tenant_id, filters))
        .bind::<Nullable<Text>, _>(&e.consumer_id)
        .bind::<SqlUuid, _>(e.id)
        .bind::<Text, _>(&e.event_type)
        .bind::<Text, _>(&e.body)
        .bind::<Nullable<Jsonb>, _>(&e.source_headers)
        .bind::<Text, _>(&request.method)
        .bind::<Text, _>(&request.query)
        .bind::<Jsonb, _>(&request.headers)
        .bind::<Text, _>(&request.body)
        .bind::<Bool, _>(request.body_truncated)
        .bind::<Nullable<Text>, _>(&request.matched),
    )
    .get_result(conn)
    .await?;
    Ok(written.first.then_some(written.deliveries))
}

/// Stores a duplicate, with the first request's event; returns the first request's id,
/// or `None` when the key's row is gone (purged at the edge of its window).
async fn duplicate(
    conn: &mut AsyncPgConnection,
    mut request: InboundRequest,
    dedupe_key: &str,
) -> QueryResult<Option<Uuid>> {
    let first: Option<First> =
        diesel::sql_query("SELECT request_id FROM inbound_dedupe WHERE source_id = $1 AND dedupe_key = $2")
            .bind::<SqlUuid, _>(request.source_id)
            .bind::<Text, _>(dedupe_key)
            .get_result(conn)
            .await
            .optional()?;
    let Some(first) = first else { return Ok(None) };
    request.status = "duplicate".into();
    request.dedupe_key = Some(dedupe_key.to_owned());
    request.event_id = inbound_requests::table
        .find(first.request_id)
        .select(inbound_requests::event_id)
        .first::<Option<Uuid>>(conn)
        .await
        .optional()?
        .flatten();
    diesel::insert_into(inbound_requests::table).values(&request).execute(conn).await?;
    Ok(Some(first.request_id))
}

/// Stores a request that published nothing (a handshake, or a rejection while the
/// source's rejections of the last minute are fewer than [`REJECTED_PER_MINUTE`]).
/// Returns whether it was stored.
pub async fn record(conn: &mut AsyncPgConnection, request: &InboundRequest) -> QueryResult<bool> {
    if request.status == "rejected" {
        let minute_ago = super::v7_floor(request.received_at - Duration::minutes(1));
        let recent: i64 = inbound_requests::table
            .filter(inbound_requests::source_id.eq(request.source_id))
            .filter(inbound_requests::id.ge(minute_ago))
            .filter(inbound_requests::status.eq("rejected"))
            .count()
            .get_result(conn)
            .await?;
        if recent >= REJECTED_PER_MINUTE {
            return Ok(false);
        }
    }
    diesel::insert_into(inbound_requests::table).values(request).execute(conn).await?;
    Ok(true)
}

pub struct RequestFilter<'a> {
    pub status: Option<&'a str>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// A source's requests, newest first, after the cursor's id.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    source: Uuid,
    filter: RequestFilter<'_>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<InboundRequest>> {
    let mut query = inbound_requests::table
        .filter(inbound_requests::tenant_id.eq(tenant.0))
        .filter(inbound_requests::source_id.eq(source))
        .select(InboundRequest::as_select())
        .order(inbound_requests::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(inbound_requests::status.eq(status.to_owned()));
    }
    if let Some(since) = filter.since {
        query = query.filter(inbound_requests::received_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(inbound_requests::received_at.lt(until));
    }
    if let Some(after) = after {
        query = query.filter(inbound_requests::id.lt(after));
    }
    query.load(conn).await
}

pub async fn get(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    source: Uuid,
    id: Uuid,
) -> QueryResult<InboundRequest> {
    inbound_requests::table
        .filter(inbound_requests::id.eq(id))
        .filter(inbound_requests::tenant_id.eq(tenant.0))
        .filter(inbound_requests::source_id.eq(source))
        .select(InboundRequest::as_select())
        .first(conn)
        .await
}
