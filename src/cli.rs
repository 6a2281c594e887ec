//! Command line: every setting is a flag and an environment variable.

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "hookrelay", version, about = "Outbound webhook delivery platform")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Apply migrations, then serve the API and/or run the dispatcher (see --role). The default.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Re-seal every signing secret under HOOKRELAY_ENCRYPTION_KEY (online, in batches), so
    /// that the keys in HOOKRELAY_ENCRYPTION_OLD_KEYS can be retired.
    Reencrypt,
    /// Forward a relay webhook's deliveries to a URL on this machine (no DATABASE_URL
    /// needed: it talks to the API).
    Listen(crate::listen::ListenArgs),
    /// Exit 0 when the server on HOOKRELAY_BIND answers `GET /health` with 200 within 2 s
    /// (a container's health check: the image has no shell and no curl).
    HealthCheck,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    Api,
    Dispatcher,
    All,
}

/// No `Debug`: it holds the JWT secret and the database URL (with its password).
#[derive(Clone, Args)]
pub struct Settings {
    /// PostgreSQL connection URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
    /// Address the API listens on.
    #[arg(long, env = "HOOKRELAY_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,
    /// `production` requires https targets and a real JWT secret.
    #[arg(long, env = "HOOKRELAY_MODE", value_enum, default_value = "development", global = true)]
    pub mode: Mode,
    /// HS256 key for access tokens, at least 32 bytes.
    #[arg(long, env = "HOOKRELAY_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,
    /// AES-256-GCM key (32 bytes, base64) sealing signing secrets at rest.
    #[arg(long, env = "HOOKRELAY_ENCRYPTION_KEY", hide_env_values = true, global = true)]
    pub encryption_key: Option<String>,
    /// Earlier keys (comma-separated) that still open secrets during a key rotation.
    #[arg(long, env = "HOOKRELAY_ENCRYPTION_OLD_KEYS", hide_env_values = true, global = true)]
    pub encryption_old_keys: Option<String>,
    /// Resolve webhook hosts by asking this DNS server (ip:port, UDP) instead of the system resolver.
    #[arg(long, env = "HOOKRELAY_DNS_SERVER", global = true)]
    pub dns_server: Option<String>,
    /// Allow loopback and private targets (local testing only).
    #[arg(long, env = "HOOKRELAY_ALLOW_PRIVATE_TARGETS", default_value = "false",
          action = clap::ArgAction::Set, global = true)]
    pub allow_private_targets: bool,
    /// Which parts run in this process.
    #[arg(long, env = "HOOKRELAY_ROLE", value_enum, default_value = "all", global = true)]
    pub role: Role,
    /// Whole-attempt timeout (e.g. 30s, 500ms).
    #[arg(long, env = "HOOKRELAY_ATTEMPT_TIMEOUT", default_value = "30s", global = true)]
    pub attempt_timeout: String,
    /// How long a claimed delivery stays leased; longer than the attempt timeout.
    #[arg(long, env = "HOOKRELAY_LEASE", default_value = "60s", global = true)]
    pub lease: String,
    /// How long attempt logs, finished deliveries and events are kept.
    #[arg(long, env = "HOOKRELAY_LOG_RETENTION", default_value = "30d", global = true)]
    pub log_retention: String,
    /// Database connections in this process's pool.
    #[arg(long, env = "HOOKRELAY_POOL_SIZE", default_value_t = 16, global = true)]
    pub pool_size: usize,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "HOOKRELAY_BODY_LIMIT", default_value_t = 262_144, global = true)]
    pub body_limit: usize,
    /// Most webhooks one tenant may hold.
    #[arg(long, env = "HOOKRELAY_MAX_WEBHOOKS", default_value_t = 10_000, global = true)]
    pub max_webhooks: i64,
    /// Access token lifetime.
    #[arg(long, env = "HOOKRELAY_TOKEN_TTL", default_value = "1h", global = true)]
    pub token_ttl: String,
    /// Sign-up and login requests per client IP per minute (0: no limit).
    #[arg(long, env = "HOOKRELAY_AUTH_RATE_LIMIT", default_value_t = 20, global = true)]
    pub auth_rate_limit: u32,
    /// Publish requests per second per tenant, across all API processes (0: no limit).
    #[arg(long, env = "HOOKRELAY_TENANT_PUBLISH_RATE", default_value_t = 1000, global = true)]
    pub tenant_publish_rate: u32,
    /// Other authenticated requests per second per tenant, across all API processes (0: no limit).
    #[arg(long, env = "HOOKRELAY_TENANT_API_RATE", default_value_t = 100, global = true)]
    pub tenant_api_rate: u32,
    /// Attempts one dispatcher process keeps in flight at most.
    #[arg(long, env = "HOOKRELAY_DISPATCH_CONCURRENCY", default_value_t = 512, global = true)]
    pub dispatch_concurrency: usize,
    /// Fallback poll interval of the dispatcher when no notification arrives.
    #[arg(long, env = "HOOKRELAY_POLL_INTERVAL", default_value = "1s", global = true)]
    pub poll_interval: String,
    /// The longest receiver Retry-After honoured (a longer one counts as this).
    #[arg(long, env = "HOOKRELAY_MAX_RETRY_AFTER", default_value = "1h", global = true)]
    pub max_retry_after: String,
    /// Open /api/v1/stream connections per tenant (per API process).
    #[arg(long, env = "HOOKRELAY_MAX_STREAMS", default_value_t = 20, global = true)]
    pub max_streams: usize,
    /// Bearer token that /metrics requires (unset: /metrics is open).
    #[arg(long, env = "HOOKRELAY_METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<String>,
    /// A webhook whose deliveries all failed for this long is disabled (0: never).
    #[arg(long, env = "HOOKRELAY_AUTO_DISABLE_AFTER", default_value = "5d", global = true)]
    pub auto_disable_after: String,
    /// Failed deliveries needed as well before a webhook is disabled.
    #[arg(long, env = "HOOKRELAY_AUTO_DISABLE_MIN_FAILED", default_value_t = 10, global = true)]
    pub auto_disable_min_failed: i32,
    /// How often each dispatcher evaluates the degraded/recovered rule (at most 1m).
    #[arg(long, env = "HOOKRELAY_HEALTH_INTERVAL", default_value = "30s", global = true)]
    pub health_interval: String,
    /// Base URL of portal links (default: http://<HOOKRELAY_BIND>).
    #[arg(long, env = "HOOKRELAY_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Who may frame the consumer portal: its CSP `frame-ancestors` sources.
    #[arg(long, env = "HOOKRELAY_PORTAL_FRAME_ANCESTORS", default_value = "'self'", global = true)]
    pub portal_frame_ancestors: String,
    /// How often the queue gauges of /metrics are read from the database.
    #[arg(long, env = "HOOKRELAY_METRICS_REFRESH", default_value = "10s", global = true)]
    pub metrics_refresh: String,
    /// Development only: serve the dashboard's files from this directory (e.g.
    /// assets/dashboard) instead of the copies built into the binary, so that an edit shows
    /// on reload without a rebuild.
    #[arg(long, env = "HOOKRELAY_DASHBOARD_DIR", global = true)]
    pub dashboard_dir: Option<std::path::PathBuf>,
    /// Largest request body, in bytes, that a source's ingest URL accepts.
    #[arg(long, env = "HOOKRELAY_INGEST_BODY_LIMIT", default_value_t = 1_048_576, global = true)]
    pub ingest_body_limit: usize,
    /// How long a source secret replaced by a PATCH keeps verifying.
    #[arg(long, env = "HOOKRELAY_SOURCE_SECRET_OVERLAP", default_value = "24h", global = true)]
    pub source_secret_overlap: String,
    /// How long a relay webhook's deliveries wait while no listener is connected before
    /// they fail as `relay_offline`.
    #[arg(long, env = "HOOKRELAY_RELAY_HOLD", default_value = "24h", global = true)]
    pub relay_hold: String,
}
