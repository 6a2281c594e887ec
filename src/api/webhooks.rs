//! Webhook subscriptions: create, list, get, patch, delete, secret and rotation.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::body::{present, Errors, JsonBody};
use crate::api::caller::Caller;
use crate::api::page::Page;
use crate::api::params::{path_id, Params};
use crate::api::route::resource;
use crate::api::state::AppState;
use crate::db::webhooks::{Inserted, Webhook, WebhookChanges, DISABLED_MANUALLY};
use crate::db::{self, new_id};
use crate::domain::consumer::validate_consumer_id;
use crate::domain::event::EventFilter;
use crate::domain::headers::validate_custom_headers;
use crate::domain::json::Integer;
use crate::domain::secret::SigningSecret;
use crate::domain::url::{check_resolved_host, parse_webhook_url};
use crate::domain::{ts, ts_opt};
use crate::error::{ApiError, ApiResult};
use crate::secrets::Sealer;

/// How long a replaced secret keeps signing after a rotation.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: i32 = 100;
pub const DEFAULT_MAX_CONCURRENCY: i32 = 10;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/webhooks").route(web::post().to(create)).route(web::get().to(list)))
        .service(
            resource("/api/v1/webhooks/{id}")
                .route(web::get().to(get))
                .route(web::patch().to(patch))
                .route(web::delete().to(delete)),
        )
        .service(resource("/api/v1/webhooks/{id}/secret").route(web::get().to(secret)))
        .service(resource("/api/v1/webhooks/{id}/rotate-secret").route(web::post().to(rotate_secret)));
}

/// A webhook as the API shows it (never with its secret).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    id: Uuid,
    name: String,
    url: String,
    events: Vec<String>,
    consumer_id: Option<String>,
    description: Option<String>,
    headers: serde_json::Value,
    active: bool,
    disabled_reason: Option<String>,
    disabled_at: Option<String>,
    /// Until when a receiver's Retry-After holds the endpoint's deliveries; null when not paused.
    paused_until: Option<String>,
    rate_limit_per_minute: Option<i32>,
    max_concurrency: i32,
    retry_schedule: Option<Vec<i32>>,
    created_at: String,
    updated_at: String,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> WebhookView {
        WebhookView {
            id: w.id,
            name: w.name,
            url: w.url,
            events: w.events,
            consumer_id: w.consumer_id,
            description: w.description,
            headers: w.headers,
            active: w.active,
            disabled_reason: w.disabled_reason,
            disabled_at: ts_opt(w.disabled_at),
            paused_until: ts_opt(w.paused_until.filter(|at| *at > Utc::now())),
            rate_limit_per_minute: w.rate_limit_per_minute,
            max_concurrency: w.max_concurrency,
            retry_schedule: w.retry_schedule,
            created_at: ts(w.created_at),
            updated_at: ts(w.updated_at),
        }
    }
}

/// The whole webhook plus its signing secret: create, rotate and `GET …/secret`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookWithSecret {
    #[serde(flatten)]
    webhook: WebhookView,
    secret: String,
    previous_secret_expires_at: Option<String>,
}

impl WebhookWithSecret {
    /// The webhook with its secret opened (it is stored sealed, see `secrets`).
    fn open(w: Webhook, sealer: &Sealer) -> ApiResult<WebhookWithSecret> {
        let now = Utc::now();
        let previous_secret_expires_at =
            if w.live_previous_secret(now).is_some() { ts_opt(w.previous_secret_expires_at) } else { None };
        let secret = sealer
            .open(w.id, &w.secret)
            .map_err(|err| ApiError::Internal(anyhow::anyhow!("opening the secret of webhook {}: {err}", w.id)))?;
        Ok(WebhookWithSecret { webhook: w.into(), secret, previous_secret_expires_at })
    }
}

#[derive(Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookInput {
    #[serde(default, deserialize_with = "present")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    events: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    consumer_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    headers: Option<Option<serde_json::Map<String, serde_json::Value>>>,
    #[serde(default, deserialize_with = "present")]
    active: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    rate_limit_per_minute: Option<Option<Integer>>,
    #[serde(default, deserialize_with = "present")]
    max_concurrency: Option<Option<Integer>>,
    #[serde(default, deserialize_with = "present")]
    retry_schedule: Option<Option<Vec<Integer>>>,
    #[serde(default, deserialize_with = "present")]
    secret: Option<Option<String>>,
}

