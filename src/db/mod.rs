//! Database access: the pool, migrations and one module per table. Every function that
//! reads or writes tenant-owned rows takes the caller's `TenantId` and filters by it.

pub mod api_keys;
pub mod deliveries;
pub mod events;
pub mod health;
pub mod inbound;
pub mod listener;
pub mod locks;
pub mod logs;
pub mod parking;
pub mod prepared;
pub mod recoveries;
pub mod relay_listeners;
pub mod retention;
pub mod schema;
pub mod source_secrets;
pub mod sources;
pub mod stats;
pub mod tenants;
pub mod tls;
pub mod webhook_health;
pub mod webhook_secrets;
pub mod webhooks;

use std::time::Duration;

use anyhow::Context;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub type PgPool = Pool<AsyncPgConnection>;
pub type PgConn = Object<AsyncPgConnection>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub use crate::domain::ids::TenantId;

/// PostgreSQL could not be reached or went away mid-statement: the same request may
/// succeed later (the API answers 503 with Retry-After), unlike an error about the
/// statement itself. Carries the cause's text where the error itself cannot be kept (one
/// failed batch answers many callers).
#[derive(Debug, thiserror::Error)]
#[error("the database is unreachable: {0}")]
pub struct Unreachable(pub String);

/// What the server says when it is going down or not up yet (SQLSTATE 57P01 and 57P03;
/// diesel-async keeps the message, not the code).
const SHUTTING_DOWN: [&str; 4] = [
    "terminating connection due to administrator command",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
];

/// Whether `err` means that the database could not be reached (see [`Unreachable`]).
pub fn is_unreachable(err: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as Kind, Error};
    match err {
        Error::DatabaseError(Kind::UnableToSendCommand | Kind::ClosedConnection, _)
        | Error::BrokenTransactionManager => true,
        Error::DatabaseError(_, info) => SHUTTING_DOWN.iter().any(|m| info.message().contains(m)),
        _ => false,
    }
}

/// Whether taking a connection failed for want of a database: it could not be opened, or
/// none came free in time.
pub fn pool_unreachable(err: &PoolError) -> bool {
    matches!(
        err,
        deadpool::managed::PoolError::Timeout(_)
            | deadpool::managed::PoolError::Backend(_)
            | deadpool::managed::PoolError::Closed
    )
}

/// [`is_unreachable`] or [`pool_unreachable`] anywhere in an error's chain.
pub fn unreachable_in(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.is::<Unreachable>()
            || e.downcast_ref::<diesel::result::Error>().is_some_and(is_unreachable)
            || e.downcast_ref::<PoolError>().is_some_and(pool_unreachable)
    })
}

pub type PoolError = deadpool::managed::PoolError<diesel_async::pooled_connection::PoolError>;

pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// The smallest UUID v7 of the millisecond of `t`: every v7 id made at `t` or later is
/// at least this, every one made before it is smaller.
pub fn v7_floor(t: chrono::DateTime<chrono::Utc>) -> uuid::Uuid {
    let ms = u64::try_from(t.timestamp_millis()).unwrap_or(0);
    uuid::Uuid::from_u128((u128::from(ms) << 80) | (0x7 << 76) | (0b10 << 62))
}

pub fn build_pool(database_url: &str, size: usize) -> anyhow::Result<PgPool> {
    build_pool_with(database_url, size, "")
}

/// A pool whose connections also run `settings` (`SET …` statements) once when they open:
/// for a task that runs only its own few statements, such as the publish writers.
pub fn build_pool_with(database_url: &str, size: usize, settings: &'static str) -> anyhow::Result<PgPool> {
    let target = tls::target(database_url)?;
    let mut config = ManagerConfig::default();
    // A checkout costs no round trip: a connection that died is found by its next
    // statement, whose error every caller already handles (the API answers 503, the
    // dispatcher retries), and is not handed out again. The default would run `SELECT 1` on every checkout.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |_| Box::pin(connect(target.clone(), settings)));
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(10)))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .context("building the database pool")
}

/// Opens a connection with JIT compilation off. hookrelay's statements are short, but
/// the planner's estimates for some (the claim, a fan-out over thousands of webhooks) pass
/// `jit_above_cost`, and compiling them takes tens of milliseconds: far more than the
/// statement itself, on every run.
async fn connect(target: tls::Target, settings: &'static str) -> diesel::ConnectionResult<AsyncPgConnection> {
    let mut conn = establish(&target).await?;
    conn.batch_execute(&format!("SET jit = off; {settings}"))
        .await
        .map_err(|e| diesel::ConnectionError::BadConnection(format!("setting up the connection: {e}")))?;
    Ok(conn)
}

/// A diesel connection over the driver's, with `sslmode` honoured (see [`tls`]).
pub async fn establish(target: &tls::Target) -> diesel::ConnectionResult<AsyncPgConnection> {
    let (client, connection) = target
        .config
        .connect(target.tls.clone())
        .await
        .map_err(|e| diesel::ConnectionError::BadConnection(format!("connecting to PostgreSQL: {}", chain(&e))))?;
    AsyncPgConnection::try_from_client_and_connection(client, connection).await
}

/// An error with its causes ("error performing TLS handshake: invalid peer certificate: …").
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Applies pending migrations. Runs the synchronous harness on a blocking thread, where
/// diesel-async's wrapper may block on the runtime.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let conn = establish(&tls::target(database_url)?).await.context("connecting to PostgreSQL to migrate")?;
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn: AsyncConnectionWrapper<AsyncPgConnection> = AsyncConnectionWrapper::from(conn);
        let applied =
            conn.run_pending_migrations(MIGRATIONS).map_err(|e| anyhow::anyhow!("applying migrations: {e}"))?;
        for version in applied {
            tracing::info!(%version, "applied migration");
        }
        Ok(())
    })
    .await
    .context("migration task panicked")?
}

/// True when the database answers and the newest embedded migration is applied.
pub async fn ready(pool: &PgPool) -> anyhow::Result<bool> {
    use diesel::sql_types::Text;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let latest = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("reading embedded migrations: {e}"))?
        .iter()
        .map(|m| m.name().version().to_string())
        .max()
        .unwrap_or_default();
    let mut conn = pool.get().await.context("database unreachable")?;
    let row: Count = diesel::sql_query("SELECT count(*) AS n FROM __diesel_schema_migrations WHERE version = $1")
        .bind::<Text, _>(latest)
        .get_result(&mut conn)
        .await
        .context("reading applied migrations")?;
    Ok(row.n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v7_floor_separates_ids_by_their_millisecond() {
        let t = chrono::Utc::now();
        let at = |t: chrono::DateTime<chrono::Utc>| {
            let secs = u64::try_from(t.timestamp()).unwrap_or(0);
            uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, t.timestamp_subsec_nanos()))
        };
        let floor = v7_floor(t);
        assert_eq!(floor.get_version_num(), 7);
        for _ in 0..100 {
            assert!(at(t) >= floor, "an id of the same moment is not below the floor");
            assert!(at(t - chrono::Duration::milliseconds(1)) < floor, "an id of the millisecond before is");
        }
        assert!(new_id() >= v7_floor(t), "ids made later are above the floor");
    }
}
