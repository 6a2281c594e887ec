//! The typed configuration, validated once at start-up.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context};
use secrecy::SecretString;

use crate::cli::{Mode, Role, Settings};
use crate::domain::operational::AutoDisable;
use crate::net::dns::Dns;
use crate::secrets::{Sealer, DEV_ENCRYPTION_KEY};

/// Used when no JWT secret is configured in development mode. Documented in the README;
/// production mode refuses to start without a real secret.
pub const DEV_JWT_SECRET: &str = "hookrelay-development-jwt-secret-not-for-production";

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: SecretString,
    pub bind: SocketAddr,
    pub mode: Mode,
    pub jwt_secret: SecretString,
    /// Seals and opens signing secrets (`secrets`).
    pub sealer: std::sync::Arc<Sealer>,
    pub allow_private_targets: bool,
    /// How webhook hosts are resolved (`HOOKRELAY_DNS_SERVER`).
    pub dns: Dns,
    pub role: Role,
    pub attempt_timeout: Duration,
    pub lease: Duration,
    pub log_retention: Duration,
    pub pool_size: usize,
    pub body_limit: usize,
    pub max_webhooks: i64,
    pub token_ttl: Duration,
    pub auth_rate_limit: u32,
    pub tenant_publish_rate: u32,
    pub tenant_api_rate: u32,
    pub dispatch_concurrency: usize,
    pub poll_interval: Duration,
    pub max_retry_after: Duration,
    pub metrics_token: Option<SecretString>,
    pub metrics_refresh: Duration,
    pub max_streams: usize,
    /// `None`: webhooks are never disabled for failing.
    pub auto_disable: Option<AutoDisable>,
    pub health_interval: Duration,
    /// The base of portal links, without a trailing slash; `None`: the address the API
    /// listens on.
    pub public_url: Option<String>,
    /// The portal's CSP `frame-ancestors` sources.
    pub portal_frame_ancestors: String,
    pub ingest_body_limit: usize,
    /// Development only: where the dashboard's files are read from at each request.
    pub dashboard_dir: Option<std::path::PathBuf>,
    /// How long a source secret replaced by a PATCH keeps verifying.
    pub source_secret_overlap: Duration,
    /// How long a relay webhook's deliveries wait for a listener.
    pub relay_hold: Duration,
}

impl Config {
    pub fn from_settings(s: &Settings) -> anyhow::Result<Config> {
        let database_url = s.database_url.clone().context(
            "DATABASE_URL is not set: export it, or start the service with scripts/run, \
             which starts a private PostgreSQL",
        )?;
        let bind = s
            .bind
            .parse()
            .with_context(|| format!("HOOKRELAY_BIND {:?} is not an address like 127.0.0.1:8080", s.bind))?;
        let jwt_secret = jwt_secret(s)?;
        let sealer = sealer(s)?;
        let dns_server = dns_server(s)?;
        if s.mode == Mode::Production && s.allow_private_targets {
            tracing::warn!("private targets are allowed in production mode");
        }
        let attempt_timeout = parse_duration("HOOKRELAY_ATTEMPT_TIMEOUT", &s.attempt_timeout)?;
        let lease = parse_duration("HOOKRELAY_LEASE", &s.lease)?;
        if lease <= attempt_timeout {
            bail!("HOOKRELAY_LEASE ({lease:?}) must be longer than HOOKRELAY_ATTEMPT_TIMEOUT ({attempt_timeout:?})");
        }
        if s.pool_size < 2 {
            bail!("HOOKRELAY_POOL_SIZE must be at least 2");
        }
        if s.dispatch_concurrency == 0 {
            bail!("HOOKRELAY_DISPATCH_CONCURRENCY must be at least 1");
        }
        Ok(Config {
            database_url: database_url.into(),
            bind,
            mode: s.mode,
            jwt_secret: jwt_secret.into(),
            sealer,
            allow_private_targets: s.allow_private_targets,
            dns: Dns::new(dns_server),
            role: s.role,
            attempt_timeout,
            lease,
            log_retention: parse_duration("HOOKRELAY_LOG_RETENTION", &s.log_retention)?,
            pool_size: s.pool_size,
            body_limit: s.body_limit,
            max_webhooks: s.max_webhooks,
            token_ttl: parse_duration("HOOKRELAY_TOKEN_TTL", &s.token_ttl)?,
            auth_rate_limit: s.auth_rate_limit,
            tenant_publish_rate: s.tenant_publish_rate,
            tenant_api_rate: s.tenant_api_rate,
            dispatch_concurrency: s.dispatch_concurrency,
            poll_interval: parse_duration("HOOKRELAY_POLL_INTERVAL", &s.poll_interval)?,
            max_retry_after: parse_duration("HOOKRELAY_MAX_RETRY_AFTER", &s.max_retry_after)?,
            metrics_token: metrics_token(s)?,
            metrics_refresh: parse_duration("HOOKRELAY_METRICS_REFRESH", &s.metrics_refresh)?,
            max_streams: s.max_streams,
            auto_disable: auto_disable(s)?,
            public_url: s.public_url.as_deref().map(public_url).transpose()?,
            portal_frame_ancestors: portal_frame_ancestors(s)?,
            health_interval: health_interval(s)?,
            ingest_body_limit: s.ingest_body_limit,
            dashboard_dir: dashboard_dir(s)?,
            source_secret_overlap: parse_duration("HOOKRELAY_SOURCE_SECRET_OVERLAP", &s.source_secret_overlap)?,
            relay_hold: parse_duration("HOOKRELAY_RELAY_HOLD", &s.relay_hold)?,
        })
    }

