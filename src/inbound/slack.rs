//! Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(signingSecret, "v0:" + ts + ":" + raw
//! body)>` with `ts` = `X-Slack-Request-Timestamp` within 300 s of now. A verified
//! `url_verification` is answered with its challenge and not published.

use serde_json::Value;

use super::mac::{Algorithm, Encoding, HeaderMac};
use super::scheme::{json_text, timestamp, within_window, Scheme};
use super::{Check, Credentials, Matched, Request, Verdict};

const SIGNATURE: HeaderMac<'static> = HeaderMac {
    header: "x-slack-signature",
    prefix: "v0=",
    encoding: Encoding::Hex,
    algorithm: Algorithm::Sha256,
    secret: "signingSecret",
};

const TIMESTAMP: &str = "x-slack-request-timestamp";

pub(super) struct Slack;

impl Scheme for Slack {
    fn verify(&self, creds: &Credentials, req: &Request) -> Result<Matched, Check> {
        // The signature header is looked at first, so an unsigned request is
        // `missing_signature` whatever else it lacks.
        SIGNATURE.presented(req)?;
        // Slack's SDKs sign the header's text as received.
        let (ts, seconds) = timestamp(req, TIMESTAMP)?;
        let matched = SIGNATURE.verify(creds, req, &[(Matched::Current, &[b"v0:", ts.as_bytes(), b":", req.body])])?;
        within_window(req, seconds)?;
        Ok(matched)
    }

    fn handshake(&self, _req: &Request, body: Option<&Value>) -> Option<Verdict> {
        if json_text(body, &["type"]).as_deref() != Some("url_verification") {
            return None;
        }
        Some(match json_text(body, &["challenge"]) {
            Some(challenge) => {
                Verdict::Handshake { status: 200, content_type: "text/plain", body: challenge.into_bytes() }
            }
            None => Verdict::BadRequest("url_verification without a challenge".to_owned()),
        })
    }

    /// `slack.<event.type>` (Events API), else `slack.<type>`. A form body (slash commands,
    /// interactivity) has neither: `slack.event`.
    fn event_type(&self, _req: &Request, body: Option<&Value>) -> Option<String> {
        let t = json_text(body, &["event", "type"]).or_else(|| json_text(body, &["type"]))?;
        Some(format!("slack.{t}"))
    }

