//! `/api/v1/relay/…`: how `hookrelay listen` takes a relay webhook's deliveries (SPEC
//! "Local relay"). A listener long-polls `take`, which leases due deliveries (waiting up
//! to `wait` seconds for one, woken by this process's publishes and outcomes rather than
//! by polling the database) and hands each over as the exact request a subscriber would
//! get, signed at hand-over; it reports each outcome, recorded as an ordinary attempt;
//! it hands back what it will not forward (`release`) and says goodbye (`DELETE`
//! listener). A listener that stops polling for 60 s is no longer connected; a lease it
//! left expires (`HOOKRELAY_LEASE`) and its delivery is handed out again.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::api::body::{Errors, JsonBody};
use crate::api::caller::Caller;
use crate::api::params::path_id;
use crate::api::route::resource;
use crate::api::state::AppState;
use crate::api::webhook_input::RELAY;
use crate::db::relay_listeners;
use crate::dispatch::relayed::{handed_headers, outcome_of, Report};
use crate::domain::ids::{DeliveryId, ErrorKind, LeaseId, WebhookId};
use crate::domain::ts;
use crate::error::{ApiError, ApiResult};
use crate::queue::pg::relay;
use crate::queue::Leased;

/// The longest a `take` waits for a delivery: well inside the 60 s in which either side
/// must notice a dead connection, and inside common proxies' idle timeouts.
const MOST_WAIT_SECS: u64 = 30;
/// Most deliveries handed over by one `take`.
const MOST_TAKEN: usize = 100;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/relay/webhooks/{id}").route(web::get().to(status)))
        .service(resource("/api/v1/relay/webhooks/{id}/take").route(web::post().to(take)))
        .service(resource("/api/v1/relay/webhooks/{id}/release").route(web::post().to(release)))
        .service(resource("/api/v1/relay/webhooks/{id}/deliveries/{did}/outcome").route(web::post().to(outcome)))
        .service(resource("/api/v1/relay/webhooks/{id}/listeners/{lid}").route(web::delete().to(disconnect)));
}

/// The caller's relay webhook `id`: 404 for another tenant's or an unknown one, 409 for
/// an http webhook.
async fn relay_webhook(state: &AppState, caller: &Caller, id: &str) -> Result<WebhookId, ApiError> {
    let id = path_id(id)?;
    let mut conn = state.pool.get().await?;
    let webhook = caller.webhook(&mut conn, id).await?;
    if webhook.kind != RELAY {
        return Err(ApiError::Conflict(format!(
            "webhook {id} is an http webhook: only a relay webhook (\"kind\": \"relay\") has listeners"
        )));
    }
    Ok(WebhookId(id))
}

#[derive(Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct TakeInput {
    listener_id: Option<Uuid>,
    host: Option<String>,
    wait: Option<u64>,
    max: Option<usize>,
}

/// One delivery handed to a listener.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Handed {
    delivery_id: Uuid,
    lease_id: Uuid,
    event_id: Uuid,
    event_type: String,
    attempt: i32,
    test: bool,
    /// The request's headers as a subscriber receives them, in order.
    headers: Vec<(String, String)>,
    /// The request's exact body.
    body: String,
}

/// A valid take.
struct Take {
    listener: Uuid,
    host: String,
    wait: u64,
    max: usize,
}

impl Take {
    fn parse(input: TakeInput) -> Result<Take, ApiError> {
        let mut errors = Errors::default();
        if input.listener_id.is_none() {
            errors.add("listenerId", "is required: a UUID the listener keeps for its run");
        }
        let host = input.host.unwrap_or_default();
        if !(1..=255).contains(&host.chars().count()) || host.chars().any(char::is_control) {
            errors.add("host", "must be 1-255 characters: the listener's machine");
        }
        let wait = input.wait.unwrap_or(25);
        if wait > MOST_WAIT_SECS {
            errors.add("wait", format!("must be 0-{MOST_WAIT_SECS} seconds"));
        }
        let max = input.max.unwrap_or(10);
        if !(1..=MOST_TAKEN).contains(&max) {
            errors.add("max", format!("must be 1-{MOST_TAKEN}"));
        }
        errors.into_result()?;
        let listener = input.listener_id.ok_or_else(|| ApiError::BadRequest("listenerId is required".into()))?;
        Ok(Take { listener, host, wait, max })
    }
}

