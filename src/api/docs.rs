//! `/openapi.json` and the offline interactive docs at `/docs`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::api::openapi::OPENAPI_JSON;
use crate::api::route::resource;

/// Swagger UI, vendored from `swagger-ui-dist` (see assets/swagger-ui/README.md).
const SWAGGER_UI_CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");
const SWAGGER_UI_JS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");

/// Loads nothing from outside this server (`validatorUrl: null` keeps Swagger UI from
/// calling its online validator).
const DOCS_HTML: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hookrelay API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", validatorUrl: null});
</script>
</body>
</html>
"##;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/openapi.json").route(web::get().to(openapi_json)))
        .service(resource("/docs").route(web::get().to(docs)))
        .service(resource("/docs/swagger-ui.css").route(web::get().to(css)))
        .service(resource("/docs/swagger-ui-bundle.js").route(web::get().to(js)));
}

fn respond(content_type: &'static str, cache_control: &'static str, body: &'static [u8]) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

async fn openapi_json() -> HttpResponse {
    respond("application/json", "no-cache", OPENAPI_JSON.as_bytes())
}

async fn docs() -> HttpResponse {
    respond("text/html; charset=utf-8", "no-cache", DOCS_HTML.as_bytes())
}

async fn css() -> HttpResponse {
    respond("text/css; charset=utf-8", "public, max-age=86400", SWAGGER_UI_CSS)
}

async fn js() -> HttpResponse {
    respond("text/javascript; charset=utf-8", "public, max-age=86400", SWAGGER_UI_JS)
}
