//! Waking dispatchers after a publish: NOTIFY, coalesced, and only while another
//! process's dispatcher, or a relay listener, is alive to hear it.

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::registry::{instance, other_dispatchers, RECHECK};
use crate::db::prepared::prepared;
use crate::db::PgPool;

/// The channel dispatchers LISTEN on; a notification means "due work may exist".
pub const WAKE_CHANNEL: &str = "hookrelay_work";

/// NOTIFY outside a transaction, without waiting for a WAL flush: it carries only the
/// sender's name.
async fn notify_async(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    prepared(
        diesel::sql_query("SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)")
            .bind::<Text, _>(WAKE_CHANNEL)
            .bind::<Text, _>(instance()),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Coalesces wake-ups after publishes: every publish calls [`Wakeup::soon`], and one
/// background task sends a NOTIFY for each burst, as long as a dispatcher of another
/// process is alive (`dispatchers`, looked at every [`RECHECK`]): this process's own is
/// woken directly. Keeping NOTIFY out of the publish statement keeps commits from
/// queueing on PostgreSQL's notification lock; should the process die between a commit
/// and its NOTIFY, the dispatchers' fallback poll finds the work.
#[derive(Clone)]
pub struct Wakeup {
    signal: std::sync::Arc<tokio::sync::Notify>,
    local: Option<std::sync::Arc<tokio::sync::Notify>>,
    /// The listeners of relay webhooks waiting in this process (`api::relay`).
    relay: std::sync::Arc<tokio::sync::Notify>,
}

impl Wakeup {
    /// `local` is this process's dispatcher, if it runs one: it is woken directly,
    /// without the round trip through PostgreSQL.
    pub fn spawn(
        pool: PgPool,
        local: Option<std::sync::Arc<tokio::sync::Notify>>,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Wakeup {
        let signal = std::sync::Arc::new(tokio::sync::Notify::new());
        let relay = std::sync::Arc::new(tokio::sync::Notify::new());
        let wakeup = Wakeup { signal: signal.clone(), local, relay };
        tokio::spawn(async move {
            // (when it was looked at, whether another dispatcher was alive)
            let mut others: Option<(std::time::Instant, bool)> = None;
            loop {
                tokio::select! {
                    _ = signal.notified() => {}
                    _ = shutdown.cancelled() => return,
                }
                let sent = match pool.get().await {
                    Ok(mut conn) => {
                        async {
                            let known = others.filter(|(at, _)| at.elapsed() < RECHECK);
                            let alive = match known {
                                Some((_, alive)) => alive,
                                // when the registry cannot be read, notify anyway
                                None => other_dispatchers(&mut conn).await.unwrap_or(true),
                            };
                            if known.is_none() {
                                others = Some((std::time::Instant::now(), alive));
                            }
                            if alive {
                                notify_async(&mut conn).await?;
                            }
                            anyhow::Ok(())
                        }
                        .await
                    }
                    Err(err) => Err(anyhow::anyhow!("database pool: {err}")),
                };
                if let Err(err) = sent {
                    tracing::warn!(error = format!("{err:#}"), "could not notify dispatchers; they will poll");
                }
            }
        });
        wakeup
    }

    pub fn soon(&self) {
        if let Some(local) = &self.local {
            local.notify_one();
        }
        self.relay.notify_waiters();
        self.signal.notify_one();
    }

    /// What the listeners of relay webhooks in this process wait on: notified after every
    /// publish of this process, and whenever a relay delivery's lease or outcome changes.
    pub fn relay(&self) -> &tokio::sync::Notify {
        &self.relay
    }
}
