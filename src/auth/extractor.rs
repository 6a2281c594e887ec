//! `Caller`: the authenticated tenant of a request, from a JWT or an API key.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use uuid::Uuid;

use crate::db::{self, TenantId};
use crate::error::ApiError;
use crate::startup::AppState;

#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub tenant: TenantId,
    /// The user behind a JWT; None for an API key.
    pub user: Option<Uuid>,
}

/// The bearer token of a request. The stream route also takes `?access_token=`, because
/// browsers' EventSource cannot send headers.
fn bearer_token(req: &HttpRequest) -> Option<String> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned());
    }
    if req.path() == "/api/v1/stream" {
        let query = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string()).ok()?;
        return query.get("access_token").cloned();
    }
    None
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState is not registered")))?;
            let token = token.ok_or(ApiError::Unauthorized)?;
            if token.starts_with(crate::auth::api_key::KEY_PREFIX) {
                let hash = crate::auth::api_key::hash(&token);
                let mut conn = state.pool.get().await?;
                let tenant = db::api_keys::authenticate(&mut conn, &hash).await?.ok_or(ApiError::Unauthorized)?;
                return Ok(Caller { tenant, user: None });
            }
            let claims = state.jwt.verify(&token).ok_or(ApiError::Unauthorized)?;
            Ok(Caller { tenant: TenantId(claims.tid), user: Some(claims.sub) })
        })
    }
}
