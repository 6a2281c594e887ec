//! The HTTP API: one module per resource; `configure` registers every route.

pub mod api_keys;
pub mod auth;
pub mod dashboard;
pub mod deliveries;
pub mod events;
pub mod health;
pub mod limiter;
pub mod logs;
pub mod openapi;
pub mod portal;
pub mod recoveries;
pub mod stats;
pub mod stream;
pub mod stream_hub;
pub mod tenant_limits;
pub mod webhooks;

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::error::{ApiError, FieldError};
use crate::startup::AppState;

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
        .configure(configure_operations)
        .configure(openapi::routes)
        .configure(dashboard::routes);
}

/// The routes every process serves, dispatcher-only ones included: health, readiness and
/// metrics.
pub fn configure_operations(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::routes);
}

/// Every path registered through [`resource`], so that a test can hold the OpenAPI
/// description to exactly the routes the server has.
static REGISTERED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// A resource that answers 405 (problem+json) to a method it does not route. Every route
/// of the service is made with it.
pub fn resource(path: &str) -> actix_web::Resource {
    if let Ok(mut registered) = REGISTERED.lock() {
        registered.insert(path.to_owned());
    }
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// The paths registered so far (by any server started in this process).
pub fn registered_paths() -> Vec<String> {
    REGISTERED.lock().map(|r| r.iter().cloned().collect()).unwrap_or_default()
}

async fn method_not_allowed(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    let allow = req.match_pattern().and_then(|p| openapi::allowed_methods(&p)).unwrap_or_default();
    Err(ApiError::MethodNotAllowed { allow })
}

/// Any path that no route matches.
pub async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// RFC 3339 in UTC with milliseconds: `2024-01-01T12:00:00.000Z`.
pub use crate::domain::ts;

pub fn ts_opt(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(ts)
}

/// A page of a list: `{"data": [...], "nextCursor": "…" | null}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched newest first: the extra row only
    /// tells that another page exists.
    pub fn from_rows<R>(mut rows: Vec<R>, limit: i64, id: impl Fn(&R) -> Uuid, view: impl Fn(R) -> T) -> Page<T> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| encode_cursor(id(r)))
        } else {
            None
        };
        Page { data: rows.into_iter().map(view).collect(), next_cursor }
    }
}

fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// Query parameters, parsed one by one so that a bad value is a 422 naming the parameter.
pub struct Params(pub HashMap<String, String>);

impl Params {
    pub fn from_request(req: &HttpRequest) -> Result<Params, ApiError> {
        let params = web::Query::<HashMap<String, String>>::from_query(req.query_string())
            .map(|q| Params(q.into_inner()))
            .map_err(|e| ApiError::BadRequest(format!("malformed query string: {e}")))?;
        // PostgreSQL text cannot hold NUL: refuse it here rather than fail later
        if let Some((name, _)) = params.0.iter().find(|(_, v)| v.contains('\0')) {
            return Err(ApiError::field(name.as_str(), "must not contain NUL characters"));
        }
        Ok(params)
    }

    pub fn string(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `limit` (1–200, default 50) and the cursor's id, if any.
    pub fn page(&self) -> Result<(i64, Option<Uuid>), ApiError> {
        let limit = match self.string("limit") {
            None => 50,
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=200).contains(n))
                .ok_or_else(|| ApiError::field("limit", "must be an integer from 1 to 200"))?,
        };
        let cursor = match self.string("cursor") {
            None => None,
            Some(s) => Some(
                URL_SAFE_NO_PAD
                    .decode(s)
                    .ok()
                    .and_then(|b| Uuid::from_slice(&b).ok())
                    .ok_or_else(|| ApiError::field("cursor", "is not a cursor returned by this list"))?,
            ),
        };
        Ok((limit, cursor))
    }

    pub fn uuid(&self, name: &str) -> Result<Option<Uuid>, ApiError> {
        self.string(name).map(|s| Uuid::parse_str(s).map_err(|_| ApiError::field(name, "must be a UUID"))).transpose()
    }

    pub fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.string(name).map(|s| parse_time(s).map_err(|m| ApiError::field(name, m))).transpose()
    }

    /// `since` and `until`, with `since` not after `until`.
    pub fn window(&self) -> Result<Window, ApiError> {
        let since = self.time("since")?;
        let until = self.time("until")?;
        if let (Some(s), Some(u)) = (since, until) {
            if s > u {
                return Err(ApiError::field("since", "must not be after until"));
            }
        }
        Ok((since, until))
    }
}

