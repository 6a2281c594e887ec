//! The OpenAPI description (hand-written, checked against the registered routes by tests) and offline docs.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// The methods the description documents for each path, as an `Allow` header value
/// (`GET, POST`), for the 405 answers. Tests hold the description to the routes: each
/// documented method is routed, and every other method answers 405 with this list.
pub fn allowed_methods(path: &str) -> Option<&'static str> {
    static ALLOW: std::sync::LazyLock<std::collections::HashMap<String, String>> = std::sync::LazyLock::new(|| {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap_or_default();
        let mut allow = std::collections::HashMap::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            let methods: Vec<String> = ["get", "post", "put", "patch", "delete"]
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| m.to_uppercase())
                .collect();
            allow.insert(path.clone(), methods.join(", "));
        }
        allow
    });
    ALLOW.get(path).map(String::as_str)
}

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
    cfg.service(super::resource("/openapi.json").route(web::get().to(openapi_json)))
        .service(super::resource("/docs").route(web::get().to(docs)))
        .service(super::resource("/docs/swagger-ui.css").route(web::get().to(css)))
        .service(super::resource("/docs/swagger-ui-bundle.js").route(web::get().to(js)));
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_description_is_openapi_3_1_json() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI_JSON).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
