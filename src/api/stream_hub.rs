//! One reader of recorded attempts for all of a process's live streams (issue 16, item
//! 7): when the recorder's NOTIFY says attempts were recorded, the hub reads the new log
//! rows of every tenant that has a stream open here — one statement, however many streams
//! — and hands each row, serialised once, to the streams. Each stream filters by its
//! tenant and `webhookId` in memory. The hub also counts each tenant's open streams
//! against `HOOKRELAY_MAX_STREAMS`.
//!
//! A stream subscribes first and then reads the rows it needs to catch up on itself, until
//! it has read everything committed (a page short of full). Every row is then either in
//! what it read or broadcast after it subscribed: a row the hub never broadcast to it was
//! read by the hub before the subscription, so it had been committed, and the stream's own
//! read sees it. Rows seen both ways are dropped by their stream position (`seq`, in
//! commit order: recording is serialised). A stream that falls behind the broadcast
//! catches up by reading again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::api::attempt_view::AttemptView;
use crate::db::{self, PgPool, TenantId};
use crate::metrics::Metrics;

/// Rows the hub reads per tenant per statement; more are read at once by the next one.
const PAGE: i64 = 500;
/// Rows kept for streams that are slow to take them; one that falls further behind reads
/// what it missed itself.
const BACKLOG: usize = 4_096;

/// A recorded attempt, ready to send.
pub struct Recorded {
    pub seq: i64,
    pub tenant: TenantId,
    pub webhook: Uuid,
    /// the whole SSE event: `event: attempt`, its id and its data
    pub event: String,
}

impl Recorded {
    pub fn new(seq: i64, row: db::logs::AttemptLog) -> Recorded {
        let (tenant, webhook, id) = (TenantId(row.tenant_id), row.webhook_id, row.id);
        let data = serde_json::to_string(&AttemptView::from(row)).unwrap_or_default();
        Recorded { seq, tenant, webhook, event: format!("event: attempt\nid: {id}\ndata: {data}\n\n") }
    }
}

/// A tenant with streams open: how many, and the stream position the hub has read up to.
struct Watched {
    streams: usize,
    read_to: i64,
}

pub struct StreamHub {
    tenants: Mutex<HashMap<TenantId, Watched>>,
    rows: broadcast::Sender<Arc<Recorded>>,
}

/// A stream's place under its tenant's cap and its feed of recorded rows; dropping it
/// leaves both.
pub struct Subscription {
    hub: Arc<StreamHub>,
    tenant: TenantId,
    pub rows: broadcast::Receiver<Arc<Recorded>>,
}

impl StreamHub {
    /// Starts the hub's reader: it reads whenever `recorded` ticks, until `shutdown`.
    pub fn spawn(
        pool: PgPool,
        metrics: Arc<Metrics>,
        recorded: watch::Receiver<u64>,
        shutdown: CancellationToken,
    ) -> Arc<StreamHub> {
        let hub = Arc::new(StreamHub { tenants: Mutex::default(), rows: broadcast::channel(BACKLOG).0 });
        tokio::spawn(read_loop(hub.clone(), pool, metrics, recorded, shutdown));
        hub
    }

    /// Opens a stream of `tenant`, or `None` when it already has `max` open here.
    /// `newest` is the tenant's newest stream position (where the hub starts reading for a
    /// tenant it does not watch yet).
    pub fn enter(self: &Arc<Self>, tenant: TenantId, max: usize, newest: i64) -> Option<Subscription> {
        let mut tenants = lock(&self.tenants);
        let watched = tenants.entry(tenant).or_insert(Watched { streams: 0, read_to: newest });
        if watched.streams >= max {
            if watched.streams == 0 {
                tenants.remove(&tenant);
            }
            return None;
        }
        watched.streams += 1;
        Some(Subscription { hub: self.clone(), tenant, rows: self.rows.subscribe() })
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut tenants = lock(&self.hub.tenants);
        if let Some(w) = tenants.get_mut(&self.tenant) {
            w.streams -= 1;
            if w.streams == 0 {
                tenants.remove(&self.tenant);
            }
        }
    }
}

async fn read_loop(
    hub: Arc<StreamHub>,
    pool: PgPool,
    metrics: Arc<Metrics>,
    mut recorded: watch::Receiver<u64>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            changed = recorded.changed() => if changed.is_err() { return },
            _ = shutdown.cancelled() => return,
        }
        // until every watched tenant's page came back short
        loop {
            recorded.borrow_and_update();
            let positions: Vec<(TenantId, i64)> = lock(&hub.tenants).iter().map(|(t, w)| (*t, w.read_to)).collect();
            if positions.is_empty() {
                break;
            }
            metrics.stream_read();
            let rows = match pool.get().await {
                Ok(mut conn) => db::logs::after_seqs(&mut conn, &positions, PAGE).await,
                Err(err) => Err(diesel::result::Error::QueryBuilderError(err.to_string().into())),
            };
            let rows = match rows {
                Ok(rows) => rows,
                Err(err) => {
                    // the streams wait on this read: try again shortly, whatever is recorded
                    tracing::warn!(error = %err, "reading recorded attempts for the live streams failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                        _ = shutdown.cancelled() => return,
                    }
                }
            };
            let mut per_tenant: HashMap<TenantId, (i64, i64)> = HashMap::new();
            let mut sent = Vec::with_capacity(rows.len());
            for (seq, row) in rows {
                let r = Recorded::new(seq, row);
                let e = per_tenant.entry(r.tenant).or_default();
                e.0 = e.0.max(seq);
                e.1 += 1;
                sent.push(Arc::new(r));
            }
            {
                let mut tenants = lock(&hub.tenants);
                for (tenant, (to, _)) in &per_tenant {
                    if let Some(w) = tenants.get_mut(tenant) {
                        w.read_to = w.read_to.max(*to);
                    }
                }
            }
            for r in sent {
                // no stream open: nobody to tell
                let _ = hub.rows.send(r);
            }
            if !per_tenant.values().any(|(_, n)| *n == PAGE) {
                break;
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // counts and positions stay usable whatever a panicking holder did
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
