//! Signatures of a delivery (SPEC: "The request a subscriber receives").

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::domain::secret::SigningSecret;

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC hashes or pads keys of any length; the Result only exists because the
        // `KeyInit` trait is shared with ciphers that have fixed key sizes.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `X-Webhook-Signature`: `sha256=` + lowercase hex HMAC-SHA256 of the raw body, keyed by
/// the secret string's UTF-8 bytes (`whsec_` included), the format existing receivers verify.
pub fn x_webhook_signature(secret: &SigningSecret, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(secret.x_signature_key(), &[body])))
}

/// Standard Webhooks `webhook-signature`: one `v1,<base64>` per secret, in the order given
/// (newest first during a rotation), space-separated. Each signs `{msg_id}.{timestamp}.{body}`.
pub fn standard_signature(secrets: &[&SigningSecret], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    secrets
        .iter()
        .map(|secret| {
            let mac = hmac_sha256(&secret.standard_key(), &[msg_id.as_bytes(), b".", timestamp.as_bytes(), b".", body]);
            format!("v1,{}", STANDARD.encode(mac))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::Value;

    const VECTORS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/signatures.json"));

    fn vectors() -> Value {
        serde_json::from_str(VECTORS).unwrap()
    }

    fn s<'a>(v: &'a Value, key: &str) -> &'a str {
        v[key].as_str().unwrap_or_else(|| panic!("missing string {key}"))
    }

    fn secret(v: &Value, key: &str) -> SigningSecret {
        SigningSecret::parse(s(v, key)).unwrap()
    }

    #[test]
    fn every_case() {
        let v = vectors();
        let cases = v["cases"].as_array().unwrap();
        assert!(cases.len() >= 6);
        for case in cases {
            let secret = secret(case, "secret");
            let body = s(case, "body").as_bytes();
            let ts = case["timestamp"].as_i64().unwrap();
            assert_eq!(
                x_webhook_signature(&secret, body),
                s(case, "x_webhook_signature"),
                "{}",
                s(case, "secret_form")
            );
            assert_eq!(
                standard_signature(&[&secret], s(case, "webhook_id"), ts, body),
                s(case, "webhook_signature"),
                "{}",
                s(case, "secret_form")
            );
        }
    }

    #[test]
    fn rotation() {
        let v = vectors();
        let r = &v["rotation"];
        let newest = secret(r, "newest_secret");
        let previous = secret(r, "previous_secret");
        let body = s(r, "body").as_bytes();
        let ts = r["timestamp"].as_i64().unwrap();
        assert_eq!(x_webhook_signature(&newest, body), s(r, "x_webhook_signature"));
        assert_eq!(x_webhook_signature(&previous, body), s(r, "x_webhook_signature_previous"));
        assert_eq!(standard_signature(&[&newest, &previous], s(r, "webhook_id"), ts, body), s(r, "webhook_signature"));
    }

    #[test]
    fn standard_webhooks_reference_vector() {
        let v = vectors();
        let r = &v["standard_webhooks_reference"];
        let secret = secret(r, "secret");
        assert_eq!(
            standard_signature(
                &[&secret],
                s(r, "webhook_id"),
                r["timestamp"].as_i64().unwrap(),
                s(r, "body").as_bytes()
            ),
            s(r, "webhook_signature")
        );
        // Also pinned here, so a change to the JSON file cannot hide a regression.
        assert_eq!(
            standard_signature(
                &[&SigningSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap()],
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                br#"{"email":"test@example.com","username":"test_user"}"#
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn no_secrets_no_signatures() {
        assert_eq!(standard_signature(&[], "id", 1, b"{}"), "");
    }

    #[test]
    fn format() {
        let secret = SigningSecret::generate();
        let x = x_webhook_signature(&secret, b"{}");
        assert_eq!(x.len(), "sha256=".len() + 64);
        assert!(x[7..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        let std_sig = standard_signature(&[&secret], "id", 1, b"{}");
        assert!(std_sig.starts_with("v1,"));
        assert_eq!(STANDARD.decode(&std_sig[3..]).unwrap().len(), 32);
    }
}
