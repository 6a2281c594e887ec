//! Standard Webhooks (and so Svix, and hookrelay itself): `webhook-id`,
//! `webhook-timestamp` within 300 s, and `webhook-signature`, space-separated
//! `v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>` entries of which any
//! may match; the key is the base64 after `whsec_`. As the reference verifier
//! (standard-webhooks' libraries) reads them, except that the signature is checked before
//! the timestamp, as for Stripe.

use base64::Engine;
use serde_json::Value;

use super::mac::{self, Algorithm, Encoding};
use super::scheme::{header, header_text, json_text, timestamp, within_window, Scheme};
use super::{Check, Credentials, Matched, Request};

/// The key of a `whsec_…` secret: the decoded base64 (padding optional). The reference
/// libraries decode a secret without the prefix too; a config only holds `whsec_` ones.
pub(super) fn key(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    mac::BASE64.decode(encoded).ok().filter(|key| !key.is_empty())
}

pub(super) struct StandardWebhooks;

impl Scheme for StandardWebhooks {
    fn verify(&self, creds: &Credentials, req: &Request) -> Result<Matched, Check> {
        let signatures = header(req, "webhook-signature").ok_or(Check::MissingSignature)?;
        let id = header(req, "webhook-id").ok_or(Check::MissingSignature)?;
        let (_, seconds) = timestamp(req, "webhook-timestamp")?;
        let presented: Vec<Vec<u8>> = signatures
            .split(' ')
            .filter_map(|entry| entry.split_once(','))
            .filter(|(version, _)| *version == "v1")
            .filter_map(|(_, signature)| Encoding::Base64.decode(signature))
            .filter(|signature| signature.len() == Algorithm::Sha256.len())
            .collect();
        if presented.is_empty() {
            return Err(Check::MalformedSignature);
        }
        // The reference libraries sign the integer as formatted.
        let signed_timestamp = seconds.to_string();
        let matched = mac::try_credentials(creds, "secret", key, |key| {
            let expected =
                Algorithm::Sha256.mac(key, &[id.as_bytes(), b".", signed_timestamp.as_bytes(), b".", req.body]);
            let any = presented.iter().fold(false, |any, signature| mac::same_mac(&expected, signature) | any);
            any.then_some(Matched::Current)
        })?;
        within_window(req, seconds)?;
        Ok(matched)
    }

    /// The body's `type` as it is (a Standard Webhooks payload names its own event type),
    /// else `standard-webhooks.event`.
    fn event_type(&self, _req: &Request, body: Option<&Value>) -> Option<String> {
        json_text(body, &["type"])
    }

    fn dedupe_key(&self, req: &Request, _body: Option<&Value>) -> Option<String> {
        header_text(req, "webhook-id")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Check, Matched, Provider};
    use serde_json::{json, Value};

    const VECTORS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/signatures.json"));

    fn signed(secret_body: &[u8], id: &str, ts: i64, signature: &str) -> Req {
        Req::post(secret_body)
            .header("webhook-id", id)
            .header("webhook-timestamp", &ts.to_string())
            .header("webhook-signature", signature)
            .now(ts)
    }

