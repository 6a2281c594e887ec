//! Inbound sources (SPEC: "Inbound sources: receiving providers' webhooks"): check a
//! provider's request on its exact bytes, answer the handshakes hookrelay answers itself,
//! and derive the event type and the dedupe key of what it publishes.
//!
//! Pure and synchronous: no database and no HTTP server. The ingest route calls [`receive`]
//! and stores what it answers; the sources API calls [`validate_config`] and
//! [`fill_defaults`]; the request log and deliveries take [`redact_headers`],
//! [`redact_query`] and [`forwarded_headers`].
//!
//! One file per provider scheme, each behind the `Scheme` trait (`scheme.rs`). A scheme is
//! data where it can be — a header, an algorithm, an encoding, the signed content
//! (`mac::HeaderMac`) — and code only where the provider is odd: Twilio's URL and sorted
//! form parameters, Stripe's and Standard Webhooks' composite headers, Meta's and
//! LinkedIn's GET handshakes.

mod config;
mod headers;
mod hmac;
mod linkedin;
mod mac;
mod meta;
mod none;
mod scheme;
mod shopify;
mod slack;
mod standard;
mod stripe;
mod twilio;
mod unipile;
mod viber;

#[cfg(test)]
mod testkit;

use serde_json::{Map, Value};

use crate::domain::event::{EventType, RESERVED_PREFIX};

pub use config::{fill_defaults, is_config_field, validate_config};
pub use headers::{forwarded_headers, redact_headers, redact_query};

/// A source's `provider`: which scheme verifies its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Meta,
    Viber,
    Linkedin,
    Unipile,
    Stripe,
    Github,
    Shopify,
    Slack,
    Twilio,
    StandardWebhooks,
    Hmac,
    None,
}

impl Provider {
    /// Every provider, in SPEC's table order.
    pub const ALL: [Provider; 12] = [
        Provider::Meta,
        Provider::Viber,
        Provider::Linkedin,
        Provider::Unipile,
        Provider::Stripe,
        Provider::Github,
        Provider::Shopify,
        Provider::Slack,
        Provider::Twilio,
        Provider::StandardWebhooks,
        Provider::Hmac,
        Provider::None,
    ];

    /// The API's name of a provider (exact, case-sensitive); `None` for an unknown one.
    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Provider::Meta => "meta",
            Provider::Viber => "viber",
            Provider::Linkedin => "linkedin",
            Provider::Unipile => "unipile",
            Provider::Stripe => "stripe",
            Provider::Github => "github",
            Provider::Shopify => "shopify",
            Provider::Slack => "slack",
            Provider::Twilio => "twilio",
            Provider::StandardWebhooks => "standard-webhooks",
            Provider::Hmac => "hmac",
            Provider::None => "none",
        }
    }

    /// The `Allow` header of a 405 at `/in/{token}`: Meta's and LinkedIn's handshakes are GETs.
    pub fn allowed_methods(&self) -> &'static str {
        match self {
            Provider::Meta | Provider::Linkedin => "GET, POST",
            _ => "POST",
        }
    }

    /// The write-only fields of this provider's `config` (shown as `"****"` + last 4).
    pub fn secret_fields(&self) -> &'static [&'static str] {
        config::secret_fields(*self)
    }

    /// `hmac` and `none` derive nothing from the request: the source's `eventType` is required.
    pub fn needs_event_type(&self) -> bool {
        matches!(self, Provider::Hmac | Provider::None)
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The request as it arrived at `/in/{token}`. No `Debug`: its headers may hold credentials.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `POST`, … as received (HTTP methods are case-sensitive).
    pub method: &'a str,
    /// The URL the provider called: the source's `ingestUrl`, plus `?` and the query when the
    /// query is not empty. Twilio signs it.
    pub url: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// Names lower-cased, values as received; a repeated header is kept as separate entries.
    pub headers: &'a [(String, String)],
    /// The exact bytes.
    pub body: &'a [u8],
    /// Unix seconds, for the timestamp windows.
    pub now: i64,
}

/// What a request is checked against: the source's whole config with its secrets opened,
/// and while a PATCH's 24 h overlap lasts, the same config with the replaced secret values.
/// The current one is tried first. No `Debug`: it holds opened secrets.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub current: &'a Map<String, Value>,
    pub previous: Option<&'a Map<String, Value>>,
}

/// The check a rejected request failed: the `detail` of the 401 and the log's `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    MissingSignature,
    MalformedSignature,
    SignatureMismatch,
    TimestampOutOfWindow,
    WrongCredentials,
}

