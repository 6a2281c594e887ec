//! The requests that reached a source's ingest URL, and the statements that accept them:
//! each request's dedupe key, its row and its event, all or nothing.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel::sql_types::{Array, BigInt, Bool, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
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

/// A verified request to accept: its log row, its dedupe key, and the event it publishes
/// (`request.event_id` is the event's id).
pub struct Verified {
    pub request: InboundRequest,
    pub dedupe_key: String,
    pub event: Event,
    /// The filters that match the event's type (`EventType::matching_filters`).
    pub filters: Vec<String>,
}

/// How an accepted request ended.
pub enum Accepted {
    /// Stored and published: the event.
    New(Event),
    /// Its dedupe key was accepted within the window: the first request's id.
    Duplicate(Uuid),
}

/// Accepts one request, the way [`accept_many`] and [`duplicates`] accept a batch: the
/// statement that takes its dedupe key and writes everything else only if it did, then,
/// for a key taken already, the statement that stores it as a duplicate of the first.
///
/// Tried again (at most twice more) when the key's row is gone by the second statement
/// (retention purged it at the edge of its window: the key is free again), and when
/// the database runs a stricter isolation than READ COMMITTED, where the second of two
/// copies fails to serialise instead of waiting (the retry finds the key taken).
pub async fn accept(conn: &AsyncPgConnection, v: &Verified) -> QueryResult<Accepted> {
    let mut tries = 0;
    loop {
        tries += 1;
        let again = tries < 3;
        match accept_many(conn, &[v]).await.map(|n| n.into_iter().next().flatten()) {
            Ok(Some(deliveries)) => return Ok(Accepted::New(Event { deliveries, ..v.event.clone() })),
            Ok(None) => match duplicates(conn, &[v]).await?.into_iter().next().flatten() {
                Some(first) => return Ok(Accepted::Duplicate(first)),
                None if again => continue,
                None => return Err(diesel::result::Error::NotFound),
            },
            Err(diesel::result::Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) if again => continue,
            Err(err) => return Err(err),
        }
    }
}

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = BigInt)]
    n: i64,
    /// The event's deliveries if this request took its dedupe key, else NULL (a
    /// duplicate: nothing of it was written).
    #[diesel(sql_type = Nullable<Int4>)]
    deliveries: Option<i32>,
}

