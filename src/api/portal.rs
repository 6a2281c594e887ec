//! Consumer portal sessions (SPEC "Dashboard and consumer portal"): a tenant opens one
//! for one of its customers (`consumerId`) and embeds the returned `url`; the token sees
//! and changes only that consumer's webhooks and what belongs to them (`auth::scope`,
//! `Caller::webhook`).

use actix_web::{web, HttpResponse};
use chrono::{TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::api::body::{Errors, JsonBody};
use crate::api::caller::Caller;
use crate::api::route::resource;
use crate::api::state::AppState;
use crate::domain::consumer::validate_consumer_id;
use crate::domain::json::Integer;
use crate::domain::ts;
use crate::error::{ApiError, ApiResult};

const DEFAULT_EXPIRES_IN: i64 = 3_600;
const MAX_EXPIRES_IN: i64 = 86_400;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/portal-sessions").route(web::post().to(create)));
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRequest {
    consumer_id: Option<String>,
    expires_in: Option<Integer>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    token: String,
    url: String,
    consumer_id: String,
    expires_at: String,
}

async fn create(state: web::Data<AppState>, caller: Caller, body: JsonBody<SessionRequest>) -> ApiResult<HttpResponse> {
    let input = body.0;
    let mut errors = Errors::default();
    let consumer = match input.consumer_id {
        Some(c) => errors.check("consumerId", validate_consumer_id(&c).map(|()| c)),
        None => {
            errors.add("consumerId", "is required");
            None
        }
    };
    let expires_in = match input.expires_in {
        None => Some(DEFAULT_EXPIRES_IN),
        Some(Integer(n)) if (1..=MAX_EXPIRES_IN).contains(&n) => Some(n),
        Some(_) => {
            errors.add("expiresIn", format!("must be 1-{MAX_EXPIRES_IN} seconds"));
            None
        }
    };
    errors.into_result()?;
    let (Some(consumer), Some(expires_in)) = (consumer, expires_in) else {
        return Err(ApiError::field("consumerId", "is required"));
    };
    let expires_at = Utc::now().timestamp() + expires_in;
    let mut conn = state.pool.get().await?;
    let tenant_name = crate::db::tenants::name(&mut conn, caller.tenant).await?;
    drop(conn);
    let token =
        state.jwt.issue_portal(caller.tenant.0, &tenant_name, &consumer, expires_at).map_err(ApiError::Internal)?;
    let expires_at = Utc
        .timestamp_opt(expires_at, 0)
        .single()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("expiry out of range")))?;
    Ok(HttpResponse::Created().json(Session {
        url: format!("{}/portal#token={token}", state.public_url),
        token,
        consumer_id: consumer,
        expires_at: ts(expires_at),
    }))
}
