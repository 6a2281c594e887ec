//! JSON request bodies, and the field errors of their validation.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::state::AppState;
use crate::error::{ApiError, FieldError};

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
        let declared_len = declared_length(req);
        let payload = payload.take();
        Box::pin(async move {
            let body = read_limited(declared_len, payload, limit).await?;
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

/// The request's `Content-Length`, if it declares one.
pub fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
}

/// Reads a request body up to `limit` bytes: 413 as soon as the declared length or the
/// bytes read pass it.
pub async fn read_limited<S, E>(declared: Option<usize>, mut payload: S, limit: usize) -> Result<web::Bytes, ApiError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    if declared.is_some_and(|n| n > limit) {
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
    Ok(body.freeze())
}

/// Distinguishes a field that is absent (`None`) from one that is `null` (`Some(None)`),
/// for PATCH bodies: `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
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
        let field = if path == "." { missing_field(&inner).unwrap_or_default() } else { path };
        ApiError::Validation(vec![FieldError::new(field, inner)])
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return serde_path_to_error::deserialize(serde_json::Value::Null).map_err(misshapen);
    }
    // Every route's body is an object. serde would read a struct of optional fields from
    // an array too (`[]` as a PATCH changing nothing): refuse any other JSON value whole.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(malformed)?;
        return Err(ApiError::field("", "the request body must be a JSON object"));
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
        serde_json::Value::String(s) if s.contains('\0') => Some(path),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, v)| nul_path(v, format!("{path}[{i}]")))
        }
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