/// One statement for a batch of verified requests, no two with the same source and
/// dedupe key: takes each request's dedupe key with `INSERT … ON CONFLICT` (a key
/// accepted within [`DEDUPE_WINDOW_HOURS`] stays taken), and for the requests that took
/// theirs, and only those, writes the event, its deliveries and the request row. One
/// statement, so no explicit transaction: all of it or nothing. Of two copies arriving at
/// once on different connections, the second waits for the first's commit and finds the
/// key taken, so exactly one is published; keys are taken in one order, so that two
/// batches cannot each wait for the other. Returns, per request in order, its event's
/// number of deliveries, or `None` when the key was taken already.
pub async fn accept_many(mut conn: &AsyncPgConnection, batch: &[&Verified]) -> QueryResult<Vec<Option<i32>>> {
    let (mut key_of, mut keys) = (Vec::new(), Vec::new());
    for (n, v) in (1i64..).zip(batch) {
        for key in match_keys(v.event.tenant_id, &v.filters) {
            key_of.push(n);
            keys.push(key);
        }
    }
    // the webhook lookup as in `events::insert_many`, whose comments say why it is so
    let rows: Vec<Taken> = prepared(
        diesel::sql_query(
            "WITH u AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::timestamptz[], $5::uuid[], \
               $6::text[], $7::uuid[], $8::text[], $9::text[], $10::jsonb[], $11::text[], $12::text[], $13::jsonb[], \
               $14::text[], $15::bool[], $16::text[]) WITH ORDINALITY AS u(source_id, dedupe_key, request_id, \
               received_at, tenant_id, consumer_id, event_id, event_type, body, source_headers, method, query, \
               headers, logged, truncated, matched, n)), \
             k AS (INSERT INTO inbound_dedupe (source_id, dedupe_key, request_id, created_at) \
               SELECT source_id, dedupe_key, request_id, received_at FROM u ORDER BY source_id, dedupe_key \
               ON CONFLICT (source_id, dedupe_key) DO UPDATE \
               SET request_id = EXCLUDED.request_id, created_at = EXCLUDED.created_at \
               WHERE inbound_dedupe.created_at < EXCLUDED.created_at - make_interval(hours => $19) \
               RETURNING request_id), \
             t AS (SELECT u.* FROM u JOIN k ON k.request_id = u.request_id), \
             f AS (SELECT n, array_agg(key) AS keys FROM unnest($17::int8[], $18::text[]) AS f(n, key) GROUP BY n), \
             w AS (SELECT t.n, m.id FROM t JOIN f ON f.n = t.n CROSS JOIN LATERAL \
               (SELECT id FROM webhooks WHERE match_keys && f.keys AND (tenant_id = t.tenant_id) IS TRUE AND active \
               AND (consumer_id IS NULL OR consumer_id = t.consumer_id) FOR KEY SHARE) m), \
             c AS (SELECT t.n, count(w.id)::int4 AS deliveries FROM t LEFT JOIN w ON w.n = t.n GROUP BY t.n), \
             e AS (INSERT INTO events (id, tenant_id, event_type, consumer_id, body, idempotency_key, test, deliveries, \
               created_at, source_id, inbound_request_id, source_headers) \
               SELECT t.event_id, t.tenant_id, t.event_type, t.consumer_id, t.body, NULL, false, c.deliveries, \
               t.received_at, t.source_id, t.request_id, t.source_headers FROM t JOIN c ON c.n = t.n), \
             d AS (INSERT INTO deliveries (id, tenant_id, event_id, webhook_id, event_type, status, next_attempt_at, test, \
               created_at, updated_at) \
               SELECT hookrelay_uuid_v7(), t.tenant_id, t.event_id, w.id, t.event_type, 'pending', t.received_at, false, \
               t.received_at, t.received_at FROM w JOIN t ON t.n = w.n), \
             r AS (INSERT INTO inbound_requests (id, tenant_id, source_id, received_at, method, query, headers, body, \
               body_truncated, status, failed_check, matched, dedupe_key, event_id) \
               SELECT request_id, tenant_id, source_id, received_at, method, query, headers, logged, truncated, \
               'accepted', NULL, matched, dedupe_key, event_id FROM t) \
             SELECT u.n, c.deliveries FROM u LEFT JOIN c ON c.n = u.n ORDER BY u.n",
        )
        .bind::<Array<SqlUuid>, _>(batch.iter().map(|v| v.request.source_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(batch.iter().map(|v| v.dedupe_key.as_str()).collect::<Vec<_>>())
        .bind::<Array<SqlUuid>, _>(batch.iter().map(|v| v.request.id).collect::<Vec<_>>())
        .bind::<Array<Timestamptz>, _>(batch.iter().map(|v| v.request.received_at).collect::<Vec<_>>())
        .bind::<Array<SqlUuid>, _>(batch.iter().map(|v| v.event.tenant_id).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(batch.iter().map(|v| v.event.consumer_id.as_deref()).collect::<Vec<_>>())
        .bind::<Array<SqlUuid>, _>(batch.iter().map(|v| v.event.id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(batch.iter().map(|v| v.event.event_type.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(batch.iter().map(|v| v.event.body.as_str()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Jsonb>>, _>(batch.iter().map(|v| v.event.source_headers.as_ref()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(batch.iter().map(|v| v.request.method.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(batch.iter().map(|v| v.request.query.as_str()).collect::<Vec<_>>())
        .bind::<Array<Jsonb>, _>(batch.iter().map(|v| &v.request.headers).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(batch.iter().map(|v| v.request.body.as_str()).collect::<Vec<_>>())
        .bind::<Array<Bool>, _>(batch.iter().map(|v| v.request.body_truncated).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(batch.iter().map(|v| v.request.matched.as_deref()).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(key_of)
        .bind::<Array<Text>, _>(keys)
        .bind::<Int4, _>(DEDUPE_WINDOW_HOURS as i32),
    )
    .load(&mut conn)
    .await?;
    if rows.len() != batch.len() || rows.iter().zip(1i64..).any(|(r, n)| r.n != n) {
        return Err(diesel::result::Error::DeserializationError(
            format!("a batch of {} inbound requests answered {} rows", batch.len(), rows.len()).into(),
        ));
    }
    Ok(rows.into_iter().map(|r| r.deliveries).collect())
}

#[derive(QueryableByName)]
struct First {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    request_id: Option<Uuid>,
}

/// Stores requests whose dedupe keys were taken as `duplicate`s of the requests that took
/// them, with those requests' events: one statement. Returns, per request in order, the
/// first request's id, or `None` (and nothing stored) when the key's row is gone (purged
/// at the edge of its window).
pub async fn duplicates(mut conn: &AsyncPgConnection, batch: &[&Verified]) -> QueryResult<Vec<Option<Uuid>>> {
    let rows: Vec<First> = prepared(
        diesel::sql_query(
            "WITH u AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::timestamptz[], $5::uuid[], \
               $6::text[], $7::text[], $8::jsonb[], $9::text[], $10::bool[], $11::text[]) WITH ORDINALITY \
               AS u(source_id, dedupe_key, request_id, received_at, tenant_id, method, query, headers, logged, \
               truncated, matched, n)), \
             f AS (SELECT u.*, k.request_id AS first, (SELECT event_id FROM inbound_requests WHERE id = k.request_id) \
               AS first_event FROM u LEFT JOIN inbound_dedupe k ON k.source_id = u.source_id \
               AND k.dedupe_key = u.dedupe_key), \
             r AS (INSERT INTO inbound_requests (id, tenant_id, source_id, received_at, method, query, headers, body, \
               body_truncated, status, failed_check, matched, dedupe_key, event_id) \
               SELECT request_id, tenant_id, source_id, received_at, method, query, headers, logged, truncated, \
               'duplicate', NULL, matched, dedupe_key, first_event FROM f WHERE first IS NOT NULL) \
             SELECT n, first AS request_id FROM f ORDER BY n",
        )
        .bind::<Array<SqlUuid>, _>(batch.iter().map(|v| v.request.source_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(batch.iter().map(|v| v.dedupe_key.as_str()).collect::<Vec<_>>())
        .bind::<Array<SqlUuid>, _>(batch.iter().map(|v| v.request.id).collect::<Vec<_>>())
        .bind::<Array<Timestamptz>, _>(batch.iter().map(|v| v.request.received_at).collect::<Vec<_>>())
        .bind::<Array<SqlUuid>, _>(batch.iter().map(|v| v.request.tenant_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(batch.iter().map(|v| v.request.method.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(batch.iter().map(|v| v.request.query.as_str()).collect::<Vec<_>>())
        .bind::<Array<Jsonb>, _>(batch.iter().map(|v| &v.request.headers).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(batch.iter().map(|v| v.request.body.as_str()).collect::<Vec<_>>())
        .bind::<Array<Bool>, _>(batch.iter().map(|v| v.request.body_truncated).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(batch.iter().map(|v| v.request.matched.as_deref()).collect::<Vec<_>>()),
    )
    .load(&mut conn)
    .await?;
    if rows.len() != batch.len() || rows.iter().zip(1i64..).any(|(r, n)| r.n != n) {
        return Err(diesel::result::Error::DeserializationError(
            format!("a batch of {} duplicates answered {} rows", batch.len(), rows.len()).into(),
        ));
    }
    Ok(rows.into_iter().map(|r| r.request_id).collect())
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
    // A request's id is made as it is received (`api::ingest`), within a few
    // milliseconds of `received_at`: the id bounds, a second wider, keep the scan on the
    // `(source_id, id)` index, and `received_at` decides exactly.
    if let Some(since) = filter.since {
        query = query
            .filter(inbound_requests::id.ge(super::v7_floor(since - Duration::seconds(1))))
            .filter(inbound_requests::received_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query
            .filter(inbound_requests::id.lt(super::v7_floor(until + Duration::seconds(1))))
            .filter(inbound_requests::received_at.lt(until));
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