impl Check {
    pub fn as_str(&self) -> &'static str {
        match self {
            Check::MissingSignature => "missing_signature",
            Check::MalformedSignature => "malformed_signature",
            Check::SignatureMismatch => "signature_mismatch",
            Check::TimestampOutOfWindow => "timestamp_out_of_window",
            Check::WrongCredentials => "wrong_credentials",
        }
    }
}

/// Which secret or reading verified a request: the log's `matched`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    /// The current secret.
    Current,
    /// The secret a PATCH replaced, during its 24 h overlap.
    Previous,
    /// LinkedIn, current secret: the HMAC over `"hmacsha256=" + body`.
    Prefixed,
    /// LinkedIn, current secret: the HMAC over the body alone.
    Body,
}

impl Matched {
    pub fn as_str(&self) -> &'static str {
        match self {
            Matched::Current => "current",
            Matched::Previous => "previous",
            Matched::Prefixed => "prefixed",
            Matched::Body => "body",
        }
    }
}

/// What the ingest route does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Answered by hookrelay itself, not published: Meta's and LinkedIn's GETs, Slack's
    /// `url_verification`, Viber's `webhook` callback.
    Handshake { status: u16, content_type: &'static str, body: Vec<u8> },
    /// Neither a handshake nor something this provider sends with this method (a GET to
    /// `meta` without `hub.mode=subscribe`): answered 400 with this message.
    BadRequest(String),
    /// Failed verification: answered 401 naming the check.
    Rejected(Check),
    /// Verified: stored and published as `event_type`, deduplicated on `dedupe_key`.
    Accepted { matched: Matched, event_type: String, dedupe_key: String },
}

/// A dedupe key longer than this is replaced by its SHA-256, so that a provider id of any
/// length fits the unique index it is stored in.
const MAX_DEDUPE_KEY: usize = 200;

/// Checks `req` as `provider` signs it and says what to do with it.
///
/// Verification comes first, on the exact bytes, with constant-time comparisons; a missing
/// or unusable config value fails closed. Only a verified body is parsed: for a handshake
/// that is itself signed (Slack's `url_verification`, Viber's `webhook`), the event type
/// and the dedupe key. `fixed_type` is the source's `eventType`: it overrides the derived
/// type (and is what `hmac` and `none` publish; without it they publish `<provider>.event`).
pub fn receive(provider: Provider, creds: &Credentials, req: &Request, fixed_type: Option<&str>) -> Verdict {
    let scheme = scheme::of(provider);
    if req.method != "POST" {
        let challenge = if req.method == "GET" { scheme.challenge(creds, req) } else { None };
        return challenge.unwrap_or_else(|| {
            Verdict::BadRequest(format!("a {provider} source accepts {}", provider.allowed_methods()))
        });
    }
    let matched = match scheme.verify(creds, req) {
        Ok(matched) => matched,
        Err(check) => return Verdict::Rejected(check),
    };
    let body: Option<Value> = serde_json::from_slice(req.body).ok();
    if let Some(handshake) = scheme.handshake(req, body.as_ref()) {
        return handshake;
    }
    let event_type = match fixed_type {
        Some(fixed) => fixed.to_owned(),
        None => match scheme.event_type(req, body.as_ref()) {
            Some(raw) => normalise_type(provider, &raw),
            None => fallback_type(provider),
        },
    };
    let dedupe_key = match scheme.dedupe_key(req, body.as_ref()) {
        Some(key) if key.len() <= MAX_DEDUPE_KEY => key,
        Some(long) => mac::sha256_hex(long.as_bytes()),
        None => mac::sha256_hex(req.body),
    };
    Verdict::Accepted { matched, event_type, dedupe_key }
}

/// SPEC's normalisation of a type derived from provider data: lower-cased, every character
/// outside `[a-z0-9_.-]` replaced by `_`; a result in hookrelay's reserved namespace or that
/// is still not a valid event type becomes `<provider>.event`.
pub fn normalise_type(provider: Provider, raw: &str) -> String {
    let normalised: String = raw
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if matches!(c, 'a'..='z' | '0'..='9' | '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if normalised.starts_with(RESERVED_PREFIX) || EventType::parse(&normalised).is_err() {
        fallback_type(provider)
    } else {
        normalised
    }
}

