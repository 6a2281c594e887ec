//! API keys for servers that publish events.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::body::{Errors, JsonBody};
use crate::api::caller::Caller;
use crate::api::page::Page;
use crate::api::params::{path_id, Params};
use crate::api::route::resource;
use crate::api::state::AppState;
use crate::auth::{api_key, Scope};
use crate::db::{self, api_keys::ApiKey, new_id};
use crate::domain::{ts, ts_opt};
use crate::error::{ApiError, ApiResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/api-keys").route(web::post().to(create)).route(web::get().to(list)))
        .service(resource("/api/v1/api-keys/{id}").route(web::delete().to(revoke)));
}

#[derive(Deserialize, Serialize)]
pub struct CreateApiKey {
    name: Option<String>,
    scope: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedKey {
    id: Uuid,
    name: String,
    key: String,
    prefix: String,
    scope: String,
    created_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyView {
    id: Uuid,
    name: String,
    prefix: String,
    scope: String,
    created_at: String,
    last_used_at: Option<String>,
}

async fn create(state: web::Data<AppState>, caller: Caller, body: JsonBody<CreateApiKey>) -> ApiResult<HttpResponse> {
    let mut errors = Errors::default();
    let name = body.0.name.map(|n| n.trim().to_owned());
    match &name {
        None => errors.add("name", "is required"),
        Some(n) if n.is_empty() || n.chars().count() > 100 => errors.add("name", "must be 1-100 characters"),
        Some(_) => {}
    }
    let scope = match body.0.scope.as_deref() {
        None => Some(Scope::All),
        Some(s) => Scope::parse(s),
    };
    if scope.is_none() {
        errors.add("scope", "must be `all` or `publish`");
    }
    errors.into_result()?;
    let name = name.unwrap_or_default();
    let scope = scope.unwrap_or(Scope::All).as_str().to_owned();
    let key = api_key::generate();
    let row = ApiKey {
        id: new_id(),
        tenant_id: caller.tenant.0,
        name,
        prefix: api_key::shown_prefix(&key),
        key_hash: api_key::hash(&key),
        created_at: Utc::now(),
        last_used_at: None,
        revoked_at: None,
        scope,
    };
    let mut conn = state.pool.get().await?;
    db::api_keys::insert(&mut conn, &row).await?;
    Ok(HttpResponse::Created().json(CreatedKey {
        id: row.id,
        name: row.name,
        key,
        prefix: row.prefix,
        scope: row.scope,
        created_at: ts(row.created_at),
    }))
}

async fn list(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> ApiResult<HttpResponse> {
    let (limit, after) = Params::from_request(&req)?.page()?;
    let mut conn = state.pool.get().await?;
    let rows = db::api_keys::list(&mut conn, caller.tenant, after, limit + 1).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        limit,
        |k| k.id,
        |k| KeyView {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scope: k.scope,
            created_at: ts(k.created_at),
            last_used_at: ts_opt(k.last_used_at),
        },
    )))
}

async fn revoke(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_id(&id)?;
    let mut conn = state.pool.get().await?;
    if db::api_keys::revoke(&mut conn, caller.tenant, id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}