impl Handed {
    /// `d` as the listener receives it, signed at `now`.
    fn of(d: &Leased, now: chrono::DateTime<Utc>) -> Result<Handed, ApiError> {
        let headers = handed_headers(d, now).map_err(|e| {
            ApiError::Internal(anyhow::anyhow!("signing delivery {} for a listener: {e}", d.delivery_id.0))
        })?;
        Ok(Handed {
            delivery_id: d.delivery_id.0,
            lease_id: d.lease_id.0,
            event_id: d.event_id.0,
            event_type: d.event_type.clone(),
            attempt: d.attempt_count + 1,
            test: d.test,
            headers,
            body: d.body.clone(),
        })
    }
}

async fn take(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<TakeInput>,
) -> ApiResult<HttpResponse> {
    let webhook = relay_webhook(&state, &caller, &id).await?;
    let Take { listener, host, wait, max } = Take::parse(body.0)?;
    {
        let mut conn = state.pool.get().await?;
        relay_listeners::seen(&mut conn, caller.tenant, webhook, listener, &host).await?;
    }
    let until = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        // enabled before looking, so that a wake-up while we look is not lost
        let woken = state.wakeup.relay().notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let mut conn = state.pool.get().await?;
        let leased = relay::claim_relay(
            &mut conn,
            caller.tenant,
            webhook,
            listener,
            max,
            state.config.lease,
            &state.config.sealer,
        )
        .await?;
        if !leased.is_empty() {
            let handed = leased.iter().map(|d| Handed::of(d, Utc::now())).collect::<Result<Vec<_>, ApiError>>()?;
            return Ok(HttpResponse::Ok().json(json!({"data": handed})));
        }
        let next_due = relay::next_due(&mut conn, webhook).await?;
        drop(conn);
        let now = tokio::time::Instant::now();
        if now >= until {
            return Ok(HttpResponse::Ok().json(json!({"data": []})));
        }
        let due = next_due
            .and_then(|at| (at - Utc::now()).to_std().ok())
            .map(|d| now + d.max(Duration::from_millis(10)))
            .unwrap_or(until)
            .min(until);
        tokio::select! {
            _ = &mut woken => {}
            _ = tokio::time::sleep_until(due) => {}
            _ = state.shutdown.cancelled() => return Ok(HttpResponse::Ok().json(json!({"data": []}))),
        }
    }
}

#[derive(Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct OutcomeInput {
    lease_id: Option<Uuid>,
    url: Option<String>,
    status: Option<u16>,
    headers: Option<Map<String, Value>>,
    body: Option<String>,
    duration_ms: Option<u64>,
    error_kind: Option<String>,
    error_message: Option<String>,
}

/// The error kinds a listener may report when its local URL gave no answer.
fn listener_error_kind(kind: &str) -> Option<ErrorKind> {
    match kind {
        "connect" => Some(ErrorKind::Connect),
        "timeout" => Some(ErrorKind::Timeout),
        "tls" => Some(ErrorKind::Tls),
        "dns" => Some(ErrorKind::Dns),
        "other" => Some(ErrorKind::Other),
        _ => None,
    }
}

