//! LinkedIn: `X-LI-Signature: <hex HMAC-SHA256(clientSecret, "hmacsha256=" + raw body)>`,
//! the same over the raw body alone also accepted (the log says which matched), and the
//! `GET ?challengeCode=C` URL check answered with C's HMAC.
//!
//! That handshake is an HMAC oracle: anyone who knows the URL can have the client secret
//! sign a string of their choice. Answered for every string, it would sign any body (under
//! the body-alone reading) or `"hmacsha256=" + body` (under the prefixed one). So a
//! challenge code is answered only when it looks like one (LinkedIn sends a UUID):
//! characters of `[A-Za-z0-9._~-]`, which no prefixed content has (`=`), and a body that
//! could itself be a challenge code is never verified by the body-alone reading.

use serde_json::Value;

use super::mac::{Algorithm, Encoding, HeaderMac};
use super::scheme::{json_text, query_param, Scheme};
use super::{mac, Check, Credentials, Matched, Request, Verdict};

const SIGNATURE: HeaderMac<'static> = HeaderMac {
    header: "x-li-signature",
    prefix: "",
    encoding: Encoding::Hex,
    algorithm: Algorithm::Sha256,
    secret: "clientSecret",
};

const MAX_CHALLENGE: usize = 128;

/// What the handshake answers: what a challenge code LinkedIn sends looks like.
fn is_challenge_code(s: &[u8]) -> bool {
    (1..=MAX_CHALLENGE).contains(&s.len())
        && s.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

pub(super) struct Linkedin;

impl Scheme for Linkedin {
    /// `GET ?challengeCode=C` → 200 `{"challengeCode": C, "challengeResponse": <hex
    /// HMAC-SHA256(clientSecret, C)>}`. LinkedIn validates with the app's one secret, the
    /// current one.
    fn challenge(&self, creds: &Credentials, req: &Request) -> Option<Verdict> {
        let Some(code) = query_param(req.query, "challengeCode") else {
            return Some(Verdict::BadRequest(
                "a GET to a linkedin source must be LinkedIn's validation request (challengeCode)".to_owned(),
            ));
        };
        if !is_challenge_code(code.as_bytes()) {
            return Some(Verdict::BadRequest(format!(
                "challengeCode must be 1-{MAX_CHALLENGE} characters of [A-Za-z0-9._~-]"
            )));
        }
        let Some(secret) = mac::field(creds.current, SIGNATURE.secret) else {
            return Some(Verdict::Rejected(Check::WrongCredentials));
        };
        let response = hex::encode(Algorithm::Sha256.mac(secret.as_bytes(), &[code.as_bytes()]));
        let body = serde_json::json!({"challengeCode": code, "challengeResponse": response});
        Some(Verdict::Handshake { status: 200, content_type: "application/json", body: body.to_string().into_bytes() })
    }

    fn verify(&self, creds: &Credentials, req: &Request) -> Result<Matched, Check> {
        let prefixed: (Matched, &[&[u8]]) = (Matched::Prefixed, &[b"hmacsha256=", req.body]);
        let body_alone: (Matched, &[&[u8]]) = (Matched::Body, &[req.body]);
        if is_challenge_code(req.body) {
            // The handshake signs such strings for anyone (see the module's comment).
            SIGNATURE.verify(creds, req, &[prefixed])
        } else {
            SIGNATURE.verify(creds, req, &[prefixed, body_alone])
        }
    }

    /// `linkedin.<type>`, lower-cased (by the normalisation).
    fn event_type(&self, _req: &Request, body: Option<&Value>) -> Option<String> {
        json_text(body, &["type"]).map(|t| format!("linkedin.{t}"))
    }

    fn dedupe_key(&self, _req: &Request, body: Option<&Value>) -> Option<String> {
        json_text(body, &["notificationId"])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Check, Matched, Provider, Verdict};
    use serde_json::json;

    const SECRET: &str = "li-client-secret-4f9a2c71";
    const BODY: &[u8] = br#"{"type":"ORGANIZATION_SOCIAL_ACTION","notificationId":1234567,"organizationalEntity":"urn:li:organization:2414183","decoratedSourcePost":{"entity":"urn:li:share:1"}}"#;
    // python3 -c 'import hmac,hashlib; k=b"li-client-secret-4f9a2c71"; print(hmac.new(k, b"hmacsha256=" + BODY, hashlib.sha256).hexdigest(), hmac.new(k, BODY, hashlib.sha256).hexdigest())'
    const PREFIXED_SIG: &str = "02027603f11415fb41fce80140d8ce37fd29433baff4f378586a52d8bcad8f7e";
    const BODY_SIG: &str = "37a33a56f548b085de09686373e1cc85b4cb23481119e65e1bcd751b56088e11";
    const NO_ID: &[u8] = br#"{"type":"MEMBER_NOTIFICATION"}"#;
    // Same, prefixed, over NO_ID; and hashlib.sha256(NO_ID).hexdigest().
    const NO_ID_SIG: &str = "9cefd3ca9a9a6660214190a387c3547cce6f395f9c707a1d94ebde34841aee2d";
    const NO_ID_SHA256: &str = "511a32edabe4264c92f375e8abc9b8e07d1437676bc247d8eff566062e350c99";

    fn config() -> serde_json::Value {
        json!({"clientSecret": SECRET})
    }

    fn signed(body: &[u8], signature: &str) -> Req {
        Req::post(body).header("x-li-signature", signature)
    }

    #[test]
    fn both_readings_are_accepted_and_told_apart() {
        let (matched, event_type, key) =
            accepted(run(Provider::Linkedin, &config(), None, &signed(BODY, PREFIXED_SIG), None));
        assert_eq!(matched, Matched::Prefixed);
        assert_eq!(event_type, "linkedin.organization_social_action");
        assert_eq!(key, "1234567");
        let (matched, ..) = accepted(run(Provider::Linkedin, &config(), None, &signed(BODY, BODY_SIG), None));
        assert_eq!(matched, Matched::Body);
        let (_, event_type, key) = accepted(run(Provider::Linkedin, &config(), None, &signed(NO_ID, NO_ID_SIG), None));
        assert_eq!(event_type, "linkedin.member_notification");
        assert_eq!(key, NO_ID_SHA256);
    }

    #[test]
    fn rejections() {
        let check = |req: Req| rejected(run(Provider::Linkedin, &config(), None, &req, None));
        assert_eq!(check(signed(BODY, PREFIXED_SIG).flip_body_byte()), Check::SignatureMismatch);
        assert_eq!(check(signed(BODY, BODY_SIG).flip_body_byte()), Check::SignatureMismatch);
        assert_eq!(check(Req::post(BODY)), Check::MissingSignature);
        assert_eq!(check(signed(BODY, "hmacsha256=02027603")), Check::MalformedSignature);
        assert_eq!(check(signed(BODY, "")), Check::MalformedSignature);
    }

    #[test]
    fn previous_secret_matches_during_the_overlap() {
        let rotated = json!({"clientSecret": "new-secret"});
        for sig in [PREFIXED_SIG, BODY_SIG] {
            let (matched, ..) = accepted(run(Provider::Linkedin, &rotated, Some(&config()), &signed(BODY, sig), None));
            assert_eq!(matched, Matched::Previous);
        }
    }

    #[test]
    fn challenge_handshake() {
        let req = Req::get("challengeCode=890e4665-4dfe-4ab1-b689-ed553bceeed7");
        let verdict = run(Provider::Linkedin, &config(), None, &req, None);
        // python3 -c 'import hmac,hashlib; print(hmac.new(b"li-client-secret-4f9a2c71", b"890e4665-4dfe-4ab1-b689-ed553bceeed7", hashlib.sha256).hexdigest())'
        let expected = br#"{"challengeCode":"890e4665-4dfe-4ab1-b689-ed553bceeed7","challengeResponse":"2908fcaaf95ca9494bc040cc3bbdf88549d0dbebd7a99aeaa56d904c2e14f056"}"#;
        assert_eq!(
            verdict,
            Verdict::Handshake { status: 200, content_type: "application/json", body: expected.to_vec() }
        );
        // The current secret answers, even during an overlap.
        let verdict = run(Provider::Linkedin, &config(), Some(&json!({"clientSecret": "old"})), &req, None);
        assert_eq!(
            verdict,
            Verdict::Handshake { status: 200, content_type: "application/json", body: expected.to_vec() }
        );
        assert!(matches!(run(Provider::Linkedin, &config(), None, &Req::get(""), None), Verdict::BadRequest(_)));
        assert!(matches!(
            run(Provider::Linkedin, &config(), None, &Req::get("challengeCode="), None),
            Verdict::BadRequest(_)
        ));
        assert!(matches!(run(Provider::Linkedin, &config(), None, &Req::get("code=1"), None), Verdict::BadRequest(_)));
        assert_eq!(run(Provider::Linkedin, &json!({}), None, &req, None), Verdict::Rejected(Check::WrongCredentials));
    }

    /// The handshake cannot be used to sign a body: a code that is not UUID-like is not
    /// answered, and what it does answer never verifies a POST.
    #[test]
    fn challenge_is_not_a_signing_oracle() {
        for forged_code in ["hmacsha256={\"type\":\"X\"}", "{\"type\":\"X\"}", "a b", &"a".repeat(129)] {
            let query = format!(
                "challengeCode={}",
                url::form_urlencoded::byte_serialize(forged_code.as_bytes()).collect::<String>()
            );
            let verdict = run(Provider::Linkedin, &config(), None, &Req::get(&query), None);
            assert!(matches!(verdict, Verdict::BadRequest(_)), "{forged_code}: {verdict:?}");
        }
        // A UUID-like code is answered, but its HMAC does not verify that code as a body.
        let code = "890e4665-4dfe-4ab1-b689-ed553bceeed7";
        let Verdict::Handshake { body, .. } =
            run(Provider::Linkedin, &config(), None, &Req::get(&format!("challengeCode={code}")), None)
        else {
            panic!("not answered");
        };
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let req = signed(code.as_bytes(), answer["challengeResponse"].as_str().unwrap());
        assert_eq!(rejected(run(Provider::Linkedin, &config(), None, &req, None)), Check::SignatureMismatch);
        // The same body signed as LinkedIn signs (prefixed) is fine.
        let prefixed = hex::encode(super::Algorithm::Sha256.mac(SECRET.as_bytes(), &[b"hmacsha256=", code.as_bytes()]));
        let (matched, ..) =
            accepted(run(Provider::Linkedin, &config(), None, &signed(code.as_bytes(), &prefixed), None));
        assert_eq!(matched, Matched::Prefixed);
    }
}
