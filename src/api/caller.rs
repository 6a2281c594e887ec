//! `Caller`: the authenticated tenant of a request, from a JWT or an API key.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use uuid::Uuid;

use crate::api::state::AppState;
use crate::api::tenant_limits::Class;
use crate::auth::Scope;
use crate::db::{self, TenantId};
use crate::error::ApiError;

#[derive(Debug, Clone)]
pub struct Caller {
    pub tenant: TenantId,
    /// The user behind a JWT; None for an API key.
    pub user: Option<Uuid>,
    /// What authenticated the request, so that a long-lived response (the live stream)
    /// can check that it still holds.
    pub credential: Credential,
    /// What the credential may do; checked against the route before any handler runs.
    pub scope: Scope,
    /// A portal session's consumer: the caller sees and changes only webhooks with this
    /// `consumerId` (see [`Caller::webhook`]) and what belongs to them.
    pub consumer: Option<String>,
}

impl Caller {
    /// The caller's webhook `id`: 404 for another tenant's, and for a portal session,
    /// another consumer's.
    pub async fn webhook(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        id: Uuid,
    ) -> Result<db::webhooks::Webhook, ApiError> {
        let webhook = db::webhooks::get(conn, self.tenant, id).await?;
        match &self.consumer {
            Some(consumer) if webhook.consumer_id.as_ref() != Some(consumer) => Err(ApiError::NotFound),
            _ => Ok(webhook),
        }
    }

    /// For a portal session, 404 unless webhook `id` is its consumer's. Nothing to check for
    /// other callers: every query is scoped to their tenant already (and a filter naming
    /// another tenant's webhook simply matches nothing).
    pub async fn hold(&self, conn: &mut diesel_async::AsyncPgConnection, id: Uuid) -> Result<(), ApiError> {
        if self.consumer.is_some() {
            self.webhook(conn, id).await?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub enum Credential {
    /// An access token, valid until this Unix time.
    Token { expires_at: i64 },
    /// An API key, by its hash: valid until it is revoked.
    ApiKey { hash: Vec<u8> },
}

impl Credential {
    /// Whether the credential still authenticates `tenant`.
    pub async fn still_valid(&self, state: &AppState, tenant: TenantId) -> Result<bool, ApiError> {
        match self {
            Credential::Token { expires_at } => Ok(chrono::Utc::now().timestamp() < *expires_at),
            Credential::ApiKey { hash } => {
                let mut conn = state.pool.get().await?;
                Ok(db::api_keys::authenticate(&mut conn, hash).await?.is_some_and(|(t, _)| t == tenant))
            }
        }
    }
}

/// The bearer token of a request. The stream route also takes `?access_token=`, because
/// browsers' EventSource cannot send headers.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
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
        let (method, pattern) = (req.method().clone(), req.match_pattern());
        let class = if method == actix_web::http::Method::POST && pattern.as_deref() == Some("/api/v1/events") {
            Class::Publish
        } else {
            Class::Api
        };
        let request = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState is not registered")))?;
            let token = token.ok_or(ApiError::Unauthorized)?;
            if token.starts_with(crate::auth::api_key::KEY_PREFIX) {
                let hash = crate::auth::api_key::hash(&token);
                let mut conn = state.pool.get().await?;
                let (tenant, scope) =
                    db::api_keys::authenticate(&mut conn, &hash).await?.ok_or(ApiError::Unauthorized)?;
                // a scope this build does not know grants nothing beyond publishing
                let scope = Scope::parse(&scope).unwrap_or(Scope::Publish);
                if !scope.allows(&method, pattern.as_deref()) {
                    return Err(ApiError::Forbidden(format!(
                        "this API key's scope is `{}`: it may publish events and read them back only",
                        scope.as_str()
                    )));
                }
                draw(&state, &request, tenant, class).await?;
                return Ok(Caller {
                    tenant,
                    user: None,
                    credential: Credential::ApiKey { hash },
                    scope,
                    consumer: None,
                });
            }
            if let Some(claims) = state.jwt.verify(&token) {
                let credential = Credential::Token { expires_at: claims.exp };
                let tenant = TenantId(claims.tid);
                draw(&state, &request, tenant, class).await?;
                return Ok(Caller { tenant, user: Some(claims.sub), credential, scope: Scope::All, consumer: None });
            }
            let claims = state.jwt.verify_portal(&token).ok_or(ApiError::Unauthorized)?;
            if !Scope::Portal.allows(&method, pattern.as_deref()) {
                return Err(ApiError::Forbidden(
                    "a portal session reaches its consumer's webhooks, their deliveries, logs, stats, recoveries \
                     and stream only"
                        .into(),
                ));
            }
            let (credential, tenant) = (Credential::Token { expires_at: claims.exp }, TenantId(claims.tid));
            draw(&state, &request, tenant, class).await?;
            Ok(Caller { tenant, user: None, credential, scope: Scope::Portal, consumer: Some(claims.cid) })
        })
    }
}

/// Spends a token of the tenant's bucket for this request (see `api::tenant_limits`) and
/// leaves what it drew on the request, for the answer's `RateLimit-*` headers.
pub(crate) async fn draw(state: &AppState, req: &HttpRequest, tenant: TenantId, class: Class) -> Result<(), ApiError> {
    let (drawn, result) = match state.tenant_limits.draw(tenant, class).await {
        Ok(drawn) => (drawn, Ok(())),
        Err((drawn, limited)) => (drawn, Err(limited)),
    };
    if let Some(drawn) = drawn {
        req.extensions_mut().insert(drawn);
    }
    result
}
