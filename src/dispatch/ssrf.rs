//! The SSRF guard (SPEC: Security): which addresses a webhook may never reach, and the
//! pieces that enforce it at connect time.
//!
//! Two checks are needed because reqwest only calls a custom resolver for domain names:
//! `GuardedResolver` filters what names resolve to (which also defeats DNS rebinding, as
//! the check happens on the very addresses used to connect), and `check_literal_host`
//! covers URLs whose host is an IP literal.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::net::dns::Dns;
pub use crate::net::ip::is_forbidden_ip;

/// Every address of a target host is forbidden: the attempt's `blocked_target` failure.
#[derive(Debug)]
pub struct BlockedTarget {
    pub host: String,
}

impl std::fmt::Display for BlockedTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "every address of {} is forbidden (private, loopback, link-local, multicast or metadata); \
             set HOOKRELAY_ALLOW_PRIVATE_TARGETS=true to allow",
            self.host
        )
    }
}

impl std::error::Error for BlockedTarget {}

/// True when `err` or any error in its `source()` chain is a `BlockedTarget`: reqwest
/// wraps the resolver's error several layers deep.
pub fn is_blocked_target(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.is::<BlockedTarget>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// A reqwest resolver that drops forbidden addresses, so a name cannot lead a webhook to
/// an internal service, whatever it resolves to at connect time.
#[derive(Clone)]
pub struct GuardedResolver {
    allow_private: bool,
    dns: Dns,
}

impl GuardedResolver {
    pub fn new(allow_private: bool, dns: Dns) -> Self {
        GuardedResolver { allow_private, dns }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (allow_private, dns) = (self.allow_private, self.dns.clone());
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                dns.lookup(&host).await?.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect();
            let allowed: Vec<SocketAddr> =
                resolved.iter().copied().filter(|addr| allow_private || !is_forbidden_ip(addr.ip())).collect();
            if allowed.is_empty() && !resolved.is_empty() {
                return Err(Box::new(BlockedTarget { host }) as _);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// reqwest does not call the resolver for IP-literal hosts, so the sender calls this
/// before each attempt. Domain hosts pass here; the resolver checks them.
pub fn check_literal_host(url: &url::Url, allow_private: bool) -> Result<(), BlockedTarget> {
    if allow_private {
        return Ok(());
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        _ => return Ok(()),
    };
    if is_forbidden_ip(ip) {
        return Err(BlockedTarget { host: url.host_str().unwrap_or_default().to_owned() });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Asserts `is_forbidden_ip` of each address in `table` (address, forbidden).
    fn assert_forbidden(table: &[(&str, bool)]) {
        for (ip, forbidden) in table {
            let parsed: IpAddr = ip.parse().unwrap();
            assert_eq!(is_forbidden_ip(parsed), *forbidden, "{ip}");
        }
    }

    #[test]
    fn forbidden_and_allowed_ipv4_addresses() {
        assert_forbidden(&[
            // IPv4 boundaries
            ("0.0.0.0", true),
            ("0.255.255.255", true),
            ("1.0.0.0", false),
            ("9.255.255.255", false),
            ("10.0.0.0", true),
            ("10.255.255.255", true),
            ("11.0.0.0", false),
            ("100.63.255.255", false),
            ("100.64.0.0", true),
            ("100.127.255.255", true),
            ("100.128.0.0", false),
            ("126.255.255.255", false),
            ("127.0.0.1", true),
            ("127.255.255.255", true),
            ("128.0.0.0", false),
            ("169.253.255.255", false),
            ("169.254.169.254", true),
            ("169.255.0.0", false),
            ("172.15.255.255", false),
            ("172.16.0.0", true),
            ("172.31.255.255", true),
            ("172.32.0.0", false),
            ("191.255.255.255", false),
            ("192.0.0.0", true),
            ("192.0.0.255", true),
            ("192.0.1.0", false),
            ("192.0.2.1", false),
            ("192.167.255.255", false),
            ("192.168.0.0", true),
            ("192.168.255.255", true),
            ("192.169.0.0", false),
            ("198.17.255.255", false),
            ("198.18.0.0", true),
            ("198.19.255.255", true),
            ("198.20.0.0", false),
            ("223.255.255.255", false),
            ("224.0.0.0", true),
            ("239.255.255.255", true),
            ("240.0.0.0", true),
            ("255.255.255.255", true),
            ("8.8.8.8", false),
            ("1.1.1.1", false),
            ("93.184.216.34", false),
        ]);
    }

    #[test]
    fn forbidden_and_allowed_ipv6_addresses() {
        assert_forbidden(&[
            ("::", true),
            ("::1", true),
            ("::2", true),
            ("::ffff:0:0", true),
            ("::ffff:127.0.0.1", true),
            ("::ffff:8.8.8.8", true),
            ("::ffff:ffff:ffff", true),
            ("::1:0:0:0", false),
            ("64:ff9b::8.8.8.8", true),
            ("64:ff9b::7f00:1", true),
            ("64:ff9b:0:0:0:1::", false),
            ("::ffff:0:7f00:1", true),
            ("::ffff:0:808:808", true),
            ("64:ff9b:1::7f00:1", true),
            ("64:ff9b:1:ffff::1", true),
            ("64:ff9b:2::1", false),
            ("fec0::1", true),
            ("feff:ffff::1", true),
            ("2002::", true),
            ("2002:0808:0808::1", true),
            ("2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
            ("2001:ffff::1", false),
            ("2003::1", false),
            ("fbff:ffff::1", false),
            ("fc00::", true),
            ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
            ("fe00::1", false),
            ("fe7f:ffff::1", false),
            ("fe80::1", true),
            ("febf:ffff::1", true),
            ("ff00::", true),
            ("ff02::1", true),
            ("2606:4700::1", false),
            ("2001:4860:4860::8888", false),
        ]);
    }

    #[test]
    fn blocked_target_message() {
        let e = BlockedTarget { host: "internal.example".into() };
        assert_eq!(
            e.to_string(),
            "every address of internal.example is forbidden (private, loopback, link-local, \
             multicast or metadata); set HOOKRELAY_ALLOW_PRIVATE_TARGETS=true to allow"
        );
    }

    #[derive(Debug)]
    struct Wrapper(Box<dyn std::error::Error + Send + Sync>);
    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("wrapper")
        }
    }
    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.0)
        }
    }

    #[test]
    fn blocked_target_is_found_in_a_chain() {
        let direct = BlockedTarget { host: "h".into() };
        assert!(is_blocked_target(&direct));
        let nested = Wrapper(Box::new(Wrapper(Box::new(BlockedTarget { host: "h".into() }))));
        assert!(is_blocked_target(&nested));
        let other = Wrapper(Box::new(std::io::Error::other("boom")));
        assert!(!is_blocked_target(&other));
    }

    #[test]
    fn literal_hosts() {
        let check = |u: &str, allow| check_literal_host(&url::Url::parse(u).unwrap(), allow);
        assert_eq!(check("http://127.0.0.1:8080/", false).unwrap_err().host, "127.0.0.1");
        assert_eq!(check("http://[::1]/", false).unwrap_err().host, "[::1]");
        assert!(check("http://2130706433/", false).is_err());
        assert!(check("http://[::ffff:8.8.8.8]/", false).is_err());
        assert!(check("http://127.0.0.1/", true).is_ok());
        assert!(check("https://8.8.8.8/", false).is_ok());
        assert!(check("https://[2606:4700::1]/", false).is_ok());
        // Names are the resolver's job.
        assert!(check("http://localhost/", false).is_ok());
        assert!(check("https://example.com/", false).is_ok());
    }

    fn client(allow_private: bool) -> reqwest::Client {
        reqwest::Client::builder()
            .dns_resolver(GuardedResolver::new(allow_private, Dns::System))
            .no_proxy()
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn resolver_blocks_localhost() {
        let err = client(false).get("http://localhost:1/").send().await.unwrap_err();
        assert!(is_blocked_target(&err), "{err:?}");
    }

    #[tokio::test]
    async fn resolver_allows_localhost_when_private_targets_are_allowed() {
        // Port 1 refuses the connection: an error, but not a blocked target.
        let err = client(true).get("http://localhost:1/").send().await.unwrap_err();
        assert!(!is_blocked_target(&err), "{err:?}");
        assert!(err.is_connect(), "{err:?}");
    }

    #[tokio::test]
    async fn resolver_filters_addresses() {
        let name: Name = "localhost".parse().unwrap();
        let addrs: Vec<SocketAddr> = GuardedResolver::new(true, Dns::System).resolve(name).await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
        assert!(!addrs.is_empty());

        let name: Name = "localhost".parse().unwrap();
        let err = match GuardedResolver::new(false, Dns::System).resolve(name).await {
            Ok(_) => panic!("localhost must be blocked"),
            Err(e) => e,
        };
        assert!(is_blocked_target(&*err));
    }
}
