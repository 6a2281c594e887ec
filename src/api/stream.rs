//! Live stream of a tenant's delivery attempts as Server-Sent Events.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::deliveries::AttemptView;
use super::{resource, Params};
use crate::auth::Caller;
use crate::db::{self, PgPool, TenantId};
use crate::error::ApiResult;
use crate::startup::AppState;

const HEARTBEAT: Duration = Duration::from_secs(15);
/// Fallback poll, should a notification be missed.
const POLL: Duration = Duration::from_secs(1);
const PAGE: i64 = 200;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/stream").route(web::get().to(stream)));
}

/// `event: attempt`, `id:` the log row's id, `data:` the log row. `Last-Event-ID` resumes
/// after that row; an unknown or purged id (or none) starts with live rows only.
async fn stream(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> ApiResult<HttpResponse> {
    let params = Params::from_request(&req)?;
    let webhook = params.uuid("webhookId")?;
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
    let source =
        Source { pool: state.pool.clone(), recorded: state.attempts.clone(), shutdown: state.shutdown.clone() };
    tokio::spawn(feed(source, caller.tenant, webhook, start, tx));
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

/// Where a stream's rows come from.
struct Source {
    pool: PgPool,
    /// ticks when attempts are recorded
    recorded: watch::Receiver<u64>,
    shutdown: CancellationToken,
}

/// Sends rows after `last` as they are recorded, until the client goes away or the
/// service shuts down.
async fn feed(
    Source { pool, mut recorded, shutdown }: Source,
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
    let mut next_heartbeat = tokio::time::Instant::now() + HEARTBEAT;
    loop {
        recorded.borrow_and_update();
        let rows = match pool.get().await {
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
                    // no listener any more (shutting down): fall back to polling
                    tokio::time::sleep(POLL).await;
                }
            }
            _ = tokio::time::sleep(POLL) => {}
            _ = tokio::time::sleep_until(next_heartbeat) => {
                if !send(": heartbeat\n\n".into()).await {
                    return;
                }
                next_heartbeat = tokio::time::Instant::now() + HEARTBEAT;
            }
            _ = tx.closed() => return,
            _ = shutdown.cancelled() => return,
        }
    }
}
