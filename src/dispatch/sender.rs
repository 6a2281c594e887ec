//! The HTTP attempt: one shared client (no redirects, no proxy, the attempt timeout, a
//! resolver that refuses forbidden addresses), signed headers, body read to 4 KiB.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};

use super::signing::{standard_signature, x_webhook_signature};
use super::ssrf::{check_literal_host, is_blocked_target, GuardedResolver};
use crate::domain::ids::ErrorKind;
use crate::domain::secret::SigningSecret;
use crate::net::dns::Dns;
use crate::queue::Leased;

/// How much of a response body is kept.
pub const MAX_RESPONSE_BODY: usize = 4096;

pub const USER_AGENT: &str = concat!("hookrelay/", env!("CARGO_PKG_VERSION"));

#[derive(Debug)]
pub struct AttemptResult {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub duration: Duration,
    pub status: Option<u16>,
    pub headers: Option<serde_json::Value>,
    pub body: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub error_message: Option<String>,
    /// A 429 or 503 receiver's Retry-After, uncapped.
    pub retry_after: Option<Duration>,
}

impl AttemptResult {
    pub fn success(&self) -> bool {
        self.error_kind.is_none()
    }
}

pub struct Sender {
    client: reqwest::Client,
    timeout: Duration,
    allow_private: bool,
}

impl Sender {
    pub fn new(timeout: Duration, allow_private: bool, dns: Dns) -> anyhow::Result<Sender> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(USER_AGENT)
            .dns_resolver(std::sync::Arc::new(GuardedResolver::new(allow_private, dns)))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(Sender { client, timeout, allow_private })
    }

    /// Makes one attempt. Never fails: every problem is an outcome to log.
    pub async fn attempt(&self, d: &Leased) -> AttemptResult {
        let started_at = Utc::now();
        let clock = Instant::now();
        let (answer, error) = match self.send(d, started_at).await {
            Ok(a) if (200..300).contains(&a.status) => (Some(a), None),
            Ok(a) => {
                let error = (ErrorKind::HttpStatus, format!("receiver answered HTTP {}", a.status));
                (Some(a), Some(error))
            }
            Err(error) => (None, Some(error)),
        };
        let (error_kind, error_message) = match error {
            Some((kind, message)) => (Some(kind), Some(message)),
            None => (None, None),
        };
        let finished_at = Utc::now();
        let retry_after =
            answer.as_ref().and_then(|a| super::retry_after::parse(a.status, a.retry_after.as_deref(), finished_at));
        AttemptResult {
            started_at,
            finished_at,
            duration: clock.elapsed(),
            status: answer.as_ref().map(|a| a.status),
            headers: answer.as_ref().map(|a| a.headers.clone()),
            body: answer.map(|a| a.body),
            error_kind,
            error_message,
            retry_after,
        }
    }

    async fn send(&self, d: &Leased, started_at: DateTime<Utc>) -> Result<Answer, (ErrorKind, String)> {
        let url = reqwest::Url::parse(&d.url).map_err(|e| (ErrorKind::Other, format!("invalid URL: {e}")))?;
        // reqwest does not ask the resolver about IP-literal hosts
        check_literal_host(&url, self.allow_private).map_err(|e| (ErrorKind::BlockedTarget, e.to_string()))?;
        let headers = request_headers(d, started_at.timestamp()).map_err(|m| (ErrorKind::Other, m))?;
        let request = self.client.post(url).headers(headers).body(d.body.clone());
        // the client's timeout covers the whole attempt; this one also bounds a slow body
        let exchange = async {
            let mut response = request.send().await?;
            let status = response.status().as_u16();
            let headers = response_headers(response.headers());
            let retry_after =
                response.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let mut body = Vec::new();
            while body.len() < MAX_RESPONSE_BODY {
                match response.chunk().await? {
                    Some(chunk) => body.extend_from_slice(&chunk),
                    None => break,
                }
            }
            body.truncate(MAX_RESPONSE_BODY);
            Ok::<_, reqwest::Error>(Answer {
                status,
                headers,
                body: storable_text(&body, MAX_RESPONSE_BODY),
                retry_after,
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok(answer)) => Ok(answer),
            // the URL is logged apart; its words must not sway the classification
            Ok(Err(err)) => Err(classify(&err.without_url())),
            Err(_) => Err((ErrorKind::Timeout, format!("no complete answer within {:?}", self.timeout))),
        }
    }
}