/// Validates every field that is present; each failure is named in one 422.
async fn validate(
    state: &AppState,
    input: WebhookInput,
    errors: &mut Errors,
) -> (WebhookChanges, Option<SigningSecret>) {
    let mut changes = WebhookChanges::default();
    validate_name(input.name, &mut changes, errors);
    validate_url(state, input.url, &mut changes, errors).await;
    validate_events(input.events, &mut changes, errors);
    validate_consumer(input.consumer_id, &mut changes, errors);
    validate_description(input.description, &mut changes, errors);
    validate_headers(input.headers, &mut changes, errors);
    validate_active(input.active, &mut changes, errors);
    validate_rate_limit(input.rate_limit_per_minute, &mut changes, errors);
    validate_max_concurrency(input.max_concurrency, &mut changes, errors);
    validate_retry_schedule(input.retry_schedule, &mut changes, errors);
    let secret = match input.secret {
        Some(Some(s)) => errors.check("secret", SigningSecret::parse(&s)),
        Some(None) | None => None,
    };
    (changes, secret)
}

fn validate_name(name: Option<Option<String>>, changes: &mut WebhookChanges, errors: &mut Errors) {
    match name {
        // at most 100 characters as sent (the schema's maxLength), not blank; stored trimmed
        Some(Some(name)) if !name.trim().is_empty() && name.chars().count() <= 100 => {
            changes.name = Some(name.trim().to_owned())
        }
        Some(_) => errors.add("name", "must be 1-100 characters"),
        None => {}
    }
}

/// The URL's form, then where its host resolves to.
async fn validate_url(
    state: &AppState,
    url: Option<Option<String>>,
    changes: &mut WebhookChanges,
    errors: &mut Errors,
) {
    match url {
        Some(Some(url)) => {
            let parsed = parse_webhook_url(&url, state.config.require_https(), state.config.allow_private_targets);
            if let Some(parsed) = errors.check("url", parsed) {
                if errors
                    .check(
                        "url",
                        check_resolved_host(&parsed, state.config.allow_private_targets, &state.config.dns).await,
                    )
                    .is_some()
                {
                    changes.url = Some(url);
                }
            }
        }
        Some(None) => errors.add("url", "must be a URL"),
        None => {}
    }
}

fn validate_events(events: Option<Option<Vec<String>>>, changes: &mut WebhookChanges, errors: &mut Errors) {
    match events {
        Some(Some(events)) if (1..=50).contains(&events.len()) => {
            let before = errors.len();
            for (i, filter) in events.iter().enumerate() {
                errors.check(&format!("events[{i}]"), EventFilter::parse(filter));
            }
            if errors.len() == before {
                changes.events = Some(events);
            }
        }
        Some(_) => errors.add("events", "must list 1-50 event filters"),
        None => {}
    }
}

fn validate_consumer(consumer_id: Option<Option<String>>, changes: &mut WebhookChanges, errors: &mut Errors) {
    match consumer_id {
        Some(Some(id)) if errors.check("consumerId", validate_consumer_id(&id)).is_some() => {
            changes.consumer_id = Some(Some(id));
        }
        Some(Some(_)) => {}
        Some(None) => changes.consumer_id = Some(None),
        None => {}
    }
}

fn validate_description(description: Option<Option<String>>, changes: &mut WebhookChanges, errors: &mut Errors) {
    match description {
        Some(Some(d)) if d.chars().count() > 1_000 => errors.add("description", "must be at most 1,000 characters"),
        Some(d) => changes.description = Some(d),
        None => {}
    }
}

fn validate_headers(
    headers: Option<Option<serde_json::Map<String, serde_json::Value>>>,
    changes: &mut WebhookChanges,
    errors: &mut Errors,
) {
    match headers {
        Some(Some(headers)) => {
            let failures = validate_custom_headers(&headers);
            if failures.is_empty() {
                changes.headers = Some(serde_json::Value::Object(headers));
            }
            for (field, message) in failures {
                errors.add(field, message);
            }
        }
        Some(None) => errors.add("headers", "must be an object of header names to values"),
        None => {}
    }
}

fn validate_active(active: Option<Option<bool>>, changes: &mut WebhookChanges, errors: &mut Errors) {
    match active {
        Some(Some(active)) => changes.active = Some(active),
        Some(None) => errors.add("active", "must be true or false"),
        None => {}
    }
}

