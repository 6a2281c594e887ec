//! A source's request log (every request that reached its URL, with its verdict) and the
//! dry run of its checks on a pasted request (SPEC "Request log").

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::api::body::{Errors, JsonBody};
use crate::api::caller::Caller;
use crate::api::page::Page;
use crate::api::params::{path_id, Params};
use crate::api::route::resource;
use crate::api::sources::{find, ingest_url_of, open};
use crate::api::state::AppState;
use crate::db::inbound::{self, InboundRequest, RequestFilter};
use crate::domain::ts;
use crate::error::{ApiError, ApiResult};
use crate::inbound::{self as verify, Check, Credentials, Provider, Request, Verdict};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/sources/{id}/requests").route(web::get().to(list)))
        .service(resource("/api/v1/sources/{id}/requests/{rid}").route(web::get().to(get)))
        .service(resource("/api/v1/sources/{id}/verify").route(web::post().to(dry_run)));
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestView {
    id: Uuid,
    source_id: Uuid,
    received_at: String,
    method: String,
    query: String,
    headers: Value,
    body: String,
    body_truncated: bool,
    status: String,
    check: Option<String>,
    matched: Option<String>,
    dedupe_key: Option<String>,
    event_id: Option<Uuid>,
}

impl From<InboundRequest> for RequestView {
    fn from(r: InboundRequest) -> RequestView {
        RequestView {
            id: r.id,
            source_id: r.source_id,
            received_at: ts(r.received_at),
            method: r.method,
            query: r.query,
            headers: r.headers,
            body: r.body,
            body_truncated: r.body_truncated,
            status: r.status,
            check: r.failed_check,
            matched: r.matched,
            dedupe_key: r.dedupe_key,
            event_id: r.event_id,
        }
    }
}

const STATUSES: [&str; 4] = ["accepted", "duplicate", "rejected", "handshake"];

async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let source = find(&state, &caller, &id).await?;
    let params = Params::from_request(&req)?;
    let (limit, after) = params.page()?;
    let status = params.string("status");
    if status.is_some_and(|s| !STATUSES.contains(&s)) {
        return Err(ApiError::field("status", "must be accepted, duplicate, rejected or handshake"));
    }
    let (since, until) = params.window()?;
    let mut conn = state.pool.get().await?;
    let filter = RequestFilter { status, since, until };
    let rows = inbound::list(&mut conn, caller.tenant, source.id, filter, after, limit + 1).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |r| r.id, RequestView::from)))
}

async fn get(state: web::Data<AppState>, caller: Caller, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (id, rid) = path.into_inner();
    let source = find(&state, &caller, &id).await?;
    let rid = path_id(&rid)?;
    let mut conn = state.pool.get().await?;
    let row = inbound::get(&mut conn, caller.tenant, source.id, rid).await?;
    Ok(HttpResponse::Ok().json(RequestView::from(row)))
}

#[derive(Deserialize, Serialize)]
pub struct Pasted {
    method: Option<String>,
    query: Option<String>,
    headers: Option<Map<String, Value>>,
    body: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DryRun {
    status: &'static str,
    check: Option<&'static str>,
    matched: Option<&'static str>,
    event_type: Option<String>,
    dedupe_key: Option<String>,
}

/// Runs the source's checks on a request pasted from a provider's console; stores
/// nothing.
async fn dry_run(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<Pasted>,
) -> ApiResult<HttpResponse> {
    let source = find(&state, &caller, &id).await?;
    let pasted = body.0;
    let mut errors = Errors::default();
    let method = match pasted.method.as_deref() {
        None | Some("POST" | "post") => "POST",
        Some("GET" | "get") => "GET",
        Some(_) => {
            errors.add("method", "must be GET or POST");
            "POST"
        }
    };
    let mut headers = Vec::new();
    for (name, value) in pasted.headers.unwrap_or_default() {
        match value {
            Value::String(v) => headers.push((name.to_ascii_lowercase(), v)),
            _ => errors.add(format!("headers.{name}"), "must be a string"),
        }
    }
    errors.into_result()?;
    let provider = Provider::parse(&source.provider)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("source {} has an unknown provider", source.id)))?;
    let opened = open(&state.config.sealer, &source)?;
    let query = pasted.query.unwrap_or_default();
    let query = query.trim_start_matches('?');
    let base = ingest_url_of(&state, &source)?;
    let url = if query.is_empty() { base } else { format!("{base}?{query}") };
    let body = pasted.body.unwrap_or_default();
    let request =
        Request { method, url: &url, query, headers: &headers, body: body.as_bytes(), now: Utc::now().timestamp() };
    let creds = Credentials { current: &opened.current, previous: opened.previous.as_ref() };
    let answer = match verify::receive(provider, &creds, &request, source.event_type.as_deref()) {
        // a refused handshake (Meta's wrong verify token) is a rejection, as ingest logs it
        Verdict::Handshake { status, .. } if status >= 400 => DryRun {
            status: "rejected",
            check: Some(Check::WrongCredentials.as_str()),
            matched: None,
            event_type: None,
            dedupe_key: None,
        },
        Verdict::Handshake { .. } => {
            DryRun { status: "handshake", check: None, matched: None, event_type: None, dedupe_key: None }
        }
        Verdict::BadRequest(_) => {
            DryRun { status: "rejected", check: None, matched: None, event_type: None, dedupe_key: None }
        }
        Verdict::Rejected(check) => DryRun {
            status: "rejected",
            check: Some(check.as_str()),
            matched: None,
            event_type: None,
            dedupe_key: None,
        },
        Verdict::Accepted { matched, event_type, dedupe_key } => DryRun {
            status: "accepted",
            check: None,
            matched: Some(matched.as_str()),
            event_type: Some(event_type),
            dedupe_key: Some(dedupe_key),
        },
    };
    Ok(HttpResponse::Ok().json(answer))
}
