//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(signingSecret, t + "." + raw
//! body)>[,v1=…][,v0=…]`, keyed by the `whsec_…` string's UTF-8 bytes; any `v1` may match
//! (Stripe sends one per secret while a secret is being rolled), and `t` must be within
//! 300 s of now. Parsed as Stripe's official SDKs do (`WebhookSignature.verify_header`):
//! comma-separated `key=value` items, the first `t`, every `v1`, the rest ignored; the
//! signature is checked before the tolerance.

use serde_json::Value;

use super::mac::{self, Algorithm};
use super::scheme::{header, json_text, within_window, Scheme};
use super::{Check, Credentials, Matched, Request};

pub(super) struct Stripe;

struct Signature {
    timestamp: i64,
    v1: Vec<Vec<u8>>,
}

/// No `t` (or one that is not an integer), or no `v1` that is a hex SHA-256 MAC →
/// `MalformedSignature`.
fn parse(value: &str) -> Result<Signature, Check> {
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for (key, value) in value.split(',').filter_map(|item| item.split_once('=')) {
        match key {
            "t" if timestamp.is_none() => {
                timestamp = Some(value.parse::<i64>().map_err(|_| Check::MalformedSignature)?)
            }
            "v1" => v1.extend(hex::decode(value).ok().filter(|mac| mac.len() == Algorithm::Sha256.len())),
            _ => {}
        }
    }
    match timestamp {
        Some(timestamp) if !v1.is_empty() => Ok(Signature { timestamp, v1 }),
        _ => Err(Check::MalformedSignature),
    }
}

impl Scheme for Stripe {
    fn verify(&self, creds: &Credentials, req: &Request) -> Result<Matched, Check> {
        let signature = parse(header(req, "stripe-signature").ok_or(Check::MissingSignature)?)?;
        // The SDKs sign the integer as formatted, not the header's text.
        let signed_timestamp = signature.timestamp.to_string();
        let matched = mac::try_credentials(creds, "signingSecret", mac::utf8_key, |key| {
            let expected = Algorithm::Sha256.mac(key, &[signed_timestamp.as_bytes(), b".", req.body]);
            // Every candidate is compared, so the time does not say which one matched.
            let any = signature.v1.iter().fold(false, |any, v1| mac::same_mac(&expected, v1) | any);
            any.then_some(Matched::Current)
        })?;
        within_window(req, signature.timestamp)?;
        Ok(matched)
    }

    fn event_type(&self, _req: &Request, body: Option<&Value>) -> Option<String> {
        json_text(body, &["type"]).map(|t| format!("stripe.{t}"))
    }

    /// The event's `id` (`evt_…`): Stripe retries an event with the same id.
    fn dedupe_key(&self, _req: &Request, body: Option<&Value>) -> Option<String> {
        json_text(body, &["id"])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Check, Matched, Provider};
    use serde_json::json;

    const SECRET: &str = "whsec_test_5Gx2bN8kQ4mR7tW1yZ3cV6";
    const BODY: &[u8] = br#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","api_version":"2023-10-16","created":1699999990,"type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent"}}}"#;
    // python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test_5Gx2bN8kQ4mR7tW1yZ3cV6", b"1700000000." + BODY, hashlib.sha256).hexdigest())'
    const SIG_AT_NOW: &str = "52f89ec2b8b78b8d7a511991d8238995515da09b9da9c3f48bcdc8e2a3387fbf";
    // Same with t = 1699999000 (1000 s before NOW).
    const SIG_STALE: &str = "79d619112cf08d01b108e70dd986ea319f44172086116c9c32907080ca86a85f";
    // Same with the key b"whsec_old_secret_0000" and t = 1700000000.
    const SIG_OLD_SECRET: &str = "2616709c2c773a49260d8c88c585b334bbc887f00613b9145e4b582d6d67dead";

    fn config() -> serde_json::Value {
        json!({"signingSecret": SECRET})
    }

    fn signed(value: &str) -> Req {
        Req::post(BODY).header("stripe-signature", value)
    }

    fn check(req: Req) -> Check {
        rejected(run(Provider::Stripe, &config(), None, &req, None))
    }