fn validate_rate_limit(rate_limit: Option<Option<Integer>>, changes: &mut WebhookChanges, errors: &mut Errors) {
    match rate_limit {
        Some(Some(Integer(n))) if (1..=100_000).contains(&n) => {
            changes.rate_limit_per_minute = Some(i32::try_from(n).ok())
        }
        Some(Some(_)) => errors.add("rateLimitPerMinute", "must be 1-100,000, or null for no limit"),
        Some(None) => changes.rate_limit_per_minute = Some(None),
        None => {}
    }
}

fn validate_max_concurrency(
    max_concurrency: Option<Option<Integer>>,
    changes: &mut WebhookChanges,
    errors: &mut Errors,
) {
    match max_concurrency {
        Some(Some(Integer(n))) if (1..=100).contains(&n) => changes.max_concurrency = i32::try_from(n).ok(),
        Some(_) => errors.add("maxConcurrency", "must be 1-100"),
        None => {}
    }
}

fn validate_retry_schedule(
    retry_schedule: Option<Option<Vec<Integer>>>,
    changes: &mut WebhookChanges,
    errors: &mut Errors,
) {
    match retry_schedule {
        Some(Some(delays)) if delays.len() <= 20 => {
            let before = errors.len();
            for (i, Integer(d)) in delays.iter().enumerate() {
                if !(1..=86_400).contains(d) {
                    errors.add(format!("retrySchedule[{i}]"), "must be a delay of 1-86,400 seconds");
                }
            }
            if errors.len() == before {
                changes.retry_schedule = Some(Some(delays.iter().filter_map(|d| i32::try_from(d.0).ok()).collect()));
            }
        }
        Some(Some(_)) => errors.add("retrySchedule", "must list at most 20 delays"),
        Some(None) => changes.retry_schedule = Some(None),
        None => {}
    }
}

/// A portal session's webhooks are its consumer's: a create takes the session's
/// `consumerId`, and any other in a create or a PATCH is refused.
fn hold_to_consumer(caller: &Caller, consumer_id: &mut Option<Option<String>>, errors: &mut Errors, creating: bool) {
    let Some(own) = &caller.consumer else {
        return;
    };
    match consumer_id {
        Some(Some(c)) if c == own => {}
        None if !creating => {}
        None => *consumer_id = Some(Some(own.clone())),
        Some(_) => errors.add("consumerId", format!("must be this portal session's consumerId, {own:?}")),
    }
}

async fn create(state: web::Data<AppState>, caller: Caller, body: JsonBody<WebhookInput>) -> ApiResult<HttpResponse> {
    let mut input = body.0;
    let mut errors = Errors::default();
    hold_to_consumer(&caller, &mut input.consumer_id, &mut errors, true);
    for (field, missing) in
        [("name", input.name.is_none()), ("url", input.url.is_none()), ("events", input.events.is_none())]
    {
        if missing {
            errors.add(field, "is required");
        }
    }
    let (c, secret) = validate(&state, input, &mut errors).await;
    errors.into_result()?;
    let (Some(name), Some(url), Some(events)) = (c.name, c.url, c.events) else {
        return Err(ApiError::BadRequest("name, url and events are required".into()));
    };
    let now = Utc::now();
    let id = new_id();
    let secret = secret.unwrap_or_else(SigningSecret::generate);
    let webhook = Webhook {
        id,
        tenant_id: caller.tenant.0,
        name,
        url,
        events,
        consumer_id: c.consumer_id.flatten(),
        description: c.description.flatten(),
        headers: c.headers.unwrap_or_else(|| serde_json::json!({})),
        active: c.active.unwrap_or(true),
        disabled_reason: (c.active == Some(false)).then(|| DISABLED_MANUALLY.to_owned()),
        disabled_at: (c.active == Some(false)).then_some(now),
        secret: state.config.sealer.seal(id, secret.expose()),
        previous_secret: None,
        previous_secret_expires_at: None,
        rate_limit_per_minute: c.rate_limit_per_minute.unwrap_or(Some(DEFAULT_RATE_LIMIT_PER_MINUTE)),
        max_concurrency: c.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
        retry_schedule: c.retry_schedule.flatten(),
        created_at: now,
        updated_at: now,
        paused_until: None,
        adaptive_concurrency: None,
    };
    let mut conn = state.pool.get().await?;
    match db::webhooks::insert(&mut conn, webhook, state.config.max_webhooks).await? {
        Inserted::Created(w) => Ok(HttpResponse::Created().json(WebhookWithSecret::open(*w, &state.config.sealer)?)),
        Inserted::LimitReached => Err(ApiError::Conflict(format!(
            "this tenant already holds the maximum of {} webhooks; delete one first",
            state.config.max_webhooks
        ))),
    }
}