    fn dedupe_key(&self, _req: &Request, body: Option<&Value>) -> Option<String> {
        json_text(body, &["event_id"])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testkit::*;
    use super::super::{mac, Check, Matched, Provider, Verdict};
    use serde_json::json;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

    fn config() -> serde_json::Value {
        json!({"signingSecret": SECRET})
    }

    fn signed(body: &[u8], ts: &str, signature: &str) -> Req {
        Req::post(body).header("x-slack-request-timestamp", ts).header("x-slack-signature", signature)
    }

    /// https://api.slack.com/authentication/verifying-requests-from-slack (checked with
    /// python3 hmac: the value below is what it computes).
    const DOCS_BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const DOCS_SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn slack_docs_vector() {
        let req = signed(DOCS_BODY, "1531420618", DOCS_SIG).now(1_531_420_618 + 10);
        let (matched, event_type, key) = accepted(run(Provider::Slack, &config(), None, &req, None));
        assert_eq!(matched, Matched::Current);
        assert_eq!(event_type, "slack.event");
        // python3 -c 'import hashlib; print(hashlib.sha256(DOCS_BODY).hexdigest())'
        assert_eq!(key, "390eeeff8d0cb7c9f6ecf8a88c3df6452fea0914eb02f64844369f3758d8d330");
        assert_eq!(key, mac::sha256_hex(DOCS_BODY));
        // At the machine's clock that request is years old.
        assert_eq!(rejected(run(Provider::Slack, &config(), None, &req.now(NOW), None)), Check::TimestampOutOfWindow);
    }

    const EVENT: &[u8] = br#"{"token":"XXYYZZ","team_id":"T123ABC456","api_app_id":"A123ABC456","event":{"type":"app_mention","user":"U123ABC456","text":"<@U0LAN0Z89> hi","ts":"1515449522.000016","channel":"C123ABC456"},"type":"event_callback","event_id":"Ev123ABC456","event_time":1515449522}"#;
    // python3 -c 'import hmac,hashlib; print(hmac.new(b"8f742231b10e8888abcd99yyyzzz85a5", b"v0:1700000000:" + EVENT, hashlib.sha256).hexdigest())'
    const EVENT_SIG: &str = "v0=f5d24ceeb4d06a1743b2100064aa019a2e2801b61a5f48f8fec19e68a787200e";
    // Same with ts 1699999000.
    const EVENT_SIG_STALE: &str = "v0=7252c698c8c605b964e8f0b7a1b98c9dc91687e3bc41b78ac6c29e26366f4895";
    // Same with the key b"old-slack-signing-secret" and ts 1700000000.
    const EVENT_SIG_OLD: &str = "v0=eaaa60081f6007d938caf2a24c7e368cf2c71d4ca22ddba67f32278f9c89e267";

    #[test]
    fn event_callback_is_accepted() {
        let (matched, event_type, key) =
            accepted(run(Provider::Slack, &config(), None, &signed(EVENT, "1700000000", EVENT_SIG), None));
        assert_eq!(matched, Matched::Current);
        assert_eq!(event_type, "slack.app_mention");
        assert_eq!(key, "Ev123ABC456");
    }

    #[test]
    fn url_verification_is_a_verified_handshake() {
        let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
        // Same computation as EVENT_SIG over this body.
        let sig = "v0=76c303eba32e8ec5639c84f822b2c64cdb1ea7e94fdd6d7b0b958d8e40c0959f";
        let verdict = run(Provider::Slack, &config(), None, &signed(body, "1700000000", sig), None);
        assert_eq!(
            verdict,
            Verdict::Handshake {
                status: 200,
                content_type: "text/plain",
                body: b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P".to_vec()
            }
        );
        // Unsigned, it is not answered.
        assert_eq!(rejected(run(Provider::Slack, &config(), None, &Req::post(body), None)), Check::MissingSignature);
    }

    #[test]
    fn timestamp_window() {
        let check = |req: Req| rejected(run(Provider::Slack, &config(), None, &req, None));
        assert_eq!(check(signed(EVENT, "1699999000", EVENT_SIG_STALE)), Check::TimestampOutOfWindow);
        assert_eq!(check(signed(EVENT, "1700000000", EVENT_SIG_STALE)), Check::SignatureMismatch);
        assert_eq!(check(signed(EVENT, "1700000000", EVENT_SIG).now(NOW + 301)), Check::TimestampOutOfWindow);
        accepted(run(Provider::Slack, &config(), None, &signed(EVENT, "1700000000", EVENT_SIG).now(NOW - 300), None));
    }

    #[test]
    fn rejections() {
        let check = |req: Req| rejected(run(Provider::Slack, &config(), None, &req, None));
        let ok = signed(EVENT, "1700000000", EVENT_SIG);
        assert_eq!(check(ok.clone().flip_body_byte()), Check::SignatureMismatch);
        assert_eq!(check(ok.clone().remove_header("x-slack-signature")), Check::MissingSignature);
        assert_eq!(check(Req::post(EVENT)), Check::MissingSignature);
        assert_eq!(check(ok.clone().remove_header("x-slack-request-timestamp")), Check::MissingSignature);
        assert_eq!(
            check(ok.clone().replace_header("x-slack-request-timestamp", "yesterday")),
            Check::MalformedSignature
        );
        for garbage in [
            "garbage",
            &EVENT_SIG[3..],
            "v1=f5d24ceeb4d06a1743b2100064aa019a2e2801b61a5f48f8fec19e68a787200e",
            "v0=xyz",
        ] {
            assert_eq!(
                check(ok.clone().replace_header("x-slack-signature", garbage)),
                Check::MalformedSignature,
                "{garbage}"
            );
        }
        assert_eq!(
            rejected(run(Provider::Slack, &json!({"signingSecret": null}), None, &ok, None)),
            Check::WrongCredentials
        );
    }

    #[test]
    fn previous_secret_matches_during_the_overlap() {
        let previous = json!({"signingSecret": "old-slack-signing-secret"});
        let req = signed(EVENT, "1700000000", EVENT_SIG_OLD);
        let (matched, ..) = accepted(run(Provider::Slack, &config(), Some(&previous), &req, None));
        assert_eq!(matched, Matched::Previous);
    }
}
