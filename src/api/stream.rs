//! Live stream of a tenant's delivery attempts as Server-Sent Events.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use tokio::sync::{mpsc, watch};

use super::deliveries::AttemptView;
use super::{resource, Params};
use crate::auth::{Caller, Credential};
use crate::db::{self, TenantId};
use crate::error::{ApiError, ApiResult};
use crate::startup::AppState;

const HEARTBEAT: Duration = Duration::from_secs(15);
const PAGE: i64 = 200;

/// Open streams per tenant in this process (`HOOKRELAY_MAX_STREAMS` each).
#[derive(Default)]
pub struct OpenStreams(Mutex<HashMap<TenantId, usize>>);

/// A stream's place under its tenant's cap; leaving it (drop) frees the place.
struct StreamSlot {
    open: Arc<OpenStreams>,
    tenant: TenantId,
}

impl OpenStreams {
    fn enter(self: &Arc<Self>, tenant: TenantId, max: usize) -> Option<StreamSlot> {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(tenant).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(StreamSlot { open: self.clone(), tenant })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.open.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.tenant) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.tenant);
            }
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/stream").route(web::get().to(stream)));
}

/// `event: attempt`, `id:` the log row's id, `data:` the log row. `Last-Event-ID` resumes
/// after that row; an unknown or purged id (or none) starts with live rows only.
async fn stream(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> ApiResult<HttpResponse> {
    let params = Params::from_request(&req)?;
    let webhook = params.uuid("webhookId")?;
    let slot = state
        .streams
        .enter(caller.tenant, state.config.max_streams)
        .ok_or(ApiError::RateLimited { retry_after_secs: HEARTBEAT.as_secs() })?;
    let mut conn = state.pool.get().await?;
    let resume = req
        .headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| uuid::Uuid::parse_str(v.trim()).ok());
    let start = match resume {
        Some(id) => db::logs::seq_of(&mut conn, caller.tenant, id).await?,
        None => None,
    };
    let start = match start {
        Some(seq) => seq,
        None => db::logs::last_seq(&mut conn, caller.tenant).await?,
    };
    drop(conn);
    let (tx, mut rx) = mpsc::channel::<Result<web::Bytes, std::io::Error>>(32);
    let source = Source { state: state.clone(), recorded: state.attempts.clone(), credential: caller.credential, slot };
    tokio::spawn(feed(source, caller.tenant, webhook, start, tx));
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

/// Where a stream's rows come from, and what keeps it open.
struct Source {
    state: web::Data<AppState>,
    /// ticks when attempts are recorded (by any dispatcher), and after the LISTEN
    /// connection is made again (rows may have been missed meanwhile)
    recorded: watch::Receiver<u64>,
    /// checked at every heartbeat: the stream ends once it no longer holds
    credential: Credential,
    slot: StreamSlot,
}

/// Sends rows after `last` as they are recorded, until the client goes away, the
/// credential is revoked or expires (checked at each heartbeat; an access token's expiry
/// ends the stream on time), or the service shuts down. Nothing is read while nothing is
/// recorded: no polling.
async fn feed(
    Source { state, mut recorded, credential, slot }: Source,
    tenant: TenantId,
    webhook: Option<uuid::Uuid>,
    mut last: i64,
    tx: mpsc::Sender<Result<web::Bytes, std::io::Error>>,
) {
    let send = |text: String| {
        let tx = tx.clone();
        async move { tx.send(Ok(web::Bytes::from(text))).await.is_ok() }
    };
    if !send(": connected\n\n".into()).await {
        return;
    }
    let _slot = slot;
    let expires = match credential {
        Credential::Token { expires_at } => {
            let left = expires_at.saturating_sub(chrono::Utc::now().timestamp());
            tokio::time::Instant::now() + Duration::from_secs(u64::try_from(left).unwrap_or(0))
        }
        // a key has no expiry: checked at each heartbeat instead
        Credential::ApiKey { .. } => tokio::time::Instant::now() + Duration::from_secs(100 * 365 * 86_400),
    };
    let mut next_heartbeat = tokio::time::Instant::now() + HEARTBEAT;
    loop {
        recorded.borrow_and_update();
        let rows = match state.pool.get().await {
            Ok(mut conn) => db::logs::after_seq(&mut conn, tenant, webhook, last, PAGE).await.unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let full = rows.len() as i64 == PAGE;
        for (seq, row) in rows {
            let id = row.id;
            let data = serde_json::to_string(&AttemptView::from(row)).unwrap_or_default();
            if !send(format!("event: attempt\nid: {id}\ndata: {data}\n\n")).await {
                return;
            }
            last = seq;
        }
        if full {
            continue;
        }
        tokio::select! {
            changed = recorded.changed() => {
                if changed.is_err() {
                    // the listener is gone: the service is shutting down
                    return;
                }
            }
            _ = tokio::time::sleep_until(next_heartbeat) => {
                let valid = matches!(credential.still_valid(&state, tenant).await, Ok(true));
                if !valid || !send(": heartbeat\n\n".into()).await {
                    return;
                }
                next_heartbeat = tokio::time::Instant::now() + HEARTBEAT;
            }
            _ = tokio::time::sleep_until(expires) => return,
            _ = tx.closed() => return,
            _ = state.shutdown.cancelled() => return,
        }
    }
}
