//! Meta (WhatsApp Cloud, Messenger, Instagram) and GitHub: both sign with
//! `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`. Meta also checks the
//! URL with a GET handshake that hookrelay answers.

use serde_json::Value;

use super::mac::{Algorithm, Encoding, HeaderMac};
use super::scheme::{header_text, json_text, query_param, Scheme};
use super::{mac, Check, Credentials, Matched, Request, Verdict};

/// `X-Hub-Signature-256`, keyed by the config field `secret`.
const fn hub_signature(secret: &'static str) -> HeaderMac<'static> {
    HeaderMac {
        header: "x-hub-signature-256",
        prefix: "sha256=",
        encoding: Encoding::Hex,
        algorithm: Algorithm::Sha256,
        secret,
    }
}

pub(super) struct Meta;

impl Scheme for Meta {
    /// `GET ?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C`: T equal to the
    /// source's `verifyToken` → 200 with C, else 403.
    fn challenge(&self, creds: &Credentials, req: &Request) -> Option<Verdict> {
        if query_param(req.query, "hub.mode").as_deref() != Some("subscribe") {
            return Some(Verdict::BadRequest(
                "a GET to a meta source must be Meta's verification request \
                 (hub.mode=subscribe, hub.verify_token, hub.challenge)"
                    .to_owned(),
            ));
        }
        let presented = query_param(req.query, "hub.verify_token").unwrap_or_default();
        // Every comparison runs, so the time does not say which config matched.
        let matches = [Some(creds.current), creds.previous]
            .into_iter()
            .flatten()
            .filter_map(|config| mac::field(config, "verifyToken"))
            .fold(false, |any, token| mac::same_secret(presented.as_bytes(), token.as_bytes()) | any);
        if !matches {
            return Some(Verdict::Handshake {
                status: 403,
                content_type: "text/plain",
                body: b"hub.verify_token does not match the source's verifyToken".to_vec(),
            });
        }
        Some(match query_param(req.query, "hub.challenge") {
            Some(challenge) => {
                Verdict::Handshake { status: 200, content_type: "text/plain", body: challenge.into_bytes() }
            }
            None => Verdict::BadRequest("hub.challenge is missing".to_owned()),
        })
    }

    fn verify(&self, creds: &Credentials, req: &Request) -> Result<Matched, Check> {
        hub_signature("appSecret").verify(creds, req, &[(Matched::Current, &[req.body])])
    }

    /// `meta.<object>.<field>`: `entry[0].changes[0].field`, or `messaging` when
    /// `entry[0].messaging` exists.
    fn event_type(&self, _req: &Request, body: Option<&Value>) -> Option<String> {
        let object = json_text(body, &["object"])?;
        let field = json_text(body, &["entry", "0", "changes", "0", "field"])
            .or_else(|| body?.get("entry")?.get(0)?.get("messaging").map(|_| "messaging".to_owned()))?;
        Some(format!("meta.{object}.{field}"))
    }
}

pub(super) struct Github;

impl Scheme for Github {
    fn verify(&self, creds: &Credentials, req: &Request) -> Result<Matched, Check> {
        hub_signature("secret").verify(creds, req, &[(Matched::Current, &[req.body])])
    }

    /// `github.<X-GitHub-Event>`, `.<action>` appended when the body has one.
    fn event_type(&self, req: &Request, body: Option<&Value>) -> Option<String> {
        let event = header_text(req, "x-github-event")?;
        Some(match json_text(body, &["action"]) {
            Some(action) => format!("github.{event}.{action}"),
            None => format!("github.{event}"),
        })
    }

    fn dedupe_key(&self, req: &Request, _body: Option<&Value>) -> Option<String> {
        header_text(req, "x-github-delivery")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Check, Matched, Provider, Verdict};
    use serde_json::json;

    const APP_SECRET: &str = "meta-app-secret-0123456789abcdef";
    const WHATSAPP: &[u8] = br#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","messages":[{"id":"wamid.HBgL","type":"text"}]},"field":"messages"}]}]}"#;
    /// python3 -c 'import hmac,hashlib; print(hmac.new(b"meta-app-secret-0123456789abcdef", open("whatsapp.json","rb").read(), hashlib.sha256).hexdigest())'
    const WHATSAPP_SIG: &str = "sha256=37835328475120a59ab741e76b498fa27d89eb2007ff03bcfe17b792f1022644";
    const PAGE: &[u8] = br#"{"object":"page","entry":[{"id":"1","time":1458692752478,"messaging":[{"sender":{"id":"2"},"message":{"mid":"m_1","text":"hi"}}]}]}"#;
    /// Same computation over PAGE.
    const PAGE_SIG: &str = "sha256=a5091337a0c7f7d8bfe81374b9fd8ab7009ad432b83364e354009291bcb9faa3";

    fn current() -> serde_json::Value {
        json!({"appSecret": APP_SECRET, "verifyToken": "my-verify-token"})
    }

    fn whatsapp() -> Req {
        Req::post(WHATSAPP).header("x-hub-signature-256", WHATSAPP_SIG).header("content-type", "application/json")
    }

    #[test]
    fn whatsapp_message_is_accepted() {
        let (matched, event_type, key) = accepted(run(Provider::Meta, &current(), None, &whatsapp(), None));
        assert_eq!(matched, Matched::Current);
        assert_eq!(event_type, "meta.whatsapp_business_account.messages");
        // python3 -c 'import hashlib; print(hashlib.sha256(open("whatsapp.json","rb").read()).hexdigest())'
        assert_eq!(key, "24be4e033ffb6272c83e5ced9536e67bbeeaa03618f9cc65c08d980748ab741d");
    }

    #[test]
    fn messenger_page_is_accepted() {
        let req = Req::post(PAGE).header("x-hub-signature-256", PAGE_SIG);
        let (_, event_type, _) = accepted(run(Provider::Meta, &current(), None, &req, None));
        assert_eq!(event_type, "meta.page.messaging");
    }

    #[test]
    fn rejections() {
        let check = |req: Req| rejected(run(Provider::Meta, &current(), None, &req, None));
        assert_eq!(check(whatsapp().flip_body_byte()), Check::SignatureMismatch);
        assert_eq!(check(Req::post(WHATSAPP)), Check::MissingSignature);
        for garbage in ["garbage", "sha256=zz", "sha1=37835328475120a59ab741e76b498fa27d89eb20", &WHATSAPP_SIG[7..]] {
            assert_eq!(check(whatsapp().replace_header("x-hub-signature-256", garbage)), Check::MalformedSignature);
        }
        // A broken config fails closed.
        let req = whatsapp();
        assert_eq!(
            rejected(run(Provider::Meta, &json!({"verifyToken": "t"}), None, &req, None)),
            Check::WrongCredentials
        );
        assert_eq!(rejected(run(Provider::Meta, &json!({"appSecret": 7}), None, &req, None)), Check::WrongCredentials);
        assert_eq!(rejected(run(Provider::Meta, &json!({"appSecret": ""}), None, &req, None)), Check::WrongCredentials);
    }

    #[test]
    fn previous_secret_matches_during_the_overlap() {
        let rotated = json!({"appSecret": "the-new-secret", "verifyToken": "my-verify-token"});
        let (matched, ..) = accepted(run(Provider::Meta, &rotated, Some(&current()), &whatsapp(), None));
        assert_eq!(matched, Matched::Previous);
        assert_eq!(rejected(run(Provider::Meta, &rotated, None, &whatsapp(), None)), Check::SignatureMismatch);
    }

    #[test]
    fn verification_handshake() {
        let get = |query: &str| run(Provider::Meta, &current(), None, &Req::get(query), None);
        assert_eq!(
            get("hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=1158201444"),
            Verdict::Handshake { status: 200, content_type: "text/plain", body: b"1158201444".to_vec() }
        );
        // Query values are percent-decoded.
        let rotated = json!({"appSecret": APP_SECRET, "verifyToken": "a b&c"});
        let verdict = run(
            Provider::Meta,
            &rotated,
            None,
            &Req::get("hub.mode=subscribe&hub.verify_token=a+b%26c&hub.challenge=x%2By"),
            None,
        );
        assert_eq!(verdict, Verdict::Handshake { status: 200, content_type: "text/plain", body: b"x+y".to_vec() });
        for wrong in [
            "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
            "hub.mode=subscribe&hub.challenge=1",
            "hub.mode=subscribe&hub.verify_token=&hub.challenge=1",
        ] {
            assert!(
                matches!(get(wrong), Verdict::Handshake { status: 403, content_type: "text/plain", .. }),
                "{wrong}"
            );
        }
        // No verifyToken configured: nothing matches, not even an empty token.
        let verdict = run(
            Provider::Meta,
            &json!({"appSecret": "s"}),
            None,
            &Req::get("hub.mode=subscribe&hub.verify_token=&hub.challenge=1"),
            None,
        );
        assert!(matches!(verdict, Verdict::Handshake { status: 403, .. }));
        // The previous token still verifies during the overlap.
        let old = json!({"appSecret": APP_SECRET, "verifyToken": "old-token"});
        let verdict = run(
            Provider::Meta,
            &current(),
            Some(&old),
            &Req::get("hub.mode=subscribe&hub.verify_token=old-token&hub.challenge=c"),
            None,
        );
        assert!(matches!(verdict, Verdict::Handshake { status: 200, .. }));
        // Not a subscribe request, or no challenge: 400.
        for bad in [
            "",
            "hub.mode=unsubscribe&hub.verify_token=my-verify-token&hub.challenge=1",
            "hub.mode=subscribe&hub.verify_token=my-verify-token",
        ] {
            assert!(matches!(get(bad), Verdict::BadRequest(_)), "{bad}");
        }
    }

    const GITHUB_SECRET: &str = "It's a Secret to Everybody";

    fn github(body: &[u8], signature: &str) -> Req {
        Req::post(body)
            .header("x-hub-signature-256", signature)
            .header("x-github-event", "ping")
            .header("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
    }

    #[test]
    fn github_docs_vector() {
        // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
        let req = github(b"Hello, World!", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
        let (matched, event_type, key) =
            accepted(run(Provider::Github, &json!({"secret": GITHUB_SECRET}), None, &req, None));
        assert_eq!(matched, Matched::Current);
        assert_eq!(event_type, "github.ping");
        assert_eq!(key, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
        // Hex in upper case is the same MAC.
        let req = github(b"Hello, World!", "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17");
        accepted(run(Provider::Github, &json!({"secret": GITHUB_SECRET}), None, &req, None));
    }

    const PR: &[u8] = br#"{"action":"opened","number":1,"pull_request":{"id":1}}"#;
    /// python3 -c 'import hmac,hashlib; print(hmac.new(b"It'"'"'s a Secret to Everybody", PR, hashlib.sha256).hexdigest())'
    const PR_SIG: &str = "sha256=97ffd4815c37d0e6337e8d82cf63fc540cd71b0a457c0ec34c68476da37768cf";

    #[test]
    fn github_action_and_fallbacks() {
        let secret = json!({"secret": GITHUB_SECRET});
        let req = github(PR, PR_SIG).replace_header("x-github-event", "pull_request");
        let (_, event_type, _) = accepted(run(Provider::Github, &secret, None, &req, None));
        assert_eq!(event_type, "github.pull_request.opened");
        // No delivery id → SHA-256 of the body; no event header → github.event.
        let req = Req::post(PR).header("x-hub-signature-256", PR_SIG);
        let (_, event_type, key) = accepted(run(Provider::Github, &secret, None, &req, None));
        assert_eq!(event_type, "github.event");
        assert_eq!(key, super::mac::sha256_hex(PR));
    }

    #[test]
    fn github_rejections_and_previous() {
        let secret = json!({"secret": GITHUB_SECRET});
        let ok = github(PR, PR_SIG);
        let check = |req: Req| rejected(run(Provider::Github, &secret, None, &req, None));
        assert_eq!(check(ok.clone().flip_body_byte()), Check::SignatureMismatch);
        assert_eq!(check(ok.clone().remove_header("x-hub-signature-256")), Check::MissingSignature);
        assert_eq!(check(ok.clone().replace_header("x-hub-signature-256", "sha256=nothex")), Check::MalformedSignature);
        let rotated = json!({"secret": "new-secret"});
        let (matched, ..) = accepted(run(Provider::Github, &rotated, Some(&secret), &ok, None));
        assert_eq!(matched, Matched::Previous);
    }
}