/// An RFC 3339 timestamp of a query or a body.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "must be an RFC 3339 timestamp such as 2024-01-01T12:00:00.000Z".to_owned())
}

/// `since` and `until` of a query, either possibly open.
pub type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// A path id: anything that is not a UUID cannot name a resource, hence 404.
pub fn path_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

/// A JSON request body, read up to the configured limit. Malformed JSON is 400; JSON of
/// the wrong shape is 422 naming the field; a body over the limit is 413; a body that is
/// not `application/json` is 415. With `Option<T>`, an empty body is `None`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + Serialize + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<JsonBody<T>, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<web::Data<AppState>>().map_or(262_144, |s| s.config.body_limit);
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared_len.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the request body: {e}")))?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge(limit));
                }
                body.extend_from_slice(&chunk);
            }
            let is_json =
                |ct: &str| ct == "application/json" || (ct.starts_with("application/") && ct.ends_with("+json"));
            match content_type.as_deref() {
                Some(ct) if is_json(ct) => {}
                // a body-less POST (e.g. rotate-secret) needs no content type
                None if body.iter().all(u8::is_ascii_whitespace) => {}
                _ => return Err(ApiError::UnsupportedMediaType),
            }
            parse_body(&body).map(JsonBody)
        })
    }
}

/// Malformed JSON is 400; JSON of the wrong shape is 422 naming the field; a NUL
/// character in a field the route reads is 422 naming where (unknown fields are ignored,
/// NUL or not). One pass over the body on the way that succeeds, deserialised from the
/// bytes so that a raw field (event `data`) keeps its text.
fn parse_body<T: DeserializeOwned + Serialize>(body: &[u8]) -> Result<T, ApiError> {
    let malformed = |e: serde_json::Error| ApiError::BadRequest(format!("malformed JSON: {e}"));
    let misshapen = |err: serde_path_to_error::Error<serde_json::Error>| {
        let path = err.path().to_string();
        let inner = without_position(&err.into_inner().to_string());
        let field = if path == "." { missing_field(&inner).unwrap_or_else(|| "body".into()) } else { path };
        ApiError::Validation(vec![FieldError::new(field, inner)])
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return serde_path_to_error::deserialize(serde_json::Value::Null).map_err(misshapen);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(parsed) => {
            de.end().map_err(malformed)?;
            // JSON text holds a NUL only as the escape \u0000 (raw control characters are
            // not JSON): only then are the fields read looked at again, to name where it is
            if body.windows(6).any(|w| w == b"\\u0000") {
                let read = serde_json::to_value(&parsed).map_err(|e| ApiError::Internal(e.into()))?;
                if let Some(path) = nul_path(&read, String::new()) {
                    return Err(ApiError::field(path, "must not contain NUL characters"));
                }
            }
            Ok(parsed)
        }
        // deserialising stops at the first error: a shape error may come before a
        // syntax error further on, and a body that is not JSON at all is 400
        Err(err) => match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Err(syntax) => Err(malformed(syntax)),
            Ok(_) => Err(misshapen(err)),
        },
    }
}

/// The dotted path of the first string (or key) holding a NUL character, which
/// PostgreSQL text cannot store.
fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    let join = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(if path.is_empty() { "body".into() } else { path }),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, format!("{}[{i}]", if path.is_empty() { "body" } else { &path }))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(join(&k.replace('\0', "\\0")))
            } else {
                nul_path(v, join(k))
            }
        }),
        _ => None,
    }
}

/// A serde_json message without its " at line L column C" (the field's path says where).
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => message[..i].to_owned(),
        _ => message.to_owned(),
    }
}

/// serde reports a missing field at the parent: "missing field `name`".
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// Collects field errors so that one 422 names every failing field.
#[derive(Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Records the error of `result` under `field` and returns its value.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|m| self.add(field, m)).ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}
