//! Webhook subscriptions: create, list, get, patch, delete, secret and rotation.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::body::{Errors, JsonBody};
use crate::api::caller::Caller;
use crate::api::page::Page;
use crate::api::params::{path_id, Params};
use crate::api::route::resource;
use crate::api::state::AppState;
use crate::api::webhook_input::{kind_of, validate, WebhookInput, RELAY};
use crate::db::webhooks::{Inserted, Webhook, DISABLED_MANUALLY};
use crate::db::{self, new_id, TenantId};
use crate::domain::secret::SigningSecret;
use crate::domain::webhook_health::{Counted, Health, Kept};
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
    kind: String,
    /// None for a relay webhook.
    url: Option<String>,
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
    health: Health,
    created_at: String,
    updated_at: String,
}

impl WebhookView {
    /// The webhook with its health, from its row and its rollup counts.
    fn new(w: Webhook, counted: Option<&Counted>) -> WebhookView {
        let kept = Kept {
            active: w.active,
            failing_since: w.health.health_failing_since,
            last_attempt_at: w.health.last_attempt_at,
            last_success_at: w.health.last_success_at,
        };
        let health = Health::of(&kept, counted.unwrap_or(&Counted::default()), Utc::now());
        WebhookView {
            id: w.id,
            name: w.name,
            kind: w.kind,
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
            health,
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
    fn open(w: Webhook, counted: Option<&Counted>, sealer: &Sealer) -> ApiResult<WebhookWithSecret> {
        let now = Utc::now();
        let previous_secret_expires_at =
            if w.live_previous_secret(now).is_some() { ts_opt(w.previous_secret_expires_at) } else { None };
        let secret = sealer
            .open(w.id, &w.secret)
            .map_err(|err| ApiError::Internal(anyhow::anyhow!("opening the secret of webhook {}: {err}", w.id)))?;
        Ok(WebhookWithSecret { webhook: WebhookView::new(w, counted), secret, previous_secret_expires_at })
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
    let kind = kind_of(input.kind.take(), None, &mut errors);
    let needs_url = kind != RELAY;
    for (field, missing) in
        [("name", input.name.is_none()), ("url", needs_url && input.url.is_none()), ("events", input.events.is_none())]
    {
        if missing {
            errors.add(field, "is required");
        }
    }
    let (c, secret) = validate(&state, input, &kind, &mut errors).await;
    errors.into_result()?;
    let (Some(name), Some(events)) = (c.name, c.events) else {
        return Err(ApiError::BadRequest("name, url and events are required".into()));
    };
    let url = c.url;
    if needs_url != url.is_some() {
        return Err(ApiError::BadRequest("an http webhook needs a url, a relay webhook has none".into()));
    }
    let now = Utc::now();
    let id = new_id();
    let secret = secret.unwrap_or_else(SigningSecret::generate);
    let webhook = Webhook {
        id,
        tenant_id: caller.tenant.0,
        name,
        kind,
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
        health: Default::default(),
    };
    let mut conn = state.pool.get().await?;
    match db::webhooks::insert(&mut conn, webhook, state.config.max_webhooks).await? {
        // a new webhook has made no attempts: nothing to count
        Inserted::Created(w) => {
            Ok(HttpResponse::Created().json(WebhookWithSecret::open(*w, None, &state.config.sealer)?))
        }
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
    let ids: Vec<Uuid> = rows.iter().map(|w| w.id).collect();
    let counted = db::webhook_health::counted(&mut conn, caller.tenant, &ids, Utc::now()).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        limit,
        |w| w.id,
        |w| {
            let c = counted.get(&w.id);
            WebhookView::new(w, c)
        },
    )))
}

async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_id(&id)?;
    let mut conn = state.pool.get().await?;
    let webhook = caller.webhook(&mut conn, id).await?;
    let counted = counted_one(&mut conn, caller.tenant, id).await?;
    Ok(HttpResponse::Ok().json(WebhookView::new(webhook, counted.as_ref())))
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
    let kind = kind_of(input.kind.take(), Some(&current.kind), &mut errors);
    let (mut changes, _) = validate(&state, input, &kind, &mut errors).await;
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
    let counted = counted_one(&mut conn, caller.tenant, id).await?;
    if changes.active == Some(true) {
        // deliveries that waited while the webhook was inactive are due again
        state.wakeup.soon();
    }
    Ok(HttpResponse::Ok().json(WebhookView::new(webhook, counted.as_ref())))
}

/// The rollup counts of one webhook's health.
async fn counted_one(conn: &mut AsyncPgConnection, tenant: TenantId, id: Uuid) -> ApiResult<Option<Counted>> {
    Ok(db::webhook_health::counted(conn, tenant, &[id], Utc::now()).await?.remove(&id))
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
    let counted = counted_one(&mut conn, caller.tenant, id).await?;
    Ok(HttpResponse::Ok().json(WebhookWithSecret::open(webhook, counted.as_ref(), &state.config.sealer)?))
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
    let counted = counted_one(&mut conn, caller.tenant, id).await?;
    Ok(HttpResponse::Ok().json(WebhookWithSecret::open(webhook, counted.as_ref(), &state.config.sealer)?))
}