    #[test]
    fn reference_vector() {
        let v: Value = serde_json::from_str(VECTORS).unwrap();
        let r = &v["standard_webhooks_reference"];
        let req = signed(
            r["body"].as_str().unwrap().as_bytes(),
            r["webhook_id"].as_str().unwrap(),
            r["timestamp"].as_i64().unwrap(),
            r["webhook_signature"].as_str().unwrap(),
        );
        assert_eq!(r["webhook_signature"], "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
        let config = json!({"secret": r["secret"]});
        let (matched, event_type, key) = accepted(run(Provider::StandardWebhooks, &config, None, &req, None));
        assert_eq!(matched, Matched::Current);
        assert_eq!(event_type, "standard-webhooks.event");
        assert_eq!(key, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk");
    }

    /// What hookrelay's own deliveries carry verifies here too (whsec_ secrets; a source's
    /// secret must be one).
    #[test]
    fn hookrelay_vectors() {
        let v: Value = serde_json::from_str(VECTORS).unwrap();
        let mut checked = 0;
        for case in v["cases"].as_array().unwrap() {
            let secret = case["secret"].as_str().unwrap();
            if !secret.starts_with("whsec_") {
                continue;
            }
            let req = signed(
                case["body"].as_str().unwrap().as_bytes(),
                case["webhook_id"].as_str().unwrap(),
                case["timestamp"].as_i64().unwrap(),
                case["webhook_signature"].as_str().unwrap(),
            );
            let (matched, event_type, key) =
                accepted(run(Provider::StandardWebhooks, &json!({"secret": secret}), None, &req, None));
            assert_eq!(matched, Matched::Current);
            assert_eq!(event_type, "standard-webhooks.event");
            assert_eq!(key, case["webhook_id"].as_str().unwrap());
            checked += 1;
        }
        assert_eq!(checked, 4);
    }

    #[test]
    fn rotation_vector_and_previous_secret() {
        let v: Value = serde_json::from_str(VECTORS).unwrap();
        let r = &v["rotation"];
        let body = r["body"].as_str().unwrap().as_bytes();
        let (id, ts) = (r["webhook_id"].as_str().unwrap(), r["timestamp"].as_i64().unwrap());
        let both = signed(body, id, ts, r["webhook_signature"].as_str().unwrap());
        let newest = json!({"secret": r["newest_secret"]});
        let previous = json!({"secret": r["previous_secret"]});
        let (matched, ..) = accepted(run(Provider::StandardWebhooks, &newest, None, &both, None));
        assert_eq!(matched, Matched::Current);
        // Either entry verifies on its own.
        let (matched, ..) = accepted(run(Provider::StandardWebhooks, &previous, None, &both, None));
        assert_eq!(matched, Matched::Current);
        // Signed with the previous secret only: matched through the overlap.
        let old_only = r["webhook_signature"].as_str().unwrap().split(' ').nth(1).unwrap();
        let req = signed(body, id, ts, old_only);
        let (matched, ..) = accepted(run(Provider::StandardWebhooks, &newest, Some(&previous), &req, None));
        assert_eq!(matched, Matched::Previous);
        assert_eq!(rejected(run(Provider::StandardWebhooks, &newest, None, &req, None)), Check::SignatureMismatch);
    }

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const BODY: &[u8] = br#"{"type":"invoice.paid","timestamp":"2023-11-14T22:13:20Z","data":{"id":"in_1"}}"#;
    // python3: k = base64.b64decode(SECRET[6:]); "v1," + base64.b64encode(hmac.new(k,
    // b"msg_2Yw7pLq.1700000000." + BODY, hashlib.sha256).digest()).decode()
    const SIG: &str = "v1,DXipYBHDTkUigOFWvzhdt6enjSj/IoHu0Ns59p+F9nE=";
    // Same with timestamp 1699999000.
    const SIG_STALE: &str = "v1,3WFQp10crxEfWz40QLUQ54kLrAiyZ7bS277/hwUiX+o=";

    fn config() -> Value {
        json!({"secret": SECRET})
    }

    fn check(req: Req) -> Check {
        rejected(run(Provider::StandardWebhooks, &config(), None, &req, None))
    }

    #[test]
    fn typed_event_is_accepted() {
        let req = signed(BODY, "msg_2Yw7pLq", NOW, &format!("v1a,xyz {SIG} v2,abc"));
        let (_, event_type, key) = accepted(run(Provider::StandardWebhooks, &config(), None, &req, None));
        assert_eq!(event_type, "invoice.paid");
        assert_eq!(key, "msg_2Yw7pLq");
        // A type in hookrelay's namespace is not taken as is (python3 as for SIG, over
        // {"type":"hookrelay.endpoint.disabled","data":{}} with id msg_reserved).
        let body = br#"{"type":"hookrelay.endpoint.disabled","data":{}}"#;
        let req = signed(body, "msg_reserved", NOW, "v1,Y9Bra//Cvf8j3OkkQNfXftRtdh+DBcc2nJXESev2p6c=");
        let (_, event_type, _) = accepted(run(Provider::StandardWebhooks, &config(), None, &req, None));
        assert_eq!(event_type, "standard-webhooks.event");
    }

    #[test]
    fn timestamp_window() {
        assert_eq!(check(signed(BODY, "msg_2Yw7pLq", NOW - 1000, SIG_STALE).now(NOW)), Check::TimestampOutOfWindow);
        assert_eq!(check(signed(BODY, "msg_2Yw7pLq", NOW, SIG_STALE)), Check::SignatureMismatch);
        assert_eq!(check(signed(BODY, "msg_2Yw7pLq", NOW, SIG).now(NOW - 301)), Check::TimestampOutOfWindow);
        accepted(run(
            Provider::StandardWebhooks,
            &config(),
            None,
            &signed(BODY, "msg_2Yw7pLq", NOW, SIG).now(NOW + 300),
            None,
        ));
    }

    #[test]
    fn rejections() {
        let ok = signed(BODY, "msg_2Yw7pLq", NOW, SIG);
        assert_eq!(check(ok.clone().flip_body_byte()), Check::SignatureMismatch);
        assert_eq!(check(ok.clone().replace_header("webhook-id", "msg_other")), Check::SignatureMismatch);
        for missing in ["webhook-signature", "webhook-id", "webhook-timestamp"] {
            assert_eq!(check(ok.clone().remove_header(missing)), Check::MissingSignature, "{missing}");
        }
        assert_eq!(check(ok.clone().replace_header("webhook-timestamp", "1700000000.5")), Check::MalformedSignature);
        for garbage in ["garbage", "v1,", "v1,!!!!", "v2,DXipYBHDTkUigOFWvzhdt6enjSj/IoHu0Ns59p+F9nE=", "v1,DXipYBHD"] {
            assert_eq!(
                check(ok.clone().replace_header("webhook-signature", garbage)),
                Check::MalformedSignature,
                "{garbage}"
            );
        }
        for broken in [json!({}), json!({"secret": "whsec_"}), json!({"secret": "whsec_!!"})] {
            assert_eq!(rejected(run(Provider::StandardWebhooks, &broken, None, &ok, None)), Check::WrongCredentials);
        }
    }
}
