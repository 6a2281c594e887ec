//! Publishing events (fan-out into deliveries), test events, and reading events.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::api::body::{Errors, JsonBody};
use crate::api::caller::Caller;
use crate::api::page::Page;
use crate::api::params::{path_id, Params};
use crate::api::route::resource;
use crate::api::state::AppState;
use crate::db;
use crate::db::events::{Event, NewEvent, Plain, Published, Target};
use crate::domain::consumer::validate_consumer_id;
use crate::domain::event::EventType;
use crate::domain::json;
use crate::domain::ts;
use crate::error::{ApiError, ApiResult};

/// The event type of a test event sent without one.
pub const DEFAULT_TEST_EVENT_TYPE: &str = "webhook.test";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/events").route(web::post().to(publish)).route(web::get().to(list)))
        .service(resource("/api/v1/events/{id}").route(web::get().to(get)))
        .service(resource("/api/v1/webhooks/{id}/test").route(web::post().to(send_test)));
}

/// The answer to a publish: `{id, event, timestamp, deliveries}`.
#[derive(Serialize)]
struct Accepted {
    id: Uuid,
    event: String,
    timestamp: String,
    deliveries: i32,
}

impl From<&Event> for Accepted {
    fn from(e: &Event) -> Accepted {
        Accepted { id: e.id, event: e.event_type.clone(), timestamp: ts(e.created_at), deliveries: e.deliveries }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventView {
    id: Uuid,
    event: String,
    timestamp: String,
    data: Box<RawValue>,
    consumer_id: Option<String>,
    idempotency_key: Option<String>,
    test: bool,
    deliveries: i32,
    /// The source that published it, and its inbound request (null for the API's).
    source_id: Option<Uuid>,
    inbound_request_id: Option<Uuid>,
}

impl From<Event> for EventView {
    fn from(e: Event) -> EventView {
        EventView {
            data: e.data(),
            id: e.id,
            event: e.event_type,
            timestamp: ts(e.created_at),
            consumer_id: e.consumer_id,
            idempotency_key: e.idempotency_key,
            test: e.test,
            deliveries: e.deliveries,
            source_id: e.source_id,
            inbound_request_id: e.inbound_request_id,
        }
    }
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishRequest {
    event: Option<String>,
    /// absent or null: null
    data: Option<Box<RawValue>>,
    consumer_id: Option<String>,
    idempotency_key: Option<String>,
}

fn valid_idempotency_key(key: &str) -> Result<(), String> {
    if (1..=255).contains(&key.len()) && key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        Ok(())
    } else {
        Err("must be 1-255 visible ASCII characters".into())
    }
}

async fn publish(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: JsonBody<PublishRequest>,
) -> ApiResult<HttpResponse> {
    let input = body.0;
    let mut errors = Errors::default();
    let event_type = match &input.event {
        Some(e) => errors.check("event", EventType::parse_publishable(e)),
        None => {
            errors.add("event", "is required");
            None
        }
    };
    if let Some(c) = &input.consumer_id {
        errors.check("consumerId", validate_consumer_id(c));
    }
    let data = input.data.unwrap_or_else(|| RawValue::NULL.to_owned());
    if let Some(path) = json::duplicate_key(&data, "data") {
        errors.add(path, "is a duplicate key: receivers would each read it differently");
    }
    let key = idempotency_key(&req, input.idempotency_key, &mut errors);
    errors.into_result()?;
    let Some(event_type) = event_type else {
        return Err(ApiError::field("event", "is required"));
    };
    let event = Event::new(caller.tenant, &event_type, data.clone(), input.consumer_id, key.clone(), false)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let filters = event_type.matching_filters();
    let Some(key) = key else {
        // without a key nothing needs reading first: the publish joins a group commit
        // the publisher wakes the dispatchers itself, for what its claim did not take
        let stored = state.publisher.publish(Plain { event, filters, not_to: None }).await.map_err(ApiError::from)?;
        return Ok(accepted(&state, &stored));
    };
    let mut conn = state.pool.get().await?;
    let new = NewEvent { event, target: Target::Fanout { filters } };
    let first = match publish_keyed(&mut conn, caller.tenant, new, &key).await? {
        Published::Created(e) => {
            if e.deliveries > 0 {
                state.wakeup.soon();
            }
            return Ok(accepted(&state, &e));
        }
        Published::Replayed(first) => first,
    };
    if first.event_type == event_type.as_str() && json::same_value(&first.data(), &data) {
        Ok(HttpResponse::Ok().json(Accepted::from(&first)))
    } else {
        Err(ApiError::Conflict("this idempotency key was used in the last 24 h with a different event or data".into()))
    }
}

/// The idempotency key, from the `Idempotency-Key` header or the body (the same, if both).
fn idempotency_key(req: &HttpRequest, in_body: Option<String>, errors: &mut Errors) -> Option<String> {
    let header_key = match req.headers().get("Idempotency-Key") {
        Some(v) => match v.to_str() {
            Ok(s) => Some(s.to_owned()),
            Err(_) => {
                errors.add("Idempotency-Key", "must be visible ASCII");
                None
            }
        },
        None => None,
    };
    let key = match (header_key, in_body) {
        (Some(h), Some(b)) if h != b => {
            errors.add("idempotencyKey", "differs from the Idempotency-Key header; send one or the same value");
            None
        }
        (h, b) => h.or(b),
    };
    if let Some(k) = &key {
        errors.check("idempotencyKey", valid_idempotency_key(k));
    }
    key
}

/// A publish with an idempotency key: the event created, or the first one published with
/// the key.
async fn publish_keyed(
    conn: &mut db::PgConn,
    tenant: db::TenantId,
    event: NewEvent,
    key: &str,
) -> ApiResult<Published> {
    match db::events::publish(conn, event).await {
        Ok(published) => Ok(published),
        // a concurrent publish with the same key won the race: answer as a replay
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Ok(Published::Replayed(
                db::events::find_by_idempotency_key(conn, tenant, key)
                    .await?
                    .ok_or(ApiError::Conflict("a publish with this idempotency key is in progress; retry".into()))?,
            ))
        }
        Err(other) => Err(other.into()),
    }
}

/// The 202 of a stored publish.
fn accepted(state: &AppState, e: &Event) -> HttpResponse {
    state.metrics.published(e.deliveries);
    HttpResponse::Accepted().json(Accepted::from(e))
}

#[derive(Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestRequest {
    event_type: Option<String>,
    payload: Option<Box<RawValue>>,
}