fn fallback_type(provider: Provider) -> String {
    format!("{provider}.event")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::testkit::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn provider_names_round_trip() {
        for p in Provider::ALL {
            assert_eq!(Provider::parse(p.as_str()), Some(p));
            assert_eq!(p.to_string(), p.as_str());
        }
        assert_eq!(Provider::parse("standard-webhooks"), Some(Provider::StandardWebhooks));
        assert_eq!(Provider::parse("none"), Some(Provider::None));
        for unknown in ["", "Meta", "standard_webhooks", "whatsapp", "hmac "] {
            assert_eq!(Provider::parse(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn allowed_methods_and_event_type_requirement() {
        for p in Provider::ALL {
            let expected = if matches!(p, Provider::Meta | Provider::Linkedin) { "GET, POST" } else { "POST" };
            assert_eq!(p.allowed_methods(), expected, "{p}");
            assert_eq!(p.needs_event_type(), matches!(p, Provider::Hmac | Provider::None), "{p}");
        }
    }

    #[test]
    fn check_and_matched_names() {
        let checks = [
            (Check::MissingSignature, "missing_signature"),
            (Check::MalformedSignature, "malformed_signature"),
            (Check::SignatureMismatch, "signature_mismatch"),
            (Check::TimestampOutOfWindow, "timestamp_out_of_window"),
            (Check::WrongCredentials, "wrong_credentials"),
        ];
        for (c, s) in checks {
            assert_eq!(c.as_str(), s);
        }
        let matched = [
            (Matched::Current, "current"),
            (Matched::Previous, "previous"),
            (Matched::Prefixed, "prefixed"),
            (Matched::Body, "body"),
        ];
        for (m, s) in matched {
            assert_eq!(m.as_str(), s);
        }
    }

    #[test]
    fn normalise_type_rules() {
        let p = Provider::Stripe;
        assert_eq!(normalise_type(p, "stripe.invoice.paid"), "stripe.invoice.paid");
        assert_eq!(normalise_type(p, "Stripe.Invoice.PAID"), "stripe.invoice.paid");
        assert_eq!(normalise_type(Provider::Shopify, "shopify.orders/create"), "shopify.orders_create");
        assert_eq!(normalise_type(p, "a b:c"), "a_b_c");
        assert_eq!(normalise_type(p, "x-y_z.0-9"), "x-y_z.0-9");
        // One `_` per character, ASCII or not.
        assert_eq!(normalise_type(p, "zoë✓"), "zo__");
        // Reserved namespace, before or after lower-casing.
        assert_eq!(
            normalise_type(Provider::StandardWebhooks, "hookrelay.endpoint.disabled"),
            "standard-webhooks.event"
        );
        assert_eq!(normalise_type(p, "HookRelay.x"), "stripe.event");
        assert_eq!(normalise_type(p, "hookrelay"), "hookrelay");
        // Still invalid: empty, empty segments, too long.
        assert_eq!(normalise_type(p, ""), "stripe.event");
        assert_eq!(normalise_type(p, "a..b"), "stripe.event");
        assert_eq!(normalise_type(p, "meta..messages"), "stripe.event");
        assert_eq!(normalise_type(p, ".a"), "stripe.event");
        assert_eq!(normalise_type(p, &"a".repeat(128)), "a".repeat(128));
        assert_eq!(normalise_type(p, &"a".repeat(129)), "stripe.event");
        for provider in Provider::ALL {
            let fallback = normalise_type(provider, "");
            assert_eq!(fallback, format!("{}.event", provider.as_str()));
            assert!(EventType::parse_publishable(&fallback).is_ok(), "{fallback}");
        }
    }

    #[test]
    fn fixed_type_overrides_the_derived_one() {
        let req = shopify::tests::signed();
        let verdict = run(Provider::Shopify, &shopify::tests::config(), None, &req, Some("order.created"));
        let (_, event_type, _) = accepted(verdict);
        assert_eq!(event_type, "order.created");
    }

    #[test]
    fn other_methods_are_bad_requests() {
        let current = json!({"secret": "s"});
        for (provider, method) in [
            (Provider::Github, "GET"),
            (Provider::Github, "PUT"),
            (Provider::Stripe, "GET"),
            (Provider::None, "DELETE"),
            (Provider::Meta, "PUT"),
            (Provider::Linkedin, "HEAD"),
            (Provider::Github, "post"),
        ] {
            let req = Req::post(b"{}").method(method);
            let verdict = run(provider, &current, None, &req, Some("x"));
            assert!(
                matches!(&verdict, Verdict::BadRequest(m) if m.contains(provider.allowed_methods())),
                "{verdict:?}"
            );
        }
    }

    #[test]
    fn long_dedupe_keys_are_hashed() {
        let id = "d".repeat(300);
        let req = Req::post(b"{}").header("x-github-event", "ping").header("x-github-delivery", &id);
        let req = req.sign_hub("s");
        let (_, _, key) = accepted(run(Provider::Github, &json!({"secret": "s"}), None, &req, None));
        assert_eq!(key, mac::sha256_hex(id.as_bytes()));
        let id = "d".repeat(200);
        let req = Req::post(b"{}").header("x-github-event", "ping").header("x-github-delivery", &id).sign_hub("s");
        let (_, _, key) = accepted(run(Provider::Github, &json!({"secret": "s"}), None, &req, None));
        assert_eq!(key, id);
    }
}