async fn list(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> ApiResult<HttpResponse> {
    let params = Params::from_request(&req)?;
    let (limit, after) = params.page()?;
    let mut conn = state.pool.get().await?;
    // a portal session lists its own consumer's webhooks, whatever the query says
    let consumer = caller.consumer.as_deref().or(params.string("consumerId"));
    let rows = db::webhooks::list(&mut conn, caller.tenant, consumer, after, limit + 1).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |w| w.id, WebhookView::from)))
}

async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_id(&id)?;
    let mut conn = state.pool.get().await?;
    let webhook = caller.webhook(&mut conn, id).await?;
    Ok(HttpResponse::Ok().json(WebhookView::from(webhook)))
}

async fn patch(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<WebhookInput>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id)?;
    let mut input = body.0;
    let mut errors = Errors::default();
    if matches!(input.secret, Some(Some(_))) {
        errors.add("secret", "is changed with POST /api/v1/webhooks/{id}/rotate-secret");
        input.secret = None;
    }
    let mut conn = state.pool.get().await?;
    // a foreign or unknown id is 404 before any validation detail is revealed
    let current = caller.webhook(&mut conn, id).await?;
    hold_to_consumer(&caller, &mut input.consumer_id, &mut errors, false);
    drop(conn);
    let (mut changes, _) = validate(&state, input, &mut errors).await;
    errors.into_result()?;
    let now = Utc::now();
    changes.updated_at = Some(now);
    match changes.active {
        // re-enabling clears why and since when it was off, whoever turned it off, and
        // starts the failing streak that auto-disable counts afresh
        Some(true) if !current.active => {
            (changes.disabled_reason, changes.disabled_at) = (Some(None), Some(None));
            (changes.failing_since, changes.failed_streak) = (Some(None), Some(0));
        }
        // the owner makes it inactive (again, for one that auto-disable turned off)
        Some(false) if current.active || current.disabled_reason.as_deref() != Some(DISABLED_MANUALLY) => {
            (changes.disabled_reason, changes.disabled_at) = (Some(Some(DISABLED_MANUALLY.to_owned())), Some(Some(now)))
        }
        _ => {}
    }
    let mut conn = state.pool.get().await?;
    let webhook = db::webhooks::update(&mut conn, caller.tenant, id, &changes).await?;
    if changes.active == Some(true) {
        // deliveries that waited while the webhook was inactive are due again
        state.wakeup.soon();
    }
    Ok(HttpResponse::Ok().json(WebhookView::from(webhook)))
}

async fn delete(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_id(&id)?;
    let mut conn = state.pool.get().await?;
    caller.hold(&mut conn, id).await?;
    if db::webhooks::delete(&mut conn, caller.tenant, id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}

async fn secret(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_id(&id)?;
    let mut conn = state.pool.get().await?;
    let webhook = caller.webhook(&mut conn, id).await?;
    Ok(HttpResponse::Ok().json(WebhookWithSecret::open(webhook, &state.config.sealer)?))
}

#[derive(Default, Deserialize, Serialize)]
pub struct RotateRequest {
    secret: Option<String>,
}

async fn rotate_secret(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<Option<RotateRequest>>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id)?;
    let mut errors = Errors::default();
    let new_secret = match body.0.and_then(|b| b.secret) {
        Some(s) => errors.check("secret", SigningSecret::parse(&s)),
        None => Some(SigningSecret::generate()),
    };
    let mut conn = state.pool.get().await?;
    caller.webhook(&mut conn, id).await?;
    errors.into_result()?;
    let Some(new_secret) = new_secret else {
        return Err(ApiError::field("secret", "is invalid"));
    };
    let overlap_until = Utc::now() + Duration::hours(ROTATION_OVERLAP_HOURS);
    let sealed = state.config.sealer.seal(id, new_secret.expose());
    let webhook = db::webhooks::rotate_secret(&mut conn, caller.tenant, id, &sealed, overlap_until).await?;
    Ok(HttpResponse::Ok().json(WebhookWithSecret::open(webhook, &state.config.sealer)?))
}
