//! Webhook target URLs (SPEC: Security, "Target URLs").
//!
//! Checked when a webhook is saved; the dispatcher checks again at every attempt
//! (`crate::dispatch::ssrf`, with the ranges of `crate::net::ip`), because what a name resolves to can change.

use std::net::IpAddr;
use std::time::Duration;

use crate::net::dns::Dns;
use crate::net::ip::is_forbidden_ip;

pub const MAX_URL_LEN: usize = 2048;
/// How long a save-time lookup may take before the name is accepted unchecked.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

const FORBIDDEN_ADDRESS: &str = "is a forbidden address (private, loopback, link-local, multicast or metadata)";

/// Invisible formatting characters that are neither whitespace nor control characters
/// to Rust, but would hide part of a URL from a reader (IDNA even deletes some of them).
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// `localhost` and its subdomains (RFC 6761), with or without the trailing root dot.
fn is_localhost_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost")
}

fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// Validates a webhook URL as stored. The url crate normalises every IPv4 spelling
/// (`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`) before the address check.
pub fn parse_webhook_url(s: &str, require_https: bool, allow_private: bool) -> Result<url::Url, String> {
    if s.chars().count() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control() || is_invisible_format(c)) {
        return Err("must not contain whitespace or control characters".to_owned());
    }
    let url = url::Url::parse(s).map_err(|e| format!("is not a valid URL: {e}"))?;
    match url.scheme() {
        "https" => {}
        "http" if !require_https => {}
        "http" => return Err("must use https (https is required in production mode)".to_owned()),
        other if require_https => {
            return Err(format!("scheme {other} is not allowed: must use https"));
        }
        other => return Err(format!("scheme {other} is not allowed: must use https or http")),
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err("must have a host".to_owned());
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials are not allowed in the URL".to_owned());
    }
    if !allow_private {
        if let Some(ip) = literal_ip(&url) {
            if is_forbidden_ip(ip) {
                return Err(format!("host {host} {FORBIDDEN_ADDRESS}"));
            }
        } else if is_localhost_name(host) {
            return Err(format!("host {host} is a loopback name"));
        }
    }
    Ok(url)
}

