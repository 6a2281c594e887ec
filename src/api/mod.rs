//! The HTTP API: one module per resource; `configure` registers every route. What the
//! handlers share lives in modules of its own (`route`, `body`, `params`, `page`,
//! `state`, `caller`), so that no handler imports this one.

pub mod api_keys;
pub mod attempt_view;
pub mod auth;
pub mod body;
pub mod caller;
pub mod dashboard;
pub mod deliveries;
pub mod docs;
pub mod events;
pub mod health;
pub mod inbound_requests;
pub mod ingest;
pub mod limiter;
pub mod logs;
pub mod openapi;
pub mod page;
pub mod params;
pub mod portal;
pub mod recoveries;
pub mod relay;
pub mod route;
pub mod source_cache;
pub mod sources;
pub mod state;
pub mod stats;
pub mod stream;
pub mod stream_hub;
pub mod tenant_limits;
pub mod webhook_input;
pub mod webhooks;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(auth::routes)
        .configure(api_keys::routes)
        .configure(webhooks::routes)
        .configure(events::routes)
        .configure(deliveries::routes)
        .configure(recoveries::routes)
        .configure(portal::routes)
        .configure(logs::routes)
        .configure(stats::routes)
        .configure(stream::routes)
        .configure(sources::routes)
        .configure(relay::routes)
        .configure(inbound_requests::routes)
        .configure(ingest::routes)
        .configure(configure_operations)
        .configure(docs::routes)
        .configure(dashboard::routes);
}

/// The routes every process serves, dispatcher-only ones included: health, readiness and
/// metrics.
pub fn configure_operations(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::routes);
}
