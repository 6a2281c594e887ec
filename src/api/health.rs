//! Liveness and readiness.

use actix_web::{web, HttpResponse};

use super::resource;
use serde_json::json;

use crate::db;
use crate::startup::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/health").route(web::get().to(health)))
        .service(resource("/ready").route(web::get().to(ready)));
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 when the database answers and every migration is applied, else 503.
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match db::ready(&state.pool).await {
        Ok(true) => HttpResponse::Ok()
            .json(json!({"status": "ready", "database": "ok", "migrations": "applied"})),
        Ok(false) => HttpResponse::ServiceUnavailable()
            .json(json!({"status": "not_ready", "database": "ok", "migrations": "pending"})),
        Err(err) => {
            tracing::warn!(error = format!("{err:#}"), "readiness check failed");
            HttpResponse::ServiceUnavailable().json(
                json!({"status": "not_ready", "database": "unreachable", "migrations": "unknown"}),
            )
        }
    }
}