    #[test]
    fn signed_event_is_accepted() {
        let req = signed(&format!(
            "t=1700000000,v1={SIG_AT_NOW},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
        ));
        let (matched, event_type, key) = accepted(run(Provider::Stripe, &config(), None, &req, None));
        assert_eq!(matched, Matched::Current);
        assert_eq!(event_type, "stripe.payment_intent.succeeded");
        assert_eq!(key, "evt_1NG8Du2eZvKYlo2CUI79vXWy");
    }

    #[test]
    fn any_v1_may_match_and_order_does_not_matter() {
        let other = "a".repeat(64);
        for value in [
            format!("t=1700000000,v1={other},v1={SIG_AT_NOW}"),
            format!("v1={SIG_AT_NOW},t=1700000000"),
            format!("t=1700000000,v1=nothex,v1={SIG_AT_NOW},x=y,novalue"),
        ] {
            accepted(run(Provider::Stripe, &config(), None, &signed(&value), None));
        }
    }

    #[test]
    fn timestamp_window() {
        let at = |now: i64| signed(&format!("t=1700000000,v1={SIG_AT_NOW}")).now(now);
        for now in [1_700_000_000 - 300, 1_700_000_000 + 300] {
            accepted(run(Provider::Stripe, &config(), None, &at(now), None));
        }
        assert_eq!(check(at(1_700_000_000 + 301)), Check::TimestampOutOfWindow);
        assert_eq!(check(at(1_700_000_000 - 301)), Check::TimestampOutOfWindow);
        // A valid signature over a stale t.
        assert_eq!(check(signed(&format!("t=1699999000,v1={SIG_STALE}"))), Check::TimestampOutOfWindow);
        // A fresh t with a signature over another t: the signature fails first.
        assert_eq!(check(signed(&format!("t=1700000000,v1={SIG_STALE}"))), Check::SignatureMismatch);
        // Replaying the signature under a fresh t.
        assert_eq!(check(signed(&format!("t=1699999000,v1={SIG_AT_NOW}"))), Check::SignatureMismatch);
    }

    #[test]
    fn rejections() {
        assert_eq!(check(signed(&format!("t=1700000000,v1={SIG_AT_NOW}")).flip_body_byte()), Check::SignatureMismatch);
        assert_eq!(check(Req::post(BODY)), Check::MissingSignature);
        for garbage in [
            "garbage".to_owned(),
            String::new(),
            format!("v1={SIG_AT_NOW}"),
            "t=1700000000".to_owned(),
            format!("t=1700000000,v0={SIG_AT_NOW}"),
            format!("t=soon,v1={SIG_AT_NOW}"),
            format!("t=1700000000,v1={}", &SIG_AT_NOW[..60]),
            format!("t=1700000000, v1={SIG_AT_NOW}"),
        ] {
            assert_eq!(check(signed(&garbage)), Check::MalformedSignature, "{garbage}");
        }
        let req = signed(&format!("t=1700000000,v1={SIG_AT_NOW}"));
        assert_eq!(
            rejected(run(Provider::Stripe, &json!({"secret": SECRET}), None, &req, None)),
            Check::WrongCredentials
        );
    }

    #[test]
    fn previous_secret_matches_during_the_overlap() {
        let req = signed(&format!("t=1700000000,v1={SIG_OLD_SECRET}"));
        let previous = json!({"signingSecret": "whsec_old_secret_0000"});
        let (matched, ..) = accepted(run(Provider::Stripe, &config(), Some(&previous), &req, None));
        assert_eq!(matched, Matched::Previous);
        assert_eq!(check(req), Check::SignatureMismatch);
    }

    #[test]
    fn no_id_falls_back_to_the_body_hash() {
        let current = json!({"signingSecret": SECRET});
        let body = br#"{"type":"ping"}"#;
        let mac = hex::encode(super::Algorithm::Sha256.mac(SECRET.as_bytes(), &[b"1700000000.", body]));
        let req = Req::post(body).header("stripe-signature", &format!("t=1700000000,v1={mac}"));
        let (_, event_type, key) = accepted(run(Provider::Stripe, &current, None, &req, None));
        assert_eq!(event_type, "stripe.ping");
        assert_eq!(key, super::mac::sha256_hex(body));
    }
}
