//! One error type for the API, answered as `application/problem+json`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or invalid credentials")]
    Unauthorized,
    /// Valid credentials whose scope does not cover the route.
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// An inactive source's ingest URL.
    #[error("this source is inactive; activate it to receive requests again")]
    Gone,
    /// An ingest request that failed its source's verification: the check that failed
    /// (`missing_signature`, `signature_mismatch`, …), never the expected value.
    #[error("{0}")]
    Unverified(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    /// `allow`: the route's methods, for the `Allow` header (RFC 9110 requires it).
    #[error("method not allowed; this route takes {allow}")]
    MethodNotAllowed { allow: &'static str },
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// PostgreSQL is unreachable: the client should come back shortly (`Retry-After`).
    #[error("the database is unreachable; try again in a few seconds")]
    ServiceUnavailable,
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// Seconds a client is asked to wait while the database is unreachable.
const UNAVAILABLE_RETRY_AFTER: &str = "2";

impl ApiError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    fn code(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest(_) => ("bad_request", "Bad request"),
            ApiError::Unauthorized => ("unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => ("forbidden", "Forbidden"),
            ApiError::NotFound => ("not_found", "Not found"),
            ApiError::Gone => ("gone", "Gone"),
            ApiError::Unverified(_) => ("unauthorized", "Unauthorized"),
            ApiError::Conflict(_) => ("conflict", "Conflict"),
            ApiError::PayloadTooLarge(_) => ("payload_too_large", "Payload too large"),
            ApiError::Validation(_) => ("validation_failed", "Validation failed"),
            ApiError::RateLimited { .. } => ("rate_limited", "Too many requests"),
            ApiError::MethodNotAllowed { .. } => ("method_not_allowed", "Method not allowed"),
            ApiError::UnsupportedMediaType => ("unsupported_media_type", "Unsupported media type"),
            ApiError::ServiceUnavailable => ("service_unavailable", "Service unavailable"),
            ApiError::Internal(_) => ("internal", "Internal server error"),
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("invalid fields: {}", fields.join(", "))
            }
            ApiError::NotFound => "no such resource".into(),
            // never leak causes of unexpected errors: they are logged instead
            ApiError::Internal(_) => "an unexpected error occurred; it has been logged".into(),
            other => other.to_string(),
        }
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Gone => StatusCode::GONE,
            ApiError::Unverified(_) => StatusCode::UNAUTHORIZED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(err) = self {
            tracing::error!(error = format!("{err:#}"), "request failed");
        }
        let status = self.status_code();
        let (kind, title) = self.code();
        let problem = Problem {
            kind,
            title,
            status: status.as_u16(),
            detail: self.detail(),
            errors: match self {
                ApiError::Validation(errors) => Some(errors),
                _ => None,
            },
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let ApiError::RateLimited { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if let ApiError::MethodNotAllowed { allow } = self {
            response.insert_header((header::ALLOW, *allow));
        }
        if let ApiError::ServiceUnavailable = self {
            response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER));
        }
        if let ApiError::Unauthorized = self {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.body(serde_json::to_string(&problem).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> ApiError {
        match err {
            diesel::result::Error::NotFound => ApiError::NotFound,
            e if crate::db::is_unreachable(&e) => unavailable(&e),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<crate::db::PoolError> for ApiError {
    fn from(err: crate::db::PoolError) -> ApiError {
        if crate::db::pool_unreachable(&err) {
            unavailable(&err)
        } else {
            ApiError::Internal(anyhow::anyhow!("database pool: {err}"))
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> ApiError {
        if crate::db::unreachable_in(&err) {
            unavailable(&err)
        } else {
            ApiError::Internal(err)
        }
    }
}

/// A 503, with the cause logged (the answer does not carry it).
fn unavailable(cause: &dyn std::fmt::Display) -> ApiError {
    tracing::warn!(error = %cause, "the database is unreachable; answering 503");
    ApiError::ServiceUnavailable
}

pub type ApiResult<T> = Result<T, ApiError>;
