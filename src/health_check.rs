//! `hookrelay health-check`: asks the local server's `GET /health`, for a container's
//! HEALTHCHECK, where the image has no shell and no curl (SPEC "Operations").

use std::time::Duration;

use anyhow::{bail, Context};

/// The URL of `/health` on the address the server binds: an unspecified address
/// (`0.0.0.0`, `[::]`) is asked on loopback.
pub fn health_url(bind: &str) -> anyhow::Result<String> {
    let addr: std::net::SocketAddr =
        bind.parse().with_context(|| format!("HOOKRELAY_BIND {bind:?} is not an address like 127.0.0.1:8080"))?;
    let ip = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => std::net::Ipv4Addr::LOCALHOST.into(),
        ip if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    Ok(format!("http://{}/health", std::net::SocketAddr::new(ip, addr.port())))
}

/// Succeeds when `/health` answers 200 within 2 s.
pub async fn run(bind: &str) -> anyhow::Result<()> {
    let url = health_url(bind)?;
    // never through an HTTP_PROXY the container may set: the probe is of this machine
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).no_proxy().build()?;
    let status = client.get(&url).send().await.with_context(|| format!("asking {url}"))?.status();
    if !status.is_success() {
        bail!("{url} answered {status}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::health_url;

    #[test]
    fn an_unspecified_bind_is_asked_on_loopback() {
        assert_eq!(health_url("0.0.0.0:8080").unwrap(), "http://127.0.0.1:8080/health");
        assert_eq!(health_url("[::]:9000").unwrap(), "http://[::1]:9000/health");
        assert_eq!(health_url("10.0.0.5:8080").unwrap(), "http://10.0.0.5:8080/health");
        assert!(health_url("localhost:8080").is_err());
    }
}