    pub fn require_https(&self) -> bool {
        self.mode == Mode::Production
    }
}

/// `HOOKRELAY_JWT_SECRET`: at least 32 bytes; production mode refuses to start without it.
fn jwt_secret(s: &Settings) -> anyhow::Result<String> {
    Ok(match (&s.jwt_secret, s.mode) {
        (Some(secret), _) if secret.len() >= 32 => secret.clone(),
        (Some(_), _) => bail!("HOOKRELAY_JWT_SECRET must be at least 32 bytes"),
        (None, Mode::Production) => {
            bail!("production mode needs HOOKRELAY_JWT_SECRET (at least 32 random bytes)")
        }
        (None, Mode::Development) => {
            tracing::warn!("HOOKRELAY_JWT_SECRET is not set: using the fixed development key");
            DEV_JWT_SECRET.to_owned()
        }
    })
}

/// `HOOKRELAY_ENCRYPTION_KEY` with `HOOKRELAY_ENCRYPTION_OLD_KEYS`; production mode refuses
/// to start without a key.
fn sealer(s: &Settings) -> anyhow::Result<std::sync::Arc<Sealer>> {
    let sealer = match (&s.encryption_key, s.mode) {
        (Some(key), _) => key.clone(),
        (None, Mode::Production) => {
            bail!("production mode needs HOOKRELAY_ENCRYPTION_KEY (32 random bytes, base64: `openssl rand -base64 32`)")
        }
        (None, Mode::Development) => {
            tracing::warn!("HOOKRELAY_ENCRYPTION_KEY is not set: sealing secrets with the fixed development key");
            DEV_ENCRYPTION_KEY.to_owned()
        }
    };
    let old_keys: Vec<&str> = s.encryption_old_keys.as_deref().map(|k| k.split(',').collect()).unwrap_or_default();
    Ok(std::sync::Arc::new(Sealer::from_base64(&sealer, &old_keys)?))
}

/// `HOOKRELAY_DNS_SERVER`, when set: the address webhook hosts are resolved at.
fn dns_server(s: &Settings) -> anyhow::Result<Option<SocketAddr>> {
    s.dns_server
        .as_deref()
        .map(|a| a.parse().with_context(|| format!("HOOKRELAY_DNS_SERVER {a:?} is not an address like 127.0.0.1:53")))
        .transpose()
}

/// `HOOKRELAY_METRICS_TOKEN`, when set: at least 16 characters.
fn metrics_token(s: &Settings) -> anyhow::Result<Option<SecretString>> {
    Ok(match &s.metrics_token {
        Some(t) if t.len() < 16 => bail!("HOOKRELAY_METRICS_TOKEN must be at least 16 characters"),
        Some(t) => Some(t.clone().into()),
        None => None,
    })
}

