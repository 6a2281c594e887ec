//! Sign-up and login.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::body::{Errors, JsonBody};
use crate::api::route::resource;
use crate::api::state::AppState;
use crate::auth::password;
use crate::db::{self, tenants::Registered};
use crate::error::{ApiError, ApiResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/auth/register").route(web::post().to(register)))
        .service(resource("/api/v1/auth/login").route(web::post().to(login)));
}

#[derive(Deserialize, Serialize)]
pub struct RegisterRequest {
    email: Option<String>,
    /// only its hash is stored, so a NUL in it is no trouble (skipped by the NUL check)
    #[serde(skip_serializing)]
    password: Option<String>,
    organization: Option<String>,
}

#[derive(Serialize)]
struct TenantView {
    id: Uuid,
    name: String,
}

#[derive(Serialize)]
struct UserView {
    id: Uuid,
    email: String,
}

#[derive(Serialize)]
struct Registration {
    tenant: TenantView,
    user: UserView,
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn check_password(errors: &mut Errors, password: Option<&String>) {
    match password {
        None => errors.add("password", "is required"),
        Some(p) if !(8..=128).contains(&p.chars().count()) => errors.add("password", "must be 8-128 characters"),
        Some(_) => {}
    }
}

async fn register(
    state: web::Data<AppState>,
    http: HttpRequest,
    body: JsonBody<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    state.auth_limiter.check(http.peer_addr().map(|a| a.ip()))?;
    let req = body.0;
    let mut errors = Errors::default();
    let email = req.email.as_deref().map(|e| e.trim().to_lowercase());
    match &email {
        None => errors.add("email", "is required"),
        Some(e) if !valid_email(e) => errors.add("email", "must be an e-mail address"),
        Some(_) => {}
    }
    check_password(&mut errors, req.password.as_ref());
    // at most 100 characters as sent (the schema's maxLength), not blank; stored trimmed
    let sent = req.organization.as_deref();
    let organization = sent.map(str::trim);
    match organization {
        None => errors.add("organization", "is required"),
        Some(o) if o.is_empty() || sent.is_some_and(|s| s.chars().count() > 100) => {
            errors.add("organization", "must be 1-100 characters")
        }
        Some(_) => {}
    }
    errors.into_result()?;
    let (Some(email), Some(password), Some(organization)) = (email, req.password, organization) else {
        return Err(ApiError::BadRequest("email, password and organization are required".into()));
    };
    let hash = password::hash(password).await?;
    let mut conn = state.pool.get().await?;
    match db::tenants::register(&mut conn, organization, &email, hash).await? {
        Registered::Created(tenant, user) => Ok(HttpResponse::Created().json(Registration {
            tenant: TenantView { id: tenant.id, name: tenant.name },
            user: UserView { id: user.id, email: user.email },
        })),
        Registered::EmailTaken => Err(ApiError::Conflict("an account with this e-mail already exists".into())),
    }
}

#[derive(Deserialize, Serialize)]
pub struct LoginRequest {
    email: Option<String>,
    #[serde(skip_serializing)]
    password: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Token {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

/// A wrong password and an unknown e-mail answer the same 401, in about the same time.
async fn login(state: web::Data<AppState>, http: HttpRequest, body: JsonBody<LoginRequest>) -> ApiResult<HttpResponse> {
    state.auth_limiter.check(http.peer_addr().map(|a| a.ip()))?;
    let req = body.0;
    let mut errors = Errors::default();
    if req.email.is_none() {
        errors.add("email", "is required");
    }
    if req.password.is_none() {
        errors.add("password", "is required");
    }
    errors.into_result()?;
    let email = req.email.unwrap_or_default().trim().to_lowercase();
    let password = req.password.unwrap_or_default();
    let mut conn = state.pool.get().await?;
    let user = db::tenants::find_user_by_email(&mut conn, &email).await?;
    drop(conn);
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    if !password::verify(password, stored).await? {
        return Err(ApiError::Unauthorized);
    }
    let user = user.ok_or(ApiError::Unauthorized)?;
    let access_token = state.jwt.issue(user.id, user.tenant_id)?;
    Ok(HttpResponse::Ok().json(Token { access_token, token_type: "Bearer", expires_in: state.jwt.ttl().as_secs() }))
}
