//! A webhook's attempt log.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::attempt_view::AttemptView;
use crate::api::caller::Caller;
use crate::api::page::Page;
use crate::api::params::{path_id, Params};
use crate::api::route::resource;
use crate::api::state::AppState;
use crate::db::{self, logs::LogFilter};
use crate::error::{ApiError, ApiResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/webhooks/{id}/logs").route(web::get().to(list)));
}

async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let webhook_id = path_id(&id)?;
    let params = Params::from_request(&req)?;
    let (limit, after) = params.page()?;
    let (since, until) = params.window()?;
    let success = match params.string("status") {
        None => None,
        Some("success") => Some(true),
        Some("failed") => Some(false),
        Some(_) => return Err(ApiError::field("status", "must be success or failed")),
    };
    let filter = LogFilter { success, event_type: params.string("eventType"), since, until };
    let mut conn = state.pool.get().await?;
    caller.webhook(&mut conn, webhook_id).await?;
    let rows = db::logs::for_webhook(&mut conn, caller.tenant, webhook_id, filter, after, limit + 1).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |l| l.id, AttemptView::from)))
}