/// Save-time DNS check of a domain host: refused when any address it resolves to is
/// forbidden. A name that does not resolve, or not within 2 s, is accepted: the dispatcher
/// checks it again at each attempt.
pub async fn check_resolved_host(url: &url::Url, allow_private: bool, dns: &Dns) -> Result<(), String> {
    if allow_private {
        return Ok(());
    }
    let host = match url.host() {
        Some(url::Host::Domain(name)) => name,
        // Literals were checked by `parse_webhook_url`; checking again costs nothing.
        Some(_) => {
            return match literal_ip(url) {
                Some(ip) if is_forbidden_ip(ip) => {
                    Err(format!("host {} {FORBIDDEN_ADDRESS}", url.host_str().unwrap_or_default()))
                }
                _ => Ok(()),
            };
        }
        None => return Ok(()),
    };
    let lookup = tokio::time::timeout(LOOKUP_TIMEOUT, dns.lookup(host));
    let Ok(Ok(addrs)) = lookup.await else {
        return Ok(());
    };
    let forbidden: Vec<IpAddr> = addrs.into_iter().filter(|ip| is_forbidden_ip(*ip)).collect();
    if let Some(ip) = forbidden.first() {
        return Err(format!(
            "host resolves to a forbidden address ({ip}: private, loopback, link-local, \
             multicast or metadata)"
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ok(s: &str, require_https: bool, allow_private: bool) -> url::Url {
        parse_webhook_url(s, require_https, allow_private).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str, require_https: bool, allow_private: bool) -> String {
        match parse_webhook_url(s, require_https, allow_private) {
            Ok(u) => panic!("{s} accepted as {u}"),
            Err(e) => e,
        }
    }

    #[test]
    fn accepts_public_urls() {
        ok("https://example.com/hook", true, false);
        ok("https://example.com:8443/a/b?x=1", true, false);
        ok("https://8.8.8.8/hook", true, false);
        ok("https://[2606:4700::1]/hook", true, false);
        ok("http://example.com/hook", false, false);
        assert_eq!(ok("HTTPS://Example.COM/hook", true, false).as_str(), "https://example.com/hook");
        // Non-ASCII hosts are fine (IDNA), as is a non-ASCII path (percent-encoded).
        ok("https://bücher.example/ö", true, false);
    }

    #[test]
    fn scheme_rules() {
        assert!(err("http://example.com/", true, false).contains("https is required in production mode"));
        assert!(err("ftp://example.com/", false, false).contains("ftp"));
        assert!(err("ftp://example.com/", true, false).contains("https"));
        err("file:///etc/passwd", false, true);
        err("javascript:alert(1)", false, true);
        err("example.com/hook", false, true);
        err("", false, true);
    }

    #[test]
    fn credentials_refused() {
        for u in ["https://user:pass@example.com/", "https://user@example.com/", "https://:pass@example.com/"] {
            assert_eq!(err(u, true, true), "credentials are not allowed in the URL");
        }
    }

    #[test]
    fn whitespace_and_controls_refused() {
        for u in [
            "https://example.com/a b",
            " https://example.com/",
            "https://example.com/\t",
            "https://example.com/\n",
            "https://example.com/\r\nX: y",
            "https://example.com/\u{0}",
            "https://example.com/\u{7f}",
            "https://example.com/\u{85}",
            "https://example.com/\u{a0}",
            "https://example.com/\u{2028}",
            "https://example.com/\u{3000}",
            "https://exa\u{200b}mple.com/",
            "https://example.com/\u{202e}",
            "https://example.com/\u{feff}",
        ] {
            assert!(err(u, false, true).contains("whitespace"), "{u:?}");
        }
    }

    #[test]
    fn length_limit() {
        let base = "https://example.com/";
        let at_limit = format!("{base}{}", "a".repeat(MAX_URL_LEN - base.len()));
        ok(&at_limit, true, false);
        let over = format!("{at_limit}a");
        assert!(err(&over, true, false).contains("2048"));
    }

    #[test]
    fn ipv4_spellings_are_normalised_and_refused() {
        for u in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://0x7f.1/",
            "http://127.0.0.1./",
            "http://0/",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[fe80::1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
        ] {
            assert!(err(u, false, false).contains("forbidden address"), "{u}");
            // Allowed when the operator allows private targets.
            ok(u, false, true);
        }
        assert_eq!(ok("http://2130706433/", false, true).host_str(), Some("127.0.0.1"));
        assert_eq!(ok("http://0177.0.0.1/", false, true).host_str(), Some("127.0.0.1"));
        assert_eq!(ok("http://127.1/", false, true).host_str(), Some("127.0.0.1"));
        assert_eq!(ok("http://0x7f000001/", false, true).host_str(), Some("127.0.0.1"));
    }

    #[test]
    fn localhost_names_refused() {
        for u in [
            "http://localhost/",
            "http://LOCALHOST:8080/",
            "http://localhost./",
            "http://api.localhost/",
            "http://a.b.localhost/",
        ] {
            assert!(err(u, false, false).contains("loopback"), "{u}");
            ok(u, false, true);
        }
        ok("https://localhost.example.com/", true, false);
        ok("https://notlocalhost/", true, false);
    }

    #[tokio::test]
    async fn resolved_host_checks() {
        let localhost = url::Url::parse("http://localhost:8080/").unwrap();
        let e = check_resolved_host(&localhost, false, &Dns::System).await.unwrap_err();
        assert!(e.starts_with("host resolves to a forbidden address"), "{e}");
        assert!(check_resolved_host(&localhost, true, &Dns::System).await.is_ok());

        let literal = url::Url::parse("http://127.0.0.1/").unwrap();
        assert!(check_resolved_host(&literal, false, &Dns::System).await.is_err());
        assert!(check_resolved_host(&literal, true, &Dns::System).await.is_ok());
        let public = url::Url::parse("https://8.8.8.8/").unwrap();
        assert!(check_resolved_host(&public, false, &Dns::System).await.is_ok());
    }

    #[tokio::test]
    async fn unresolvable_names_are_accepted() {
        // `.invalid` never resolves (RFC 6761); with no network the lookup fails or times
        // out, and either way the name is accepted for now.
        let u = url::Url::parse("https://does-not-exist.invalid/hook").unwrap();
        assert!(check_resolved_host(&u, false, &Dns::System).await.is_ok());
    }
}
