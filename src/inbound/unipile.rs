//! Unipile signs nothing: its webhook creation takes custom headers, so the source's
//! `headerName` (default `X-Hookrelay-Token`) must carry the generated `headerValue`.

use serde_json::{Map, Value};

use super::scheme::{header, json_text, Scheme};
use super::{mac, Check, Credentials, Matched, Request};

pub(super) const DEFAULT_HEADER: &str = "X-Hookrelay-Token";

/// The configured header's name, lower-cased (as request header names are).
pub(super) fn header_name(config: &Map<String, Value>) -> String {
    mac::field(config, "headerName").unwrap_or(DEFAULT_HEADER).to_ascii_lowercase()
}

pub(super) struct Unipile;

impl Scheme for Unipile {
    /// No header → `MissingSignature`; a value that is not the configured one →
    /// `WrongCredentials` (a shared token, not a signature, is what failed).
    fn verify(&self, creds: &Credentials, req: &Request) -> Result<Matched, Check> {
        let presented = header(req, &header_name(creds.current)).ok_or(Check::MissingSignature)?;
        mac::try_credentials(creds, "headerValue", mac::utf8_key, |configured| {
            mac::same_secret(presented.as_bytes(), configured).then_some(Matched::Current)
        })
        .map_err(|_| Check::WrongCredentials)
    }

    fn event_type(&self, _req: &Request, body: Option<&Value>) -> Option<String> {
        json_text(body, &["event"]).map(|event| format!("unipile.{event}"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testkit::*;
    use super::super::{mac, Check, Matched, Provider};
    use serde_json::json;

    const VALUE: &str = "Vq3nX0yGm9dWJkL2sTzP8bR4uE7hC1aF6oN5iK0xQwY";
    const BODY: &[u8] = br#"{"event":"message_received","account_id":"acc_1","message_id":"m_1","message":"hi"}"#;

    fn config() -> serde_json::Value {
        json!({"headerName": "X-Hookrelay-Token", "headerValue": VALUE})
    }

    fn signed() -> Req {
        Req::post(BODY).header("x-hookrelay-token", VALUE)
    }

    #[test]
    fn token_header_is_accepted() {
        let (matched, event_type, key) = accepted(run(Provider::Unipile, &config(), None, &signed(), None));
        assert_eq!(matched, Matched::Current);
        assert_eq!(event_type, "unipile.message_received");
        // python3 -c 'import hashlib; print(hashlib.sha256(BODY).hexdigest())'
        assert_eq!(key, "98c0619dfeb4e43cc94424973688d5536f2013afa4616cde7d1aac097ff85d56");
        assert_eq!(key, mac::sha256_hex(BODY));
        // The body is not signed: changing it changes nothing but the key.
        accepted(run(Provider::Unipile, &config(), None, &signed().flip_body_byte(), None));
    }

    #[test]
    fn configured_header_name_any_case_and_default() {
        let custom = json!({"headerName": "Authorization", "headerValue": "Bearer abcdefghijklmnop"});
        let req = Req::post(BODY).header("authorization", "Bearer abcdefghijklmnop");
        accepted(run(Provider::Unipile, &custom, None, &req, None));
        // No headerName in the config: the default.
        accepted(run(Provider::Unipile, &json!({"headerValue": VALUE}), None, &signed(), None));
    }

    #[test]
    fn rejections() {
        let check = |req: Req| rejected(run(Provider::Unipile, &config(), None, &req, None));
        assert_eq!(check(Req::post(BODY)), Check::MissingSignature);
        assert_eq!(check(Req::post(BODY).header("x-other", VALUE)), Check::MissingSignature);
        assert_eq!(check(signed().replace_header("x-hookrelay-token", "wrong")), Check::WrongCredentials);
        assert_eq!(check(signed().replace_header("x-hookrelay-token", &VALUE[1..])), Check::WrongCredentials);
        assert_eq!(check(signed().replace_header("x-hookrelay-token", "")), Check::WrongCredentials);
        // No headerValue configured: nothing matches, not even an empty header.
        let req = Req::post(BODY).header("x-hookrelay-token", "");
        assert_eq!(rejected(run(Provider::Unipile, &json!({}), None, &req, None)), Check::WrongCredentials);
    }

    #[test]
    fn previous_value_matches_during_the_overlap() {
        let rotated = json!({"headerName": "X-Hookrelay-Token", "headerValue": "a-new-value-0123456789"});
        let (matched, ..) = accepted(run(Provider::Unipile, &rotated, Some(&config()), &signed(), None));
        assert_eq!(matched, Matched::Previous);
    }
}
