//! Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, raw body)>`.

use serde_json::Value;

use super::mac::{Algorithm, Encoding, HeaderMac};
use super::scheme::{header_text, Scheme};
use super::{Check, Credentials, Matched, Request};

const SIGNATURE: HeaderMac<'static> = HeaderMac {
    header: "x-shopify-hmac-sha256",
    prefix: "",
    encoding: Encoding::Base64,
    algorithm: Algorithm::Sha256,
    secret: "secret",
};

pub(super) struct Shopify;

impl Scheme for Shopify {
    fn verify(&self, creds: &Credentials, req: &Request) -> Result<Matched, Check> {
        SIGNATURE.verify(creds, req, &[(Matched::Current, &[req.body])])
    }

    /// `shopify.<X-Shopify-Topic>` with `/` → `.` (`orders/create` → `shopify.orders.create`).
    fn event_type(&self, req: &Request, _body: Option<&Value>) -> Option<String> {
        header_text(req, "x-shopify-topic").map(|topic| format!("shopify.{}", topic.replace('/', ".")))
    }

    fn dedupe_key(&self, req: &Request, _body: Option<&Value>) -> Option<String> {
        header_text(req, "x-shopify-webhook-id")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(super) mod tests {
    use super::super::testkit::*;
    use super::super::{mac, Check, Matched, Provider};
    use serde_json::json;

    const SECRET: &str = "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";
    const BODY: &[u8] = br#"{"id":820982911946154508,"email":"jon@example.com","closed_at":null,"created_at":"2024-01-01T12:00:00-05:00","total_price":"403.00","line_items":[]}"#;
    // python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()).decode())'
    const SIG: &str = "zXxVG3j+WY+cX6l6WAcdxpS36+GSF8CTZd3VU0jxc/Q=";
    // Same with the key b"shpss_old".
    const SIG_OLD: &str = "VCrVd3Cfj+v6IyooXi1XPjuRA/wM24W8vdn4oruKsGA=";

    pub(in super::super) fn config() -> serde_json::Value {
        json!({"secret": SECRET})
    }

    pub(in super::super) fn signed() -> Req {
        Req::post(BODY)
            .header("x-shopify-hmac-sha256", SIG)
            .header("x-shopify-topic", "orders/create")
            .header("x-shopify-webhook-id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
            .header("x-shopify-shop-domain", "example.myshopify.com")
    }

    #[test]
    fn order_is_accepted() {
        let (matched, event_type, key) = accepted(run(Provider::Shopify, &config(), None, &signed(), None));
        assert_eq!(matched, Matched::Current);
        assert_eq!(event_type, "shopify.orders.create");
        assert_eq!(key, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
        // Unpadded base64 is the same MAC.
        let req = signed().replace_header("x-shopify-hmac-sha256", SIG.trim_end_matches('='));
        accepted(run(Provider::Shopify, &config(), None, &req, None));
        // No webhook id: the body's SHA-256 (python3 hashlib.sha256(BODY).hexdigest()).
        let req = signed().remove_header("x-shopify-webhook-id").remove_header("x-shopify-topic");
        let (_, event_type, key) = accepted(run(Provider::Shopify, &config(), None, &req, None));
        assert_eq!(event_type, "shopify.event");
        assert_eq!(key, "c343ef939f771dafe2dc7e45e2104c04a43cd42607cdf54933720c008b6507cc");
        assert_eq!(key, mac::sha256_hex(BODY));
    }

    #[test]
    fn rejections() {
        let check = |req: Req| rejected(run(Provider::Shopify, &config(), None, &req, None));
        assert_eq!(check(signed().flip_body_byte()), Check::SignatureMismatch);
        assert_eq!(check(signed().remove_header("x-shopify-hmac-sha256")), Check::MissingSignature);
        // Not base64, hex instead of base64, too short.
        for garbage in ["!!!", "cd7c551b78fe598f9c5fa97a58071dc694b7ebe19217c09365ddd55348f173f4", "zXxVG3j+WY+c"] {
            assert_eq!(check(signed().replace_header("x-shopify-hmac-sha256", garbage)), Check::MalformedSignature);
        }
    }

    #[test]
    fn previous_secret_matches_during_the_overlap() {
        let req = signed().replace_header("x-shopify-hmac-sha256", SIG_OLD);
        let (matched, ..) =
            accepted(run(Provider::Shopify, &config(), Some(&json!({"secret": "shpss_old"})), &req, None));
        assert_eq!(matched, Matched::Previous);
    }
}
