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

/// Headers of a provider's request that a source's deliveries never carry, whatever the
/// stored object holds (the inbound side leaves them out; this is defence in depth): the
/// hop-by-hop ones (RFC 9110 §7.6.1, with the obsolete `Keep-Alive` and
/// `Proxy-Connection`), and `Host` and `Content-Length`, which describe this request, not
/// the provider's.
const NOT_FORWARDED: [&str; 11] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// The provider's headers that a source's delivery forwards (SPEC "What a source's
/// subscribers receive"): each name → string value of the stored object, but those in
/// [`NOT_FORWARDED`] or named by its `Connection` header. A name or value that is not
/// valid HTTP is left out rather than failing the attempt: it could not be sent as it is.
fn provider_headers(source: &serde_json::Value) -> HeaderMap {
    let mut h = HeaderMap::new();
    let Some(object) = source.as_object() else {
        return h;
    };
    let connection_options: Vec<String> = object
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("connection"))
        .filter_map(|(_, value)| value.as_str())
        .flat_map(|value| value.split(',').map(|option| option.trim().to_ascii_lowercase()))
        .collect();
    for (name, value) in object {
        // a `HeaderName` is lower case, as the lists are
        let (Ok(name), Some(value)) = (HeaderName::from_bytes(name.as_bytes()), value.as_str()) else {
            continue;
        };
        if NOT_FORWARDED.contains(&name.as_str()) || connection_options.iter().any(|o| o == name.as_str()) {
            continue;
        }
        if let Ok(value) = HeaderValue::from_str(value) {
            h.insert(name, value);
        }
    }
    h
}

