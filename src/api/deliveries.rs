//! Deliveries: read them, with their attempts, and start a manual retry.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use uuid::Uuid;

use crate::api::attempt_view::AttemptView;
use crate::api::caller::Caller;
use crate::api::page::Page;
use crate::api::params::{path_id, Params};
use crate::api::route::resource;
use crate::api::state::AppState;
use crate::db::deliveries::{Delivery, DeliveryFilter, Retried, FAILED, PENDING, SUCCEEDED};
use crate::db::{self};
use crate::domain::{ts, ts_opt};
use crate::error::{ApiError, ApiResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/deliveries").route(web::get().to(list)))
        .service(resource("/api/v1/deliveries/{id}").route(web::get().to(get)))
        .service(resource("/api/v1/deliveries/{id}/retry").route(web::post().to(retry)));
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    id: Uuid,
    event_id: Uuid,
    webhook_id: Uuid,
    event_type: String,
    status: String,
    attempt_count: i32,
    next_attempt_at: Option<String>,
    last_attempt_at: Option<String>,
    test: bool,
    created_at: String,
    updated_at: String,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> DeliveryView {
        DeliveryView {
            id: d.id,
            event_id: d.event_id,
            webhook_id: d.webhook_id,
            event_type: d.event_type,
            // only pending work has a next attempt
            next_attempt_at: if d.status == PENDING { ts_opt(d.next_attempt_at) } else { None },
            status: d.status,
            attempt_count: d.attempt_count,
            last_attempt_at: ts_opt(d.last_attempt_at),
            test: d.test,
            created_at: ts(d.created_at),
            updated_at: ts(d.updated_at),
        }
    }
}

#[derive(Serialize)]
struct DeliveryWithAttempts {
    #[serde(flatten)]
    delivery: DeliveryView,
    attempts: Vec<AttemptView>,
}

async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_id(&id)?;
    let mut conn = state.pool.get().await?;
    let delivery = db::deliveries::get(&mut conn, caller.tenant, id).await?;
    caller.hold(&mut conn, delivery.webhook_id).await?;
    let attempts = db::logs::for_delivery(&mut conn, caller.tenant, id).await?;
    Ok(HttpResponse::Ok().json(DeliveryWithAttempts {
        delivery: delivery.into(),
        attempts: attempts.into_iter().map(AttemptView::from).collect(),
    }))
}

async fn list(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> ApiResult<HttpResponse> {
    let params = Params::from_request(&req)?;
    let (limit, after) = params.page()?;
    let status = params.string("status");
    if let Some(s) = status {
        if ![PENDING, SUCCEEDED, FAILED].contains(&s) {
            return Err(ApiError::field("status", "must be pending, succeeded or failed"));
        }
    }
    let filter = DeliveryFilter {
        status,
        webhook_id: params.uuid("webhookId")?,
        event_id: params.uuid("eventId")?,
        consumer_id: caller.consumer.as_deref(),
    };
    let mut conn = state.pool.get().await?;
    let rows = db::deliveries::list(&mut conn, caller.tenant, filter, after, limit + 1).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |d| d.id, DeliveryView::from)))
}

async fn retry(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_id(&id)?;
    let mut conn = state.pool.get().await?;
    if caller.consumer.is_some() {
        let delivery = db::deliveries::get(&mut conn, caller.tenant, id).await?;
        caller.hold(&mut conn, delivery.webhook_id).await?;
    }
    match db::deliveries::retry(&mut conn, caller.tenant, id).await? {
        Retried::Started(d) => {
            state.wakeup.soon();
            Ok(HttpResponse::Accepted().json(DeliveryView::from(d)))
        }
        Retried::StillPending => {
            Err(ApiError::Conflict("this delivery is still pending; only a finished delivery can be retried".into()))
        }
    }
}
