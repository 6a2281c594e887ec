//! `/in/{token}`: a source's ingest URL (SPEC "Inbound sources"). No `Authorization`: the
//! token names the source, and the provider's signature proves the request. The body is
//! read as bytes and verified before anything parses it (`inbound::receive`); a verified
//! request is stored and published in one statement, group-committed with others
//! (`queue::pg::publisher`, `db::inbound::accept_many`), and only then answered 200.

use actix_web::http::{header, Method};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Map, Value};

use crate::api::body::{declared_length, read_limited};
use crate::api::route::resource;
use crate::api::sources::{ingest_url, open};
use crate::api::state::AppState;
use crate::api::tenant_limits::Class;
use crate::db::inbound::{self, Accepted, InboundRequest, Verified};
use crate::db::sources::{self, Source};
use crate::db::{events::Event, new_id, TenantId};
use crate::domain::event::EventType;
use crate::error::{ApiError, ApiResult};
use crate::inbound::{self as verify, Check, Credentials, Provider, Request, Verdict};

/// How much of a body the request log keeps.
const LOGGED_BODY: usize = 64 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/in/{token}").route(web::route().to(ingest)));
}

/// What arrived, read once.
struct Arrival {
    method: String,
    query: String,
    headers: Vec<(String, String)>,
    body: web::Bytes,
}

async fn ingest(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (source, provider) = find(&state, &req, &token).await?;
    let arrival = admit(&state, &req, &source, provider, payload).await?;
    let opened = open(&state.config.sealer, &source)?;
    let url = match arrival.query.as_str() {
        "" => ingest_url(&state, &token),
        q => format!("{}?{q}", ingest_url(&state, &token)),
    };
    let request = Request {
        method: &arrival.method,
        url: &url,
        query: &arrival.query,
        headers: &arrival.headers,
        body: &arrival.body,
        now: Utc::now().timestamp(),
    };
    let creds = Credentials { current: &opened.current, previous: opened.previous.as_ref() };
    let verdict = verify::receive(provider, &creds, &request, source.event_type.as_deref());
    let mut row = log_row(&source, provider, &opened.current, &arrival);
    match verdict {
        Verdict::Handshake { status, content_type, body } => {
            // a handshake refused (Meta's wrong verify token) is a rejection
            if status < 400 {
                row.status = "handshake".into();
            } else {
                row.status = "rejected".into();
                row.failed_check = Some(Check::WrongCredentials.as_str().to_owned());
            }
            store(&state, &row).await?;
            let status = actix_web::http::StatusCode::from_u16(status)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("a handshake answered {status}: {e}")))?;
            Ok(HttpResponse::build(status).insert_header((header::CONTENT_TYPE, content_type)).body(body))
        }
        Verdict::BadRequest(message) => Err(reject(&state, row, None, ApiError::BadRequest(message)).await),
        Verdict::Rejected(check) => Err(reject(&state, row, Some(check), ApiError::Unverified(check.as_str())).await),
        Verdict::Accepted { matched, event_type, dedupe_key } => {
            row.matched = Some(matched.as_str().to_owned());
            publish(&state, &req, source, provider, row, arrival, event_type, dedupe_key).await
        }
    }
}

/// The source whose URL was called. Every provider's handshake is a GET and every
/// delivery a POST: other methods are 405 whatever the token (with the provider's own
/// list once the token is known, in [`admit`]).
async fn find(state: &AppState, req: &HttpRequest, token: &str) -> Result<(Source, Provider), ApiError> {
    let any_provider = req.method() == Method::GET || req.method() == Method::POST;
    let source = match state.sources.get(token) {
        Some(source) => Some(source),
        None => {
            let lookup = state.sources.lookup();
            let mut conn = state.pool.get().await?;
            let found = sources::by_token(&mut conn, token).await?;
            if let Some(source) = &found {
                state.sources.put(lookup, token, source);
            }
            found
        }
    };
    let Some(source) = source else {
        return Err(if any_provider { ApiError::NotFound } else { ApiError::MethodNotAllowed { allow: "GET, POST" } });
    };
    let provider = Provider::parse(&source.provider)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("source {} has an unknown provider", source.id)))?;
    Ok((source, provider))
}

/// What arrived, if the source takes it: its provider's method, the source active, the
/// body within the limit. From here on every answer is in the request log (rejections
/// capped per minute).
async fn admit(
    state: &AppState,
    req: &HttpRequest,
    source: &Source,
    provider: Provider,
    payload: web::Payload,
) -> Result<Arrival, ApiError> {
    let settings = source.config.as_object().cloned().unwrap_or_default();
    let mut arrival = head(req);
    if !provider.allowed_methods().split(", ").any(|m| m == req.method().as_str()) {
        let row = log_row(source, provider, &settings, &arrival);
        return Err(reject(state, row, None, ApiError::MethodNotAllowed { allow: provider.allowed_methods() }).await);
    }
    if !source.active {
        return Err(reject(state, log_row(source, provider, &settings, &arrival), None, ApiError::Gone).await);
    }
    match read_limited(declared_length(req), payload, state.config.ingest_body_limit).await {
        Ok(body) => {
            arrival.body = body;
            Ok(arrival)
        }
        Err(err) => {
            let mut row = log_row(source, provider, &settings, &arrival);
            row.body_truncated = matches!(err, ApiError::PayloadTooLarge(_));
            Err(reject(state, row, None, err).await)
        }
    }
}

