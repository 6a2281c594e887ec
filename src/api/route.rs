//! Routes: every resource answers 405 (with `Allow`) to a method it does not route, and
//! is recorded so that tests can hold the OpenAPI description to the routes.

use std::collections::BTreeSet;
use std::sync::Mutex;

use actix_web::web;

use crate::api::openapi;
use crate::error::ApiError;

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
