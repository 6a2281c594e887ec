//! Live stream of a tenant's delivery attempts as Server-Sent Events.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use tokio::sync::{broadcast, mpsc};

use crate::api::caller::{Caller, Credential};
use crate::api::params::Params;
use crate::api::route::resource;
use crate::api::state::AppState;
use crate::api::stream_hub::{Recorded, Subscription};
use crate::db::{self, TenantId};
use crate::error::{ApiError, ApiResult};

const HEARTBEAT: Duration = Duration::from_secs(15);
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
    if let Some(id) = webhook {
        // another consumer's webhook is 404 to a portal session
        caller.hold(&mut conn, id).await?;
    }
    let newest = db::logs::last_seq(&mut conn, caller.tenant).await?;
    let resume = req
        .headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| uuid::Uuid::parse_str(v.trim()).ok());
    let start = match resume {
        Some(id) => db::logs::seq_of(&mut conn, caller.tenant, id).await?,
        None => None,
    };
    drop(conn);
    let start = start.unwrap_or(newest);
    let subscription = state
        .streams
        .enter(caller.tenant, state.config.max_streams, newest)
        .ok_or(ApiError::RateLimited { retry_after_secs: HEARTBEAT.as_secs() })?;
    let (tx, mut rx) = mpsc::channel::<Result<web::Bytes, std::io::Error>>(32);
    let visible = Visible { consumer: caller.consumer, known: HashMap::new() };
    // the extractor's look at the credential was before the reads above: the first row
    // looks again (a revocation may have committed meanwhile)
    let never = tokio::time::Instant::now().checked_sub(TRUST).unwrap_or_else(tokio::time::Instant::now);
    let credential = Held { credential: caller.credential, checked: never };
    let source = Source { state: state.clone(), credential, subscription, visible };
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
    /// checked before rows are sent and at every heartbeat: the stream ends once it no
    /// longer holds
    credential: Held,
    /// the hub's rows, and the stream's place under its tenant's cap
    subscription: Subscription,
    visible: Visible,
}

/// How long a look at the credential is trusted. SPEC: no row recorded more than 1 s
/// after a revocation is sent; a row recorded later than that is sent after this long
/// since the last look, so it waits for a fresh one.
const TRUST: Duration = Duration::from_millis(900);

/// The stream's credential, and when it was last seen to hold. Looked at again before a
/// row is sent once [`TRUST`] has passed: while nothing is recorded, that costs nothing;
/// while rows flow, at most one lookup a second.
struct Held {
    credential: Credential,
    checked: tokio::time::Instant,
}

impl Held {
    /// Whether the credential still holds: from the last look if it is recent enough, or
    /// always from a new one when `force`d (the heartbeat).
    async fn holds(&mut self, state: &AppState, tenant: TenantId, force: bool) -> bool {
        if !force && self.checked.elapsed() < TRUST {
            return true;
        }
        // the look counts from when it started: a revocation may commit while it runs
        let started = tokio::time::Instant::now();
        let valid = matches!(self.credential.still_valid(state, tenant).await, Ok(true));
        if valid {
            self.checked = started;
        }
        valid
    }
}

/// Which webhooks' attempts a stream shows: all of its tenant's, or those of a portal
/// session's consumer. A webhook's consumer is looked up once and kept until the next
/// heartbeat (a tenant may move a webhook to another consumer).
struct Visible {
    consumer: Option<String>,
    known: HashMap<uuid::Uuid, bool>,
}

impl Visible {
    async fn shows(&mut self, state: &AppState, tenant: TenantId, webhook: uuid::Uuid) -> bool {
        let Some(consumer) = &self.consumer else {
            return true;
        };
        if let Some(shown) = self.known.get(&webhook) {
            return *shown;
        }
        let shown = match state.pool.get().await {
            Ok(mut conn) => db::webhooks::get(&mut conn, tenant, webhook)
                .await
                .is_ok_and(|w| w.consumer_id.as_ref() == Some(consumer)),
            // not cached: looked up again with the next row
            Err(_) => return false,
        };
        self.known.insert(webhook, shown);
        shown
    }
}

/// Sends rows after `last` as they are recorded, until the client goes away, the
/// credential is revoked or expires (checked at each heartbeat; an access token's expiry
/// ends the stream on time), or the service shuts down. The stream reads rows itself only
/// to catch up (at the start, and after falling behind the hub); then the hub's reads
/// feed it (see `stream_hub`). Nothing is read while nothing is recorded: no polling.
async fn feed(
    Source { state, mut credential, mut subscription, mut visible }: Source,
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
    let expires = match credential.credential {
        Credential::Token { expires_at } => {
            let left = expires_at.saturating_sub(chrono::Utc::now().timestamp());
            tokio::time::Instant::now() + Duration::from_secs(u64::try_from(left).unwrap_or(0))
        }
        // a key has no expiry: checked at each heartbeat instead
        Credential::ApiKey { .. } => tokio::time::Instant::now() + Duration::from_secs(100 * 365 * 86_400),
    };
    let mut next_heartbeat = tokio::time::Instant::now() + HEARTBEAT;
    let mut behind = true;
    loop {
        if behind {
            state.metrics.stream_read();
            let rows = match state.pool.get().await {
                Ok(mut conn) => db::logs::after_seq(&mut conn, tenant, webhook, last, PAGE).await,
                Err(err) => Err(diesel::result::Error::QueryBuilderError(err.to_string().into())),
            };
            let Ok(rows) = rows else {
                // the database is away: try again shortly, the stream stays open
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    _ = tx.closed() => return,
                    _ = state.shutdown.cancelled() => return,
                }
            };
            behind = rows.len() as i64 == PAGE;
            for (seq, row) in rows {
                let shown = visible.shows(&state, tenant, row.webhook_id).await;
                if shown
                    && (!credential.holds(&state, tenant, false).await || !send(Recorded::new(seq, row).event).await)
                {
                    return;
                }
                last = seq;
            }
            continue;
        }
        tokio::select! {
            row = subscription.rows.recv() => match row {
                Ok(r) => {
                    let mine = r.tenant == tenant && webhook.is_none_or(|w| w == r.webhook);
                    if mine && r.seq > last && visible.shows(&state, tenant, r.webhook).await {
                        if !credential.holds(&state, tenant, false).await || !send(r.event.clone()).await {
                            return;
                        }
                        last = r.seq;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => behind = true,
                // the hub is gone: the service is shutting down
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = tokio::time::sleep_until(next_heartbeat) => {
                if !credential.holds(&state, tenant, true).await || !send(": heartbeat\n\n".into()).await {
                    return;
                }
                visible.known.clear();
                next_heartbeat = tokio::time::Instant::now() + HEARTBEAT;
            }
            _ = tokio::time::sleep_until(expires) => return,
            _ = tx.closed() => return,
            _ = state.shutdown.cancelled() => return,
        }
    }
}
