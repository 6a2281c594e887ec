//! Viber: `X-Viber-Content-Signature: <hex HMAC-SHA256(authToken, raw body)>`. The signed
//! `{"event":"webhook",…}` callback that follows `set_webhook` is answered 200 and not
//! published.

use serde_json::Value;

use super::mac::{Algorithm, Encoding, HeaderMac};
use super::scheme::{json_text, Scheme};
use super::{Check, Credentials, Matched, Request, Verdict};

const SIGNATURE: HeaderMac<'static> = HeaderMac {
    header: "x-viber-content-signature",
    prefix: "",
    encoding: Encoding::Hex,
    algorithm: Algorithm::Sha256,
    secret: "authToken",
};

pub(super) struct Viber;

impl Scheme for Viber {
    fn verify(&self, creds: &Credentials, req: &Request) -> Result<Matched, Check> {
        SIGNATURE.verify(creds, req, &[(Matched::Current, &[req.body])])
    }

    fn handshake(&self, _req: &Request, body: Option<&Value>) -> Option<Verdict> {
        (json_text(body, &["event"]).as_deref() == Some("webhook")).then(|| Verdict::Handshake {
            status: 200,
            content_type: "text/plain",
            body: Vec::new(),
        })
    }

    fn event_type(&self, _req: &Request, body: Option<&Value>) -> Option<String> {
        json_text(body, &["event"]).map(|event| format!("viber.{event}"))
    }

    /// `<event>:<message_token>`: a message's token identifies it, and one message has several
    /// events (`delivered`, `seen`).
    fn dedupe_key(&self, _req: &Request, body: Option<&Value>) -> Option<String> {
        Some(format!("{}:{}", json_text(body, &["event"])?, json_text(body, &["message_token"])?))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Check, Matched, Provider, Verdict};
    use serde_json::json;

    const TOKEN: &str = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9";
    const MESSAGE: &[u8] = br#"{"event":"message","timestamp":1457764197627,"message_token":4912661846655238145,"sender":{"id":"01234567890A=","name":"John McClane"},"message":{"type":"text","text":"a message to the service"}}"#;
    const WEBHOOK: &[u8] =
        br#"{"event":"webhook","timestamp":1457764197627,"chat_hostname":"SN-376_","message_token":241256543215}"#;
    const SUBSCRIBED: &[u8] = br#"{"event":"subscribed","timestamp":1457764197627,"user":{"id":"01234567890A="}}"#;
    // python3 -c 'import hmac,hashlib; print(hmac.new(TOKEN.encode(), BODY, hashlib.sha256).hexdigest())'
    // for each body above, and hashlib.sha256(SUBSCRIBED).hexdigest() for its dedupe key.
    const MESSAGE_SIG: &str = "f9fdfb1e2ea96bebb6a41daf4fb5aac63be35ddb143265d8befea9ba60d7d58d";
    const WEBHOOK_SIG: &str = "a0c9cd3c1a53760af46a7fa9eaba7e22ff52e771262279202d55c9baacd871fb";
    const SUBSCRIBED_SIG: &str = "3704c0ab791ed271a8b256aa912788c9b22b1b286d4eca8d06329e083ed37d83";
    const SUBSCRIBED_SHA256: &str = "dd940593e4475337e891ce746e5ce0ced70ec0ed77f2b752c37f2accbdcae162";

    fn config() -> serde_json::Value {
        json!({"authToken": TOKEN})
    }

    fn signed(body: &[u8], signature: &str) -> Req {
        Req::post(body).header("x-viber-content-signature", signature).header("content-type", "application/json")
    }

    #[test]
    fn message_is_accepted() {
        let (matched, event_type, key) =
            accepted(run(Provider::Viber, &config(), None, &signed(MESSAGE, MESSAGE_SIG), None));
        assert_eq!(matched, Matched::Current);
        assert_eq!(event_type, "viber.message");
        assert_eq!(key, "message:4912661846655238145");
        let req = signed(SUBSCRIBED, SUBSCRIBED_SIG);
        let (_, event_type, key) = accepted(run(Provider::Viber, &config(), None, &req, None));
        assert_eq!(event_type, "viber.subscribed");
        assert_eq!(key, SUBSCRIBED_SHA256);
    }

    #[test]
    fn webhook_callback_is_a_verified_handshake() {
        let verdict = run(Provider::Viber, &config(), None, &signed(WEBHOOK, WEBHOOK_SIG), None);
        assert_eq!(verdict, Verdict::Handshake { status: 200, content_type: "text/plain", body: Vec::new() });
        // Unsigned, or signed wrongly, it is rejected like any request.
        let unsigned = Req::post(WEBHOOK);
        assert_eq!(rejected(run(Provider::Viber, &config(), None, &unsigned, None)), Check::MissingSignature);
        let forged = signed(WEBHOOK, MESSAGE_SIG);
        assert_eq!(rejected(run(Provider::Viber, &config(), None, &forged, None)), Check::SignatureMismatch);
    }

    #[test]
    fn rejections() {
        let check = |req: Req| rejected(run(Provider::Viber, &config(), None, &req, None));
        let ok = signed(MESSAGE, MESSAGE_SIG);
        assert_eq!(check(ok.clone().flip_body_byte()), Check::SignatureMismatch);
        assert_eq!(check(ok.clone().remove_header("x-viber-content-signature")), Check::MissingSignature);
        for garbage in ["garbage", "sha256=f9fdfb1e", &MESSAGE_SIG[..62]] {
            assert_eq!(
                check(ok.clone().replace_header("x-viber-content-signature", garbage)),
                Check::MalformedSignature
            );
        }
        assert_eq!(rejected(run(Provider::Viber, &json!({}), None, &ok, None)), Check::WrongCredentials);
    }

    #[test]
    fn previous_token_matches_during_the_overlap() {
        let (matched, ..) = accepted(run(
            Provider::Viber,
            &json!({"authToken": "new"}),
            Some(&config()),
            &signed(MESSAGE, MESSAGE_SIG),
            None,
        ));
        assert_eq!(matched, Matched::Previous);
    }
}