/// Text that PostgreSQL can store: invalid UTF-8 and NUL replaced by U+FFFD, at most
/// `max` bytes (cut on a character boundary).
pub fn storable_text(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).replace('\0', "\u{FFFD}");
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// What the receiver answered.
struct Answer {
    status: u16,
    headers: serde_json::Value,
    body: String,
    retry_after: Option<String>,
}

/// The response headers as a JSON object (repeated names joined with ", "), capped so
/// that a hostile receiver cannot bloat the logs.
fn response_headers(headers: &HeaderMap) -> serde_json::Value {
    const MAX_HEADERS: usize = 50;
    const MAX_VALUE: usize = 1024;
    let mut map = serde_json::Map::new();
    for (name, value) in headers.iter() {
        let value = storable_text(value.as_bytes(), MAX_VALUE);
        let full = map.len() >= MAX_HEADERS;
        match map.get_mut(name.as_str()) {
            Some(serde_json::Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ if !full => {
                map.insert(name.as_str().to_owned(), serde_json::Value::String(value));
            }
            _ => {}
        }
    }
    serde_json::Value::Object(map)
}

/// Every header a subscriber receives; see WEBHOOKS.md.
fn request_headers(d: &Leased, timestamp: i64) -> Result<HeaderMap, String> {
    let current = SigningSecret::parse(&d.secret).map_err(|e| format!("stored secret is unusable: {e}"))?;
    let previous = d.previous_secret.as_deref().and_then(|s| SigningSecret::parse(s).ok());
    let body = d.body.as_bytes();
    let event_id = d.event_id.to_string();
    let mut secrets = vec![&current];
    secrets.extend(previous.as_ref());

    let mut h = HeaderMap::new();
    let mut put = |name: &'static str, value: String| -> Result<(), String> {
        let value = HeaderValue::from_str(&value).map_err(|e| format!("header {name}: {e}"))?;
        h.insert(HeaderName::from_static(name), value);
        Ok(())
    };
    put("x-webhook-event", d.event_type.clone())?;
    put("x-webhook-id", event_id.clone())?;
    put("x-webhook-delivery", d.delivery_id.to_string())?;
    put("x-webhook-attempt", (d.attempt_count + 1).to_string())?;
    put("x-webhook-timestamp", timestamp.to_string())?;
    put("x-webhook-signature", x_webhook_signature(&current, body))?;
    if let Some(previous) = &previous {
        put("x-webhook-signature-previous", x_webhook_signature(previous, body))?;
    }
    put("webhook-id", event_id.clone())?;
    put("webhook-timestamp", timestamp.to_string())?;
    put("webhook-signature", standard_signature(&secrets, &event_id, timestamp, body))?;
    if d.test {
        put("x-webhook-test", "true".into())?;
    }
    if let Some(custom) = d.headers.as_object() {
        for (name, value) in custom {
            let (Ok(name), Some(value)) = (HeaderName::from_bytes(name.as_bytes()), value.as_str()) else {
                continue;
            };
            if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
                h.insert(name, value);
            }
        }
    }
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(h)
}

/// Names the kind of a transport failure from the error and its causes.
fn classify(err: &reqwest::Error) -> (ErrorKind, String) {
    let message = error_chain(err);
    let lower = message.to_lowercase();
    let kind = if is_blocked_target(err) {
        ErrorKind::BlockedTarget
    } else if err.is_timeout() {
        ErrorKind::Timeout
    } else if lower.contains("dns") || lower.contains("lookup") || lower.contains("resolve") {
        ErrorKind::Dns
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        ErrorKind::Tls
    } else if err.is_connect() {
        ErrorKind::Connect
    } else {
        ErrorKind::Other
    };
    (kind, message)
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    const MAX_MESSAGE: usize = 1024;
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    storable_text(parts.join(": ").as_bytes(), MAX_MESSAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_has_no_nul_and_stays_within_its_limit() {
        assert_eq!(storable_text(b"ok\0", 10), "ok\u{FFFD}");
        let body = [b'a'; 4095].iter().chain("é€".as_bytes()).copied().collect::<Vec<u8>>();
        let text = storable_text(&body, 4096);
        assert!(text.len() <= 4096);
        assert!(text.starts_with("aaa"));
        assert_eq!(storable_text(&[0xff, 0xfe], 10), "\u{FFFD}\u{FFFD}");
    }
}
