//! Database access: the pool, migrations and one module per table. Every function that
//! reads or writes tenant-owned rows takes the caller's `TenantId` and filters by it.

pub mod api_keys;
pub mod deliveries;
pub mod events;
pub mod logs;
pub mod prepared;
pub mod publisher;
pub mod queue;
pub mod retention;
pub mod schema;
pub mod stats;
pub mod tenants;
pub mod webhooks;

use std::time::Duration;

use anyhow::Context;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub type PgPool = Pool<AsyncPgConnection>;
pub type PgConn = Object<AsyncPgConnection>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// A tenant id: every tenant-scoped query takes one, so it cannot be forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TenantId(pub uuid::Uuid);

pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

pub fn build_pool(database_url: &str, size: usize) -> anyhow::Result<PgPool> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(database_url);
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(10)))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .context("building the database pool")
}

/// Applies pending migrations. Runs the synchronous harness on a blocking thread, where
/// diesel-async's wrapper may block on the runtime.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn: AsyncConnectionWrapper<AsyncPgConnection> =
            diesel::Connection::establish(&url).context("connecting to PostgreSQL to migrate")?;
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
