//! The registry of live dispatchers (`dispatchers`): each dispatcher keeps its row fresh
//! while it listens, so that API processes notify only when someone listens.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use tokio_util::sync::CancellationToken;

use crate::db::PgPool;

/// How often a dispatcher refreshes its row in `dispatchers`, and how old a row may be for
/// its dispatcher to count as alive (several missed heartbeats).
const HEARTBEAT: Duration = Duration::from_secs(5);
const ALIVE: &str = "20 seconds";
/// How long an API process trusts its last look at `dispatchers`. A dispatcher that starts
/// meanwhile finds the new work by its fallback poll.
pub(super) const RECHECK: Duration = Duration::from_secs(2);

/// This process's name in the wake-ups it sends after publishing, so that its own
/// dispatcher, already woken directly, can ignore them.
pub fn instance() -> &'static str {
    static INSTANCE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| Uuid::new_v4().to_string());
    &INSTANCE
}

/// Keeps this process's row in `dispatchers` fresh while it listens for wake-ups, and
/// deletes it at shutdown (a row left by a killed process goes stale, and is deleted by
/// the next process that starts).
pub(super) async fn heartbeat(pool: PgPool, shutdown: CancellationToken) {
    loop {
        let beat = async {
            let mut conn = pool.get().await.map_err(|err| anyhow::anyhow!("database pool: {err}"))?;
            diesel::sql_query(format!(
                "WITH gone AS (DELETE FROM dispatchers WHERE seen_at < now() - interval '{ALIVE}') \
                 INSERT INTO dispatchers (instance, seen_at) VALUES ($1, now()) \
                 ON CONFLICT (instance) DO UPDATE SET seen_at = now()"
            ))
            .bind::<Text, _>(instance())
            .execute(&mut conn)
            .await?;
            anyhow::Ok(())
        };
        if let Err(err) = beat.await {
            tracing::warn!(
                error = format!("{err:#}"),
                "could not register this dispatcher; API processes may not wake it"
            );
        }
        tokio::select! {
            _ = tokio::time::sleep(HEARTBEAT) => {}
            _ = shutdown.cancelled() => break,
        }
    }
    if let Ok(mut conn) = pool.get().await {
        let _ = diesel::sql_query("DELETE FROM dispatchers WHERE instance = $1")
            .bind::<Text, _>(instance())
            .execute(&mut conn)
            .await;
    }
}

#[derive(QueryableByName)]
struct Others {
    #[diesel(sql_type = Bool)]
    others: bool,
}

/// Whether another process may be waiting for a wake-up: a dispatcher process other than
/// this one is alive, or a relay listener polled within the last minute (it may wait on
/// another API process, which hears the NOTIFY: `startup`).
pub(super) async fn other_dispatchers(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    let row: Others = diesel::sql_query(format!(
        "SELECT EXISTS (SELECT 1 FROM dispatchers WHERE instance <> $1 AND seen_at > now() - interval '{ALIVE}') \
           OR EXISTS (SELECT 1 FROM relay_listeners WHERE seen_at > now() - interval '60 seconds') AS others"
    ))
    .bind::<Text, _>(instance())
    .get_result(conn)
    .await?;
    Ok(row.others)
}
