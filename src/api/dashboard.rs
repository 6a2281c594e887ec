//! The web dashboard (`/`) and the consumer portal (`/portal`): static pages embedded in
//! the binary at build time, which call the public API from the browser and nothing else.
//! No build step: the files under `assets/dashboard/` are the pages as served (README,
//! "Dashboard").

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpResponse};

use crate::api::route::resource;
use crate::api::state::AppState;
use crate::error::ApiError;

const INDEX_HTML: &[u8] = include_bytes!("../../assets/dashboard/index.html");

/// The files `index.html` loads, by the name under `/ui/`.
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.js", JS, include_bytes!("../../assets/dashboard/app.js")),
    ("api.js", JS, include_bytes!("../../assets/dashboard/api.js")),
    ("dom.js", JS, include_bytes!("../../assets/dashboard/dom.js")),
    ("chart.js", JS, include_bytes!("../../assets/dashboard/chart.js")),
    ("views.js", JS, include_bytes!("../../assets/dashboard/views.js")),
    ("webhook.js", JS, include_bytes!("../../assets/dashboard/webhook.js")),
    ("sources.js", JS, include_bytes!("../../assets/dashboard/sources.js")),
    ("source.js", JS, include_bytes!("../../assets/dashboard/source.js")),
    ("time.js", JS, include_bytes!("../../assets/dashboard/time.js")),
    ("events.js", JS, include_bytes!("../../assets/dashboard/events.js")),
    ("payload.js", JS, include_bytes!("../../assets/dashboard/payload.js")),
    ("deliveries.js", JS, include_bytes!("../../assets/dashboard/deliveries.js")),
    ("tail.js", JS, include_bytes!("../../assets/dashboard/tail.js")),
    ("health.js", JS, include_bytes!("../../assets/dashboard/health.js")),
    ("form.js", JS, include_bytes!("../../assets/dashboard/form.js")),
    ("webhook-form.js", JS, include_bytes!("../../assets/dashboard/webhook-form.js")),
    ("stats.js", JS, include_bytes!("../../assets/dashboard/stats.js")),
    ("style.css", CSS, include_bytes!("../../assets/dashboard/style.css")),
];
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Scripts and styles from this server only (no inline script, no `eval`), requests to
/// this server only; `frame-ancestors` is appended per page.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/").route(web::get().to(dashboard)))
        .service(resource("/portal").route(web::get().to(portal)))
        .service(resource("/ui/{file}").route(web::get().to(asset)));
}

/// The tenant's dashboard is never framed: a framing page could trick a logged-in user
/// into clicks (clickjacking).
async fn dashboard(state: web::Data<AppState>) -> HttpResponse {
    page(&state, format!("{CSP}; frame-ancestors 'none'"))
}

/// The portal is framed by the tenant's own pages, as `HOOKRELAY_PORTAL_FRAME_ANCESTORS` allows.
async fn portal(state: web::Data<AppState>) -> HttpResponse {
    page(&state, format!("{CSP}; frame-ancestors {}", state.config.portal_frame_ancestors))
}

fn page(state: &AppState, csp: String) -> HttpResponse {
    let body = match &state.config.dashboard_dir {
        Some(dir) => std::fs::read(dir.join("index.html")).map_or(Bytes::from_static(INDEX_HTML), Bytes::from),
        None => Bytes::from_static(INDEX_HTML),
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // the portal's token is in the fragment, which browsers never send as a referrer;
        // no page of ours needs to tell another site where it was opened from
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body)
}

async fn asset(state: web::Data<AppState>, file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (content_type, body) = match &state.config.dashboard_dir {
        Some(dir) => {
            // any script or style sheet of the directory, so that a new module needs no
            // rebuild either; a plain name only: the directory is never left or browsed
            let name = file.as_str();
            let plain = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
            let content_type = match name.rsplit_once('.') {
                Some((stem, "js")) if plain && !stem.contains('.') => JS,
                Some((stem, "css")) if plain && !stem.contains('.') => CSS,
                _ => return Err(ApiError::NotFound),
            };
            (content_type, Bytes::from(std::fs::read(dir.join(name)).map_err(|_| ApiError::NotFound)?))
        }
        None => {
            let (_, content_type, body) =
                ASSETS.iter().find(|(name, _, _)| *name == file.as_str()).ok_or(ApiError::NotFound)?;
            (*content_type, Bytes::from_static(body))
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        // not fingerprinted: revalidate, so that an upgraded server's pages load whole
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body))
}
