//! Query and path parameters, parsed so that a bad value is a 422 (or 404) naming it.

use std::collections::HashMap;

use actix_web::{web, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::ApiError;

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
