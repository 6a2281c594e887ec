//! Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1(authToken, URL + every form parameter's
//! name and value, sorted by name)>`, URL = the URL Twilio called with its query. A JSON
//! body is instead bound by the URL's `bodySHA256` (hex SHA-256 of the body) and the
//! signature is over the URL alone. As Twilio's SDKs do (twilio-python's
//! `RequestValidator`), the URL is tried as called and with its port toggled — without an
//! explicit port if it has one, with the scheme's default port if not — because Twilio's
//! own signing is inconsistent about ports; a parameter's repeated values are sorted and
//! repeated pairs counted once.
//!
//! Twilio's scheme does not bind a form body's exact bytes: it signs the decoded
//! parameters, so reordering or re-encoding them keeps the signature. That is Twilio's
//! design; the dedupe key prefers `I-Twilio-Idempotency-Token` for that reason too.

use std::borrow::Cow;

use serde_json::Value;

use super::mac::{self, Algorithm, Encoding};
use super::scheme::{header, header_text, query_param, Scheme};
use super::{Check, Credentials, Matched, Request};

pub(super) struct Twilio;

/// The form parameters of a body, sorted by name then value, each pair once.
fn sorted_params(body: &[u8]) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    let mut params: Vec<_> = url::form_urlencoded::parse(body).collect();
    params.sort();
    params.dedup();
    params
}

/// `url` with its port toggled: an explicit port removed, or the scheme's default port
/// (`https` 443, `http` 80) added. `None` when the URL has no `scheme://authority`.
fn port_toggled(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let (userinfo, host_port) = authority.split_at(host_start);
    // An IPv6 literal's colons are inside its brackets.
    let port_colon = match host_port.rfind(']') {
        Some(bracket) => host_port[bracket..].find(':').map(|i| bracket + i),
        None => host_port.rfind(':'),
    };
    match port_colon {
        Some(colon) => Some(format!("{scheme}://{userinfo}{}{tail}", &host_port[..colon])),
        None => {
            let port = match scheme.to_ascii_lowercase().as_str() {
                "https" => 443,
                "http" => 80,
                _ => return None,
            };
            Some(format!("{scheme}://{userinfo}{host_port}:{port}{tail}"))
        }
    }
}

impl Scheme for Twilio {
    fn verify(&self, creds: &Credentials, req: &Request) -> Result<Matched, Check> {
        let presented = header(req, "x-twilio-signature").ok_or(Check::MissingSignature)?;
        let presented = Encoding::Base64
            .decode(presented.trim())
            .filter(|mac| mac.len() == Algorithm::Sha1.len())
            .ok_or(Check::MalformedSignature)?;
        // A JSON body: bound by the URL's bodySHA256, no parameters signed.
        let (body_bound, params) = match query_param(req.query, "bodySHA256") {
            Some(hash) => {
                let actual = mac::sha256_hex(req.body);
                (mac::same_mac(actual.as_bytes(), hash.to_ascii_lowercase().as_bytes()), String::new())
            }
            None => (true, sorted_params(req.body).into_iter().map(|(name, value)| name + value).collect()),
        };
        let urls: Vec<String> = std::iter::once(req.url.to_owned()).chain(port_toggled(req.url)).collect();
        mac::try_credentials(creds, "authToken", mac::utf8_key, |key| {
            let any = urls.iter().fold(false, |any, url| {
                mac::same_mac(&Algorithm::Sha1.mac(key, &[url.as_bytes(), params.as_bytes()]), &presented) | any
            });
            (any && body_bound).then_some(Matched::Current)
        })
    }

