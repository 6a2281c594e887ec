//! Liveness and readiness.

use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::api::route::resource;
use crate::api::state::AppState;
use crate::db;
use crate::error::ApiError;
use crate::metrics::Gauges;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/health").route(web::get().to(health)))
        .service(resource("/ready").route(web::get().to(ready)))
        .service(resource("/metrics").route(web::get().to(metrics)));
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 when the database answers and every migration is applied, else 503.
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match db::ready(&state.pool).await {
        Ok(true) => HttpResponse::Ok().json(json!({"status": "ready", "database": "ok", "migrations": "applied"})),
        Ok(false) => HttpResponse::ServiceUnavailable()
            .json(json!({"status": "not_ready", "database": "ok", "migrations": "pending"})),
        Err(err) => {
            tracing::warn!(error = format!("{err:#}"), "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "not_ready", "database": "unreachable", "migrations": "unknown"}))
        }
    }
}

/// Prometheus text format: this process's counters, the queue gauges as last refreshed
/// and the pool's. Behind `Authorization: Bearer <HOOKRELAY_METRICS_TOKEN>` when set.
async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if let Some(token) = &state.config.metrics_token {
        let sent = crate::api::caller::bearer_token(&req).unwrap_or_default();
        if !bool::from(sent.as_bytes().ct_eq(token.expose_secret().as_bytes())) {
            return Err(ApiError::Unauthorized);
        }
    }
    let status = state.pool.status();
    let (deliveries_pending, oldest_due_age_seconds) = state.metrics.queue_gauges();
    let gauges = Gauges {
        deliveries_pending,
        oldest_due_age_seconds,
        pool_size: status.size,
        pool_available: status.available,
        pool_max: status.max_size,
    };
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render(&gauges)))
}