/// Logs a rejected request (within the per-minute cap; beyond it, only counted) and
/// returns `error` to answer with (or the database's, if the log cannot be written).
async fn reject(state: &AppState, mut row: InboundRequest, check: Option<Check>, error: ApiError) -> ApiError {
    row.status = "rejected".into();
    row.failed_check = check.map(|c| c.as_str().to_owned());
    match store(state, &row).await {
        Ok(true) => error,
        Ok(false) => {
            state.metrics.inbound_rejected_unlogged();
            error
        }
        Err(unlogged) => unlogged,
    }
}

/// The method, query and headers (names lower-cased) of a request; its body comes later.
fn head(req: &HttpRequest) -> Arrival {
    let headers = req
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    Arrival {
        method: req.method().as_str().to_owned(),
        query: req.query_string().to_owned(),
        headers,
        body: web::Bytes::new(),
    }
}

/// The request log's row for what arrived, before its verdict is known.
fn log_row(source: &Source, provider: Provider, config: &Map<String, Value>, a: &Arrival) -> InboundRequest {
    let logged = &a.body[..a.body.len().min(LOGGED_BODY)];
    InboundRequest {
        id: new_id(),
        tenant_id: source.tenant_id,
        source_id: source.id,
        received_at: Utc::now(),
        method: a.method.clone(),
        query: verify::redact_query(&a.query),
        headers: Value::Object(verify::redact_headers(provider, config, &a.headers)),
        // a cut may split a character: the log keeps text, with U+FFFD for what is not
        body: String::from_utf8_lossy(logged).replace('\0', "\u{FFFD}"),
        body_truncated: a.body.len() > LOGGED_BODY,
        status: String::new(),
        failed_check: None,
        matched: None,
        dedupe_key: None,
        event_id: None,
    }
}

/// Stores a row that publishes nothing; whether it was stored (rejections are capped).
async fn store(state: &AppState, row: &InboundRequest) -> Result<bool, ApiError> {
    let mut conn = state.pool.get().await?;
    Ok(inbound::record(&mut conn, row).await?)
}

/// Publishes a verified request as an event of the source's tenant: the body's exact
/// bytes, delivered with the provider's headers.
#[allow(clippy::too_many_arguments)]
async fn publish(
    state: &AppState,
    req: &HttpRequest,
    source: Source,
    provider: Provider,
    mut row: InboundRequest,
    arrival: Arrival,
    event_type: String,
    dedupe_key: String,
) -> ApiResult<HttpResponse> {
    if let Err(limited) = crate::api::caller::draw(state, req, TenantId(source.tenant_id), Class::Publish).await {
        return Err(reject(state, row, None, limited).await);
    }
    // the event's body is text (PostgreSQL `text`): what providers send is UTF-8
    let Some(body) = String::from_utf8(arrival.body.to_vec()).ok().filter(|b| !b.contains('\0')) else {
        let error = ApiError::BadRequest("the request body is not UTF-8 text without NUL characters".into());
        return Err(reject(state, row, None, error).await);
    };
    let event_type = EventType::parse_publishable(&event_type)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("derived event type {event_type:?}: {e}")))?;
    let settings = source.config.as_object().cloned().unwrap_or_default();
    let headers = verify::forwarded_headers(provider, &settings, &arrival.headers);
    let now = row.received_at;
    let event = Event {
        id: new_id(),
        tenant_id: source.tenant_id,
        event_type: event_type.as_str().to_owned(),
        consumer_id: source.consumer_id.clone(),
        body,
        idempotency_key: None,
        test: false,
        deliveries: 0,
        created_at: now,
        source_id: Some(source.id),
        inbound_request_id: Some(row.id),
        source_headers: Some(Value::Object(headers)),
    };
    row.event_id = Some(event.id);
    let id = row.id;
    let verified = Verified { request: row, dedupe_key, event, filters: event_type.matching_filters() };
    // the publisher wakes the dispatchers itself, for what its claim did not take
    let answer = match state.publisher.ingest(verified).await? {
        Accepted::New(event) => {
            state.metrics.published(event.deliveries);
            json!({"id": id, "status": "accepted"})
        }
        Accepted::Duplicate(first) => json!({"id": first, "status": "duplicate"}),
    };
    Ok(HttpResponse::Ok().json(answer))
}
