//! The delivery queue on PostgreSQL: claim due deliveries under a lease, record each
//! attempt's outcome and release the lease in one transaction.
//!
//! Where each SQL function's current definition lives (a migration that changes one
//! replaces it whole; update this map with it):
//!
//! | function | current definition | called by |
//! |---|---|---|
//! | `hookrelay_claim` | `migrations/2026-12-07-000020_relay_webhooks/up.sql` (migration 16's fast path, rows with the event's source, http webhooks only) | [`claim`] |
//! | `hookrelay_claim_full` | `migrations/2026-12-07-000020_relay_webhooks/up.sql` (migration 10's `hookrelay_claim`, renamed by migration 16; rows with the event's source, http webhooks only) | `hookrelay_claim`, when its fast path does not apply |
//! | `hookrelay_add_counts` | `migrations/2026-12-01-000005_add_counts_plpgsql/up.sql` | `db::stats::apply` |
//! | `hookrelay_match_keys` | `migrations/2026-12-01-000006_webhook_match_keys/up.sql` | the generated column `webhooks.match_keys` |
//! | `hookrelay_uuid_v7` | `migrations/2026-11-23-000003_uuid_v7/up.sql` | the publish statements (`db::events`) |
//!
//! One file per step: [`claim`], [`record`] (with [`pressure`]), [`relay`] (the claims
//! of relay webhooks' listeners, which the dispatcher's claim never takes), [`wake`] and the
//! dispatcher [`registry`], the [`gauges`] of `/metrics`, and the [`publisher`], the
//! enqueue side (group-committed publishes, with claim at publish: its `writer` tasks,
//! and the `ingest` statement of verified inbound requests).

mod claim;
pub mod gauges;
mod ingest;
mod pressure;
pub mod publisher;
mod record;
mod registry;
pub mod relay;
mod wake;
mod writer;

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use tokio_util::sync::CancellationToken;

pub use claim::{claim, CLAIM_SETTINGS};
pub use gauges::gauges;
pub use record::{record, ATTEMPTS_CHANNEL};
pub use registry::instance;
pub use wake::{Wakeup, WAKE_CHANNEL};

use super::{Claim, ClaimRequest, Outcome, Queue, QueueError};
use crate::db::PgPool;
use crate::secrets::Sealer;

/// The queue on PostgreSQL, as the dispatcher uses it. The claim and the recorder each
/// run their few statements, one at a time, on a connection of their own: their cached
/// plans (the claim's takes milliseconds to make) are made once per connection, and
/// again after each VACUUM or ANALYZE of a table they read (migration 8 keeps those
/// rare). Taken from a shared pool, they were remade on every pooled connection in turn:
/// a cluster of slow claims each time.
pub struct PgQueue {
    claims: PgPool,
    records: PgPool,
    database_url: SecretString,
    sealer: Arc<Sealer>,
}

impl PgQueue {
    pub fn connect(database_url: &SecretString, sealer: Arc<Sealer>) -> anyhow::Result<PgQueue> {
        let url = database_url.expose_secret();
        Ok(PgQueue {
            claims: crate::db::build_pool_with(url, 1, CLAIM_SETTINGS)?,
            records: crate::db::build_pool(url, 1)?,
            database_url: database_url.clone(),
            sealer,
        })
    }
}

/// An error of the database as the dispatcher must treat it: a server that answered
/// (other than to say that it is going away) will refuse the same rows again. A lost
/// connection (diesel-async reports it as `UnableToSendCommand`) is not a refusal.
fn queue_error(err: diesel::result::Error) -> QueueError {
    match &err {
        e @ diesel::result::Error::DatabaseError(..) if !crate::db::is_unreachable(e) => {
            QueueError::Refused(err.to_string())
        }
        _ => QueueError::Unavailable(err.to_string()),
    }
}

impl Queue for PgQueue {
    async fn claim(&self, request: ClaimRequest<'_>) -> Result<Claim, QueueError> {
        let conn = self.claims.get().await.map_err(|e| QueueError::Unavailable(format!("database pool: {e}")))?;
        claim(&conn, &request, &self.sealer).await.map_err(queue_error)
    }

    async fn record(&self, outcomes: &[Outcome]) -> Result<(), QueueError> {
        let mut conn = self.records.get().await.map_err(|e| QueueError::Unavailable(format!("database pool: {e}")))?;
        record(&mut conn, outcomes).await.map_err(queue_error)
    }

    fn watch(
        &self,
        on_wake: impl Fn() + Send + 'static,
        shutdown: CancellationToken,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        // this process's own publishes woke its dispatcher directly already
        let on_notify = move |payload: &str| {
            if payload != instance() {
                on_wake();
            }
        };
        let listen = crate::db::listener::listen(self.database_url.clone(), WAKE_CHANNEL, on_notify, shutdown.clone());
        let registered = registry::heartbeat(self.records.clone(), shutdown);
        async move {
            tokio::join!(listen, registered);
        }
    }
}