async fn outcome(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: JsonBody<OutcomeInput>,
) -> ApiResult<HttpResponse> {
    let (id, delivery) = path.into_inner();
    let webhook = relay_webhook(&state, &caller, &id).await?;
    let delivery = DeliveryId(path_id(&delivery)?);
    let input = body.0;
    let mut errors = Errors::default();
    let lease = input.lease_id.map(LeaseId);
    if lease.is_none() {
        errors.add("leaseId", "is required: the lease the delivery was handed over with");
    }
    let url = input.url.filter(|u| (1..=2048).contains(&u.chars().count())).unwrap_or_else(|| {
        errors.add("url", "must be the local URL forwarded to (1-2,048 characters)");
        String::new()
    });
    if input.status.is_some_and(|s| !(100..=599).contains(&s)) {
        errors.add("status", "must be an HTTP status, 100-599");
    }
    let error_kind = match (&input.status, input.error_kind.as_deref()) {
        (Some(_), None) => None,
        (None, Some(kind)) => {
            let parsed = listener_error_kind(kind);
            if parsed.is_none() {
                errors.add("errorKind", "must be one of connect, timeout, tls, dns, other");
            }
            parsed
        }
        _ => {
            errors.add("status", "give the local answer's status, or errorKind when there was none");
            None
        }
    };
    errors.into_result()?;
    let Some(lease) = lease else { return Err(ApiError::BadRequest("leaseId is required".into())) };
    let mut conn = state.pool.get().await?;
    let Some(leased) = relay::leased(&mut conn, caller.tenant, webhook, delivery, lease, &state.config.sealer).await?
    else {
        return Err(ApiError::Conflict(
            "this lease has ended (expired, released or already reported): the delivery is handed out again".into(),
        ));
    };
    let report = Report {
        url,
        status: input.status,
        headers: input.headers,
        body: input.body,
        duration: Duration::from_millis(input.duration_ms.unwrap_or(0)),
        error_kind,
        error_message: input.error_message,
    };
    drop(conn);
    state.relay_outcomes.record(outcome_of(&leased, report, state.config.max_retry_after)).await?;
    // a retry is due later, and a slot of the webhook's concurrency is free now
    state.wakeup.relay().notify_waiters();
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReleaseInput {
    lease_id: Option<Uuid>,
    delivery_ids: Option<Vec<Uuid>>,
}

async fn release(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<ReleaseInput>,
) -> ApiResult<HttpResponse> {
    let webhook = relay_webhook(&state, &caller, &id).await?;
    let mut errors = Errors::default();
    let (Some(lease), Some(deliveries)) = (body.0.lease_id, body.0.delivery_ids) else {
        errors.add("leaseId", "leaseId and deliveryIds are required");
        errors.into_result()?;
        return Err(ApiError::BadRequest("leaseId and deliveryIds are required".into()));
    };
    if deliveries.len() > MOST_TAKEN {
        errors.add("deliveryIds", format!("must list at most {MOST_TAKEN} deliveries"));
    }
    errors.into_result()?;
    let mut conn = state.pool.get().await?;
    relay::release(&mut conn, webhook, LeaseId(lease), &deliveries).await?;
    state.wakeup.relay().notify_waiters();
    Ok(HttpResponse::NoContent().finish())
}

async fn disconnect(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, listener) = path.into_inner();
    let webhook = relay_webhook(&state, &caller, &id).await?;
    let listener = path_id(&listener)?;
    let mut conn = state.pool.get().await?;
    relay_listeners::gone(&mut conn, webhook, listener).await?;
    // a poll it left behind wakes, finds it gone and takes nothing
    state.wakeup.relay().notify_waiters();
    Ok(HttpResponse::NoContent().finish())
}

async fn status(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let webhook = relay_webhook(&state, &caller, &id).await?;
    let mut conn = state.pool.get().await?;
    let listeners = relay_listeners::connected(&mut conn, webhook).await?;
    let connected_since = listeners.iter().map(|l| l.connected_at).min();
    let listeners: Vec<Value> = listeners
        .into_iter()
        .map(|l| json!({"id": l.id, "host": l.host, "connectedAt": ts(l.connected_at), "seenAt": ts(l.seen_at)}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "webhookId": webhook.0,
        "connected": !listeners.is_empty(),
        "connectedSince": connected_since.map(ts),
        "listeners": listeners,
    })))
}