/// Sends a test event to one webhook, whatever its filter or active flag, through the
/// same signing, retry and logging path as any other event.
async fn send_test(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<Option<TestRequest>>,
) -> ApiResult<HttpResponse> {
    let webhook_id = path_id(&id)?;
    let input = body.0.unwrap_or_default();
    let mut conn = state.pool.get().await?;
    caller.webhook(&mut conn, webhook_id).await?;
    let mut errors = Errors::default();
    let event_type = errors.check(
        "eventType",
        EventType::parse_publishable(input.event_type.as_deref().unwrap_or(DEFAULT_TEST_EVENT_TYPE)),
    );
    if let Some(path) = input.payload.as_deref().and_then(|p| json::duplicate_key(p, "payload")) {
        errors.add(path, "is a duplicate key: receivers would each read it differently");
    }
    errors.into_result()?;
    let Some(event_type) = event_type else {
        return Err(ApiError::field("eventType", "is invalid"));
    };
    let data = match input.payload {
        Some(payload) => payload,
        None => serde_json::value::to_raw_value(&serde_json::json!({"message": "This is a test event from hookrelay"}))
            .map_err(|e| ApiError::Internal(e.into()))?,
    };
    let event =
        Event::new(caller.tenant, &event_type, data, None, None, true).map_err(|e| ApiError::Internal(e.into()))?;
    match db::events::publish(&mut conn, NewEvent { event, target: Target::Webhook(webhook_id) }).await? {
        // the webhook was deleted between the check above and the insert
        Published::Created(e) if e.deliveries == 0 => Err(ApiError::NotFound),
        Published::Created(e) | Published::Replayed(e) => {
            state.metrics.published(e.deliveries);
            state.wakeup.soon();
            Ok(HttpResponse::Accepted().json(Accepted::from(&e)))
        }
    }
}

async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_id(&id)?;
    let mut conn = state.pool.get().await?;
    let event = db::events::get(&mut conn, caller.tenant, id).await?;
    Ok(HttpResponse::Ok().json(EventView::from(event)))
}

async fn list(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> ApiResult<HttpResponse> {
    let params = Params::from_request(&req)?;
    let (limit, after) = params.page()?;
    let (since, until) = params.window()?;
    let filter = db::events::EventFilter {
        event_type: params.string("event"),
        consumer_id: params.string("consumerId"),
        since,
        until,
    };
    let mut conn = state.pool.get().await?;
    let rows = db::events::list(&mut conn, caller.tenant, filter, after, limit + 1).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |e| e.id, EventView::from)))
}
