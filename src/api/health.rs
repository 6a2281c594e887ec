//! Liveness and readiness.

use actix_web::{web, HttpResponse};

use super::resource;
use serde_json::json;

use crate::db;
use crate::metrics::Gauges;
use crate::startup::AppState;

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

/// Prometheus text format: this process's counters, plus queue gauges read now.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let status = state.pool.status();
    let (deliveries_pending, oldest_due_age_seconds) = match state.pool.get().await {
        Ok(mut conn) => crate::queue::pg::gauges(&mut conn).await.unwrap_or((-1, -1.0)),
        Err(_) => (-1, -1.0),
    };
    let gauges = Gauges {
        deliveries_pending,
        oldest_due_age_seconds,
        pool_size: status.size,
        pool_available: status.available,
        pool_max: status.max_size,
    };
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render(&gauges))
}