    /// `twilio.message` (a `MessageSid` parameter), `twilio.call` (`CallSid`), else
    /// `twilio.request`; a JSON body's top-level keys count as parameters.
    fn event_type(&self, req: &Request, body: Option<&Value>) -> Option<String> {
        let form = if body.is_some() { Vec::new() } else { sorted_params(req.body) };
        let has = |name: &str| match body {
            Some(Value::Object(object)) => object.contains_key(name),
            _ => form.iter().any(|(n, _)| n == name),
        };
        let kind = if has("MessageSid") {
            "message"
        } else if has("CallSid") {
            "call"
        } else {
            "request"
        };
        Some(format!("twilio.{kind}"))
    }

    fn dedupe_key(&self, req: &Request, _body: Option<&Value>) -> Option<String> {
        header_text(req, "i-twilio-idempotency-token")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testkit::*;
    use super::super::{mac, Check, Matched, Provider};
    use super::port_toggled;
    use serde_json::json;

    // twilio-python's tests/unit/test_request_validator.py: token "12345", this URL, these
    // parameters → "RSOYDt4T1cUTdK1PDd93/VVr8B8=" (re-computed with python3 hmac/sha1).
    const TOKEN: &str = "12345";
    const BASE: &str = "https://mycompany.com/myapp.php";
    const QUERY: &str = "foo=1&bar=2";
    const FORM: &[u8] =
        b"CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212&Caller=%2B14158675309";

    fn config() -> serde_json::Value {
        json!({"authToken": TOKEN})
    }

    fn signed(base: &str, body: &[u8], signature: &str) -> Req {
        Req::post(body)
            .url(base, QUERY)
            .header("x-twilio-signature", signature)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("i-twilio-idempotency-token", "e2b5d5b5-6e43-4f2c-8a9e-1c2d3e4f5a6b")
    }

    fn verdict(req: &Req) -> super::super::Verdict {
        run(Provider::Twilio, &config(), None, req, None)
    }

    #[test]
    fn sdk_vector() {
        let (matched, event_type, key) = accepted(verdict(&signed(BASE, FORM, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")));
        assert_eq!(matched, Matched::Current);
        assert_eq!(event_type, "twilio.call");
        assert_eq!(key, "e2b5d5b5-6e43-4f2c-8a9e-1c2d3e4f5a6b");
        // The parameters' order in the body does not matter: they are sorted.
        let reordered =
            b"To=%2B18005551212&Caller=%2B14158675309&From=%2B14158675309&Digits=1234&CallSid=CA1234567890ABCDE";
        accepted(verdict(&signed(BASE, reordered, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")));
    }

    #[test]
    fn docs_parameters() {
        // Twilio's security docs list these parameters (From/Caller +12349013030). python3:
        // s = URL + "".join(k + p[k] for k in sorted(p)); base64.b64encode(hmac.new(b"12345",
        // s.encode(), hashlib.sha1).digest()) → "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" (the docs'
        // "RSOYDt4T1cUTdK1PDd93/VVr8B8=" belongs to the SDK's +14158675309 parameters).
        let form = b"CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
        accepted(verdict(&signed(BASE, form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")));
        assert_eq!(rejected(verdict(&signed(BASE, form, "RSOYDt4T1cUTdK1PDd93/VVr8B8="))), Check::SignatureMismatch);
    }

    #[test]
    fn ports() {
        // SDK: signed without the port that the called URL has (https and http).
        accepted(verdict(&signed("https://mycompany.com:1234/myapp.php", FORM, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")));
        accepted(verdict(&signed("http://mycompany.com:1234/myapp.php", FORM, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=")));
        // SDK: signed with the default port that the called URL lacks.
        accepted(verdict(&signed(BASE, FORM, "kvajT1Ptam85bY51eRf/AJRuM3w=")));
        accepted(verdict(&signed("http://mycompany.com/myapp.php", FORM, "0ZXoZLH/DfblKGATFgpif+LLRf4=")));
        // Another host is another URL.
        let other = signed("https://other.com/myapp.php", FORM, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert_eq!(rejected(verdict(&other)), Check::SignatureMismatch);
    }

    #[test]
    fn port_toggling() {
        assert_eq!(port_toggled("https://a.com:8443/x?y=1").as_deref(), Some("https://a.com/x?y=1"));
        assert_eq!(port_toggled("https://a.com/x?y=1").as_deref(), Some("https://a.com:443/x?y=1"));
        assert_eq!(port_toggled("http://a.com").as_deref(), Some("http://a.com:80"));
        assert_eq!(port_toggled("http://u:p@a.com:80?q").as_deref(), Some("http://u:p@a.com?q"));
        assert_eq!(port_toggled("https://[::1]:8443/x").as_deref(), Some("https://[::1]/x"));
        assert_eq!(port_toggled("https://[::1]/x").as_deref(), Some("https://[::1]:443/x"));
        assert_eq!(port_toggled("ftp://a.com/x"), None);
        assert_eq!(port_toggled("not a url"), None);
    }

    #[test]
    fn repeated_parameters() {
        // SDK: Digits=5678&Digits=1234&Digits=1234 → values sorted, duplicates once.
        let body = b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234";
        let (_, event_type, _) = accepted(verdict(&signed(BASE, body, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")));
        assert_eq!(event_type, "twilio.request");
    }

    #[test]
    fn json_body_bound_by_body_sha256() {
        // SDK: body '{"property": "value", "boolean": true}', its SHA-256 in the URL, the
        // signature over the URL alone.
        let body = br#"{"property": "value", "boolean": true}"#;
        let hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert_eq!(mac::sha256_hex(body), hash);
        let query = format!("{QUERY}&bodySHA256={hash}");
        let req = Req::post(body)
            .url(BASE, &query)
            .header("x-twilio-signature", "a9nBmqA0ju/hNViExpshrM61xv4=")
            .header("content-type", "application/json");
        let (matched, event_type, key) = accepted(verdict(&req));
        assert_eq!(matched, Matched::Current);
        assert_eq!(event_type, "twilio.request");
        assert_eq!(key, hash);
        // The body must be the one hashed.
        assert_eq!(rejected(verdict(&req.clone().flip_body_byte())), Check::SignatureMismatch);
    }

    #[test]
    fn message_type() {
        // python3 as in docs_parameters, over the parameters {"MessageSid": "SM1", "Body": "hi"}.
        let body = b"MessageSid=SM1&Body=hi";
        let (_, event_type, key) = accepted(verdict(
            &signed(BASE, body, "gg6ux53tkSWSV2wobEwVZleHKo0=").remove_header("i-twilio-idempotency-token"),
        ));
        assert_eq!(event_type, "twilio.message");
        assert_eq!(key, mac::sha256_hex(body));
    }

    #[test]
    fn rejections() {
        let ok = signed(BASE, FORM, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert_eq!(rejected(verdict(&ok.clone().flip_body_byte())), Check::SignatureMismatch);
        assert_eq!(rejected(verdict(&ok.clone().remove_header("x-twilio-signature"))), Check::MissingSignature);
        for garbage in ["garbage!", "RSOYDt4T1cUTdK1P", "cnNveWR0"] {
            assert_eq!(
                rejected(verdict(&ok.clone().replace_header("x-twilio-signature", garbage))),
                Check::MalformedSignature
            );
        }
        // The query is signed: another query is another URL.
        let mut other_query = ok.clone();
        other_query.url = format!("{BASE}?foo=1&bar=3");
        assert_eq!(rejected(verdict(&other_query)), Check::SignatureMismatch);
        assert_eq!(rejected(run(Provider::Twilio, &json!({}), None, &ok, None)), Check::WrongCredentials);
    }

    #[test]
    fn previous_token_matches_during_the_overlap() {
        let ok = signed(BASE, FORM, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        let (matched, ..) =
            accepted(run(Provider::Twilio, &json!({"authToken": "new-token"}), Some(&config()), &ok, None));
        assert_eq!(matched, Matched::Previous);
    }
}