/// Every header a subscriber receives; see WEBHOOKS.md. A source's event carries the
/// provider's headers first, then hookrelay's own, each replacing a provider header of
/// the same name, and `X-Webhook-Source`; its `Content-Type` is the provider's.
pub(crate) fn request_headers(d: &Leased, timestamp: i64) -> Result<HeaderMap, String> {
    let current = SigningSecret::parse(&d.secret).map_err(|e| format!("stored secret is unusable: {e}"))?;
    let previous = d.previous_secret.as_deref().and_then(|s| SigningSecret::parse(s).ok());
    let body = d.body.as_bytes();
    let event_id = d.event_id.to_string();
    let mut secrets = vec![&current];
    secrets.extend(previous.as_ref());

    let mut h = d.source_headers.as_ref().map(provider_headers).unwrap_or_default();
    // set last, as for every event
    let content_type = h.remove(CONTENT_TYPE).unwrap_or_else(|| HeaderValue::from_static("application/json"));
    let mut put = |name: &'static str, value: String| -> Result<(), String> {
        let value = HeaderValue::from_str(&value).map_err(|e| format!("header {name}: {e}"))?;
        h.insert(HeaderName::from_static(name), value);
        Ok(())
    };
    put("x-webhook-event", d.event_type.clone())?;
    if let Some(source) = d.source_id {
        put("x-webhook-source", source.to_string())?;
    }
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
    if d.source_headers.is_some() {
        // the client's default User-Agent gives way to one already in the request
        put("user-agent", USER_AGENT.to_owned())?;
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
    h.insert(CONTENT_TYPE, content_type);
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
    use crate::domain::ids::{DeliveryId, EventId, LeaseId, TenantId, WebhookId};
    use serde_json::json;

    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    fn leased(source_id: Option<uuid::Uuid>, source_headers: Option<serde_json::Value>) -> Leased {
        Leased {
            delivery_id: DeliveryId(uuid::Uuid::now_v7()),
            tenant_id: TenantId(uuid::Uuid::now_v7()),
            event_id: EventId(uuid::Uuid::now_v7()),
            webhook_id: WebhookId(uuid::Uuid::now_v7()),
            event_type: "twilio.event".into(),
            attempt_count: 0,
            series_attempts: 0,
            test: false,
            lease_id: LeaseId(uuid::Uuid::now_v7()),
            url: "http://127.0.0.1:9/hook".into(),
            headers: json!({"X-Custom": "mine"}),
            secret: SECRET.into(),
            previous_secret: None,
            retry_schedule: None,
            body: "a=1&b=%F0%9F%98%80".into(),
            delivery_created_at: Utc::now(),
            throttled: false,
            source_id,
            source_headers,
        }
    }

    fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
        h.get(name).map(|v| v.to_str().unwrap())
    }

    #[test]
    fn an_api_event_carries_only_hookrelays_headers() {
        let d = leased(None, None);
        let h = request_headers(&d, 1_700_000_000).unwrap();
        let names: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        assert_eq!(
            names,
            [
                "x-webhook-event",
                "x-webhook-id",
                "x-webhook-delivery",
                "x-webhook-attempt",
                "x-webhook-timestamp",
                "x-webhook-signature",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature",
                "x-custom",
                "content-type",
            ],
            "the client adds User-Agent; nothing of a source's"
        );
        assert_eq!(header(&h, "content-type"), Some("application/json"));
    }

    #[test]
    fn a_sources_event_forwards_the_providers_headers_under_hookrelays_own() {
        let source = uuid::Uuid::now_v7();
        let d = leased(
            Some(source),
            Some(json!({
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": "abc=",
                "User-Agent": "TwilioProxy/1.1",
                "webhook-signature": "v1,theirs",
                "X-Webhook-Id": "theirs",
                "I-Twilio-Idempotency-Token": "tok",
            })),
        );
        let h = request_headers(&d, 1_700_000_000).unwrap();
        assert_eq!(header(&h, "x-twilio-signature"), Some("abc="));
        assert_eq!(header(&h, "i-twilio-idempotency-token"), Some("tok"));
        assert_eq!(header(&h, "content-type"), Some("application/x-www-form-urlencoded"));
        assert_eq!(header(&h, "user-agent"), Some(USER_AGENT));
        assert_eq!(header(&h, "x-webhook-source"), Some(source.to_string().as_str()));
        assert_eq!(header(&h, "x-webhook-id"), Some(d.event_id.to_string().as_str()));
        assert_eq!(header(&h, "x-custom"), Some("mine"));
        let secret = SigningSecret::parse(SECRET).unwrap();
        let body = d.body.as_bytes();
        assert_eq!(header(&h, "x-webhook-signature"), Some(x_webhook_signature(&secret, body).as_str()));
        let standard = standard_signature(&[&secret], &d.event_id.to_string(), 1_700_000_000, body);
        assert_eq!(header(&h, "webhook-signature"), Some(standard.as_str()));
        for name in ["content-type", "user-agent", "webhook-signature", "x-webhook-id"] {
            assert_eq!(h.get_all(name).iter().count(), 1, "{name} is replaced, not repeated");
        }
    }

    #[test]
    fn hop_by_hop_headers_host_length_and_invalid_ones_are_not_forwarded() {
        let d = leased(
            Some(uuid::Uuid::now_v7()),
            Some(json!({
                "Connection": "keep-alive, X-Hop",
                "Keep-Alive": "timeout=5",
                "Proxy-Connection": "keep-alive",
                "Proxy-Authorization": "Basic c2VjcmV0",
                "TE": "trailers",
                "Trailer": "X-Checksum",
                "Transfer-Encoding": "chunked",
                "Upgrade": "websocket",
                "Host": "hooks.example.com",
                "Content-Length": "18",
                "X-Hop": "named by Connection",
                "bad name": "v",
                "X-Bad-Value": "line\nbreak",
                "X-Not-A-String": 7,
                "X-Kept": "yes",
            })),
        );
        let h = request_headers(&d, 1_700_000_000).unwrap();
        for name in [
            "connection",
            "keep-alive",
            "proxy-connection",
            "proxy-authorization",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
            "host",
            "content-length",
            "x-hop",
            "x-bad-value",
            "x-not-a-string",
        ] {
            assert!(h.get(name).is_none(), "{name} is not forwarded");
        }
        assert_eq!(header(&h, "x-kept"), Some("yes"));
        assert_eq!(header(&h, "content-type"), Some("application/json"), "no provider Content-Type: JSON");
    }

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
