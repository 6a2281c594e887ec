//! Recover: re-queue a webhook's failed deliveries of a time window in one call
//! (`db::recoveries` does the work in the background), and read how far it got.

use actix_web::{web, HttpResponse};
use chrono::{TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::body::{Errors, JsonBody};
use crate::api::caller::Caller;
use crate::api::params::{parse_time, path_id};
use crate::api::route::resource;
use crate::api::state::AppState;
use crate::db::recoveries::{Recovery, RUNNING};
use crate::db::{self, new_id};
use crate::domain::{ts, ts_opt};
use crate::error::{ApiError, ApiResult};

/// How far back a recovery may reach (SPEC).
const MAX_AGE_DAYS: i64 = 90;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/webhooks/{id}/recover").route(web::post().to(recover)))
        .service(resource("/api/v1/webhooks/{id}/recoveries/{rid}").route(web::get().to(get)));
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RecoveryView {
    id: Uuid,
    webhook_id: Uuid,
    since: String,
    until: String,
    status: String,
    deliveries: i32,
    created_at: String,
    completed_at: Option<String>,
}

impl From<Recovery> for RecoveryView {
    fn from(r: Recovery) -> RecoveryView {
        RecoveryView {
            id: r.id,
            webhook_id: r.webhook_id,
            since: ts(r.since),
            until: ts(r.until),
            status: r.status,
            deliveries: r.deliveries,
            created_at: ts(r.created_at),
            completed_at: ts_opt(r.completed_at),
        }
    }
}

#[derive(Deserialize, Serialize)]
pub struct RecoverRequest {
    since: Option<String>,
    until: Option<String>,
}

async fn recover(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<RecoverRequest>,
) -> ApiResult<HttpResponse> {
    let webhook_id = path_id(&id)?;
    let mut conn = state.pool.get().await?;
    // a foreign or unknown id is 404 before any validation detail is revealed
    caller.webhook(&mut conn, webhook_id).await?;
    let now = Utc::now();
    let mut errors = Errors::default();
    let since = match body.0.since.as_deref() {
        Some(s) => errors.check("since", parse_time(s)),
        None => {
            errors.add("since", "is required");
            None
        }
    };
    let until = match body.0.until.as_deref() {
        Some(u) => errors.check("until", parse_time(u)),
        None => Some(now),
    };
    if let Some(s) = since {
        if s < now - TimeDelta::days(MAX_AGE_DAYS) {
            errors.add("since", format!("must be at most {MAX_AGE_DAYS} days ago"));
        } else if until.is_some_and(|u| s >= u) {
            errors.add("since", "must be before until");
        }
    }
    errors.into_result()?;
    let (Some(since), Some(until)) = (since, until) else {
        return Err(ApiError::field("since", "is required"));
    };
    let recovery = Recovery {
        id: new_id(),
        tenant_id: caller.tenant.0,
        webhook_id,
        since,
        until,
        status: RUNNING.to_owned(),
        deliveries: 0,
        created_at: now,
        completed_at: None,
    };
    let recovery = db::recoveries::insert(&mut conn, &recovery).await?;
    Ok(HttpResponse::Accepted().json(RecoveryView::from(recovery)))
}

async fn get(state: web::Data<AppState>, caller: Caller, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (webhook_id, id) = (path_id(&path.0)?, path_id(&path.1)?);
    let mut conn = state.pool.get().await?;
    caller.webhook(&mut conn, webhook_id).await?;
    let recovery = db::recoveries::get(&mut conn, caller.tenant, webhook_id, id).await?;
    Ok(HttpResponse::Ok().json(RecoveryView::from(recovery)))
}