/// `HOOKRELAY_PORTAL_FRAME_ANCESTORS`: CSP sources separated by spaces.
fn portal_frame_ancestors(s: &Settings) -> anyhow::Result<String> {
    Ok(match s.portal_frame_ancestors.trim() {
        a if a.is_empty() || a.contains([';', ',', '\r', '\n']) => {
            bail!("HOOKRELAY_PORTAL_FRAME_ANCESTORS must be CSP sources separated by spaces, such as 'self' https://app.example.com")
        }
        a => a.to_owned(),
    })
}

/// `HOOKRELAY_DASHBOARD_DIR`: a development aid; production serves what was built and tested.
fn dashboard_dir(s: &Settings) -> anyhow::Result<Option<std::path::PathBuf>> {
    match &s.dashboard_dir {
        Some(_) if s.mode == Mode::Production => {
            bail!("HOOKRELAY_DASHBOARD_DIR is for development: production mode serves the dashboard built into the binary")
        }
        Some(dir) if !dir.join("index.html").is_file() => {
            bail!("HOOKRELAY_DASHBOARD_DIR {} holds no index.html: point it at assets/dashboard", dir.display())
        }
        dir => Ok(dir.clone()),
    }
}

/// `HOOKRELAY_HEALTH_INTERVAL`: at most a minute.
fn health_interval(s: &Settings) -> anyhow::Result<Duration> {
    Ok(match parse_duration("HOOKRELAY_HEALTH_INTERVAL", &s.health_interval)? {
        d if d > Duration::from_secs(60) => {
            bail!("HOOKRELAY_HEALTH_INTERVAL must be at most 1m: the degraded rule is evaluated at least once a minute")
        }
        d => d,
    })
}

/// `HOOKRELAY_PUBLIC_URL`: an http(s) URL without query or fragment.
fn public_url(url: &str) -> anyhow::Result<String> {
    let parsed = url::Url::parse(url).with_context(|| format!("HOOKRELAY_PUBLIC_URL {url:?} is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() || parsed.fragment().is_some() {
        bail!("HOOKRELAY_PUBLIC_URL {url:?} must be an http(s) URL without query or fragment, such as https://hooks.example.com");
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// `HOOKRELAY_AUTO_DISABLE_AFTER` (`0`: never) with `HOOKRELAY_AUTO_DISABLE_MIN_FAILED`.
fn auto_disable(s: &Settings) -> anyhow::Result<Option<AutoDisable>> {
    if s.auto_disable_min_failed < 1 {
        bail!("HOOKRELAY_AUTO_DISABLE_MIN_FAILED must be at least 1");
    }
    if s.auto_disable_after.trim() == "0" {
        return Ok(None);
    }
    let after = parse_duration("HOOKRELAY_AUTO_DISABLE_AFTER", &s.auto_disable_after)?;
    Ok(Some(AutoDisable { after, min_failed: s.auto_disable_min_failed }))
}

/// Parses `500ms`, `30s`, `5m`, `2h`, `30d` (a bare number is seconds).
pub fn parse_duration(name: &str, value: &str) -> anyhow::Result<Duration> {
    let value = value.trim();
    let split = value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let n: u64 =
        number.parse().with_context(|| format!("{name} {value:?} is not a duration like 30s, 500ms, 5m, 2h or 30d"))?;
    let millis = match unit {
        "ms" => n,
        "" | "s" => n * 1_000,
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        "d" => n * 86_400_000,
        _ => bail!("{name} {value:?} has an unknown unit: use ms, s, m, h or d"),
    };
    if millis == 0 {
        bail!("{name} must be greater than zero");
    }
    Ok(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("x", "30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("x", "250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("x", "30d").unwrap(), Duration::from_secs(30 * 86_400));
        assert_eq!(parse_duration("x", "7").unwrap(), Duration::from_secs(7));
        assert!(parse_duration("x", "7w").is_err());
        assert!(parse_duration("x", "0s").is_err());
        assert!(parse_duration("x", "s").is_err());
    }
}
