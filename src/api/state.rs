//! The API's shared state: what every request handler can reach. Its own module so that
//! handlers depend on it, not on start-up, which builds it.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::api::limiter::AuthLimiter;
use crate::api::source_cache::SourceCache;
use crate::api::stream_hub::StreamHub;
use crate::api::tenant_limits::TenantLimits;
use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::db::PgPool;
use crate::metrics::Metrics;
use crate::queue::pg::publisher::Publisher;
use crate::queue::pg::relay::OutcomeRecorder;
use crate::queue::pg::Wakeup;

/// What every request handler can reach.
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub jwt: JwtKeys,
    pub metrics: Arc<Metrics>,
    /// Tells the dispatchers that new work was committed.
    pub wakeup: Wakeup,
    /// Group-commits plain publishes and verified inbound requests.
    pub publisher: Publisher,
    /// The sources ingest URLs named lately.
    pub sources: SourceCache,
    /// Records relay listeners' outcomes, batched.
    pub relay_outcomes: OutcomeRecorder,
    /// Cancelled at shutdown: ends the live streams.
    pub shutdown: CancellationToken,
    pub auth_limiter: AuthLimiter,
    /// Per-tenant request rates, shared across API processes.
    pub tenant_limits: TenantLimits,
    /// Feeds the live streams (woken whenever any dispatcher records attempts) and counts
    /// them per tenant.
    pub streams: Arc<StreamHub>,
    /// The base of portal links: `HOOKRELAY_PUBLIC_URL`, or the address listened on.
    pub public_url: String,
}
