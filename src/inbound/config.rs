//! A source's `config` per provider (SPEC's provider table): which fields, which are
//! required and write-only, how each is checked, and the defaults filled on create.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde_json::{Map, Value};

use super::mac::{Algorithm, Encoding};
use super::{standard, unipile, Provider};

/// How a field's value is checked (every field is a string).
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// A credential or token: 1–1024 bytes, no control characters.
    Text,
    /// Stripe's signing secret: `Text` starting `whsec_`.
    StripeSecret,
    /// A Standard Webhooks secret: `whsec_` + standard base64 of the key.
    StandardSecret,
    /// A request header's name: an HTTP token hookrelay does not need for itself.
    HeaderName,
    /// A value sent in a header: 16–1024 printable ASCII characters, no surrounding spaces.
    HeaderValue,
    /// The `hmac` prefix: 0–64 printable ASCII characters.
    Prefix,
    OneOf(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy)]
struct Field {
    name: &'static str,
    rule: Rule,
    /// Required on create (a default may fill it first: see `fill_defaults`).
    required: bool,
}

const fn required(name: &'static str, rule: Rule) -> Field {
    Field { name, rule, required: true }
}

const fn optional(name: &'static str, rule: Rule) -> Field {
    Field { name, rule, required: false }
}

const META: &[Field] = &[required("appSecret", Rule::Text), required("verifyToken", Rule::Text)];
const AUTH_TOKEN: &[Field] = &[required("authToken", Rule::Text)];
const LINKEDIN: &[Field] = &[required("clientSecret", Rule::Text)];
const UNIPILE: &[Field] = &[optional("headerName", Rule::HeaderName), optional("headerValue", Rule::HeaderValue)];
const STRIPE: &[Field] = &[required("signingSecret", Rule::StripeSecret)];
const SECRET: &[Field] = &[required("secret", Rule::Text)];
const SLACK: &[Field] = &[required("signingSecret", Rule::Text)];
const STANDARD: &[Field] = &[required("secret", Rule::StandardSecret)];
const HMAC: &[Field] = &[
    required("secret", Rule::Text),
    required("header", Rule::HeaderName),
    required("algorithm", Rule::OneOf(&Algorithm::NAMES)),
    required("encoding", Rule::OneOf(&Encoding::NAMES)),
    optional("prefix", Rule::Prefix),
];

/// Whether `provider`'s config has a field `name`: a source stores only those.
pub fn is_config_field(provider: Provider, name: &str) -> bool {
    fields(provider).iter().any(|f| f.name == name)
}

fn fields(provider: Provider) -> &'static [Field] {
    match provider {
        Provider::Meta => META,
        Provider::Viber | Provider::Twilio => AUTH_TOKEN,
        Provider::Linkedin => LINKEDIN,
        Provider::Unipile => UNIPILE,
        Provider::Stripe => STRIPE,
        Provider::Github | Provider::Shopify => SECRET,
        Provider::Slack => SLACK,
        Provider::StandardWebhooks => STANDARD,
        Provider::Hmac => HMAC,
        Provider::None => &[],
    }
}

/// The write-only fields (SPEC: `appSecret`, `authToken`, `clientSecret`, `signingSecret`,
/// `secret`, `headerValue`), each provider's that it has. Meta's `verifyToken` is not one:
/// the tenant pastes it into Meta's console and reads it back from hookrelay.
pub(super) fn secret_fields(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::Meta => &["appSecret"],
        Provider::Viber | Provider::Twilio => &["authToken"],
        Provider::Linkedin => &["clientSecret"],
        Provider::Unipile => &["headerValue"],
        Provider::Stripe | Provider::Slack => &["signingSecret"],
        Provider::Github | Provider::Shopify | Provider::StandardWebhooks | Provider::Hmac => &["secret"],
        Provider::None => &[],
    }
}

/// Headers a source cannot use for a credential: the request's framing, which proxies and
/// hookrelay itself read or drop (a `unipile` or `hmac` header must reach the check intact).
const RESERVED_HEADERS: [&str; 10] = [
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "expect",
];

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        )
}

fn printable_ascii(s: &str) -> bool {
    s.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// The message for a string that breaks `rule`, or `None`.
fn rule_error(rule: Rule, s: &str) -> Option<String> {
    match rule {
        Rule::Text | Rule::StripeSecret => {
            if s.is_empty() || s.len() > 1024 || s.chars().any(char::is_control) {
                return Some("must be 1-1024 bytes without control characters".to_owned());
            }
            if matches!(rule, Rule::StripeSecret) && !s.starts_with("whsec_") {
                return Some("must be the endpoint's signing secret, which starts with whsec_".to_owned());
            }
            None
        }
        Rule::StandardSecret => match s.strip_prefix("whsec_") {
            Some(_) if standard::key(s).is_some() && s.len() <= 1024 => None,
            _ => Some("must be whsec_ followed by the standard base64 of the key".to_owned()),
        },
        Rule::HeaderName => {
            let lower = s.to_ascii_lowercase();
            if s.is_empty() || s.len() > 128 || !s.bytes().all(is_tchar) {
                Some("must be a header name: 1-128 characters of an HTTP token (RFC 9110 tchar)".to_owned())
            } else if RESERVED_HEADERS.contains(&lower.as_str()) || lower.starts_with("proxy-") {
                Some(format!("{s} cannot carry a credential: proxies and HTTP framing use it"))
            } else {
                None
            }
        }
        Rule::HeaderValue => {
            let ok = (16..=1024).contains(&s.len()) && printable_ascii(s) && s.trim() == s;
            (!ok).then(|| "must be 16-1024 printable ASCII characters, without leading or trailing spaces".to_owned())
        }
        Rule::Prefix => {
            let ok = s.len() <= 64 && printable_ascii(s);
            (!ok).then(|| "must be at most 64 printable ASCII characters".to_owned())
        }
        Rule::OneOf(allowed) => (!allowed.contains(&s)).then(|| format!("must be one of {}", allowed.join(", "))),
    }
}

/// Checks a source's `config` for `provider`: on create (`patch` false) every required
/// field must be there; on a PATCH only the fields sent are checked. Unknown fields are
/// ignored. Returns `(field path, message)` per failure, empty when the config is valid.
pub fn validate_config(provider: Provider, config: &Map<String, Value>, patch: bool) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    for field in fields(provider) {
        let path = format!("config.{}", field.name);
        match config.get(field.name) {
            None if field.required && !patch => errors.push((path, "is required".to_owned())),
            None => {}
            Some(Value::String(s)) => errors.extend(rule_error(field.rule, s).map(|msg| (path, msg))),
            Some(_) => errors.push((path, "must be a string".to_owned())),
        }
    }
    errors
}

/// Fills the defaults of a config being created: `unipile`'s `headerName`
/// (`X-Hookrelay-Token`) and `headerValue` (32 random bytes, base64url without padding:
/// shown whole once, in the create answer), `hmac`'s `prefix` (`""`). Returns whether a
/// `headerValue` was generated.
pub fn fill_defaults(provider: Provider, config: &mut Map<String, Value>) -> bool {
    match provider {
        Provider::Unipile => {
            config.entry("headerName").or_insert_with(|| Value::from(unipile::DEFAULT_HEADER));
            if config.contains_key("headerValue") {
                return false;
            }
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            config.insert("headerValue".to_owned(), Value::from(URL_SAFE_NO_PAD.encode(bytes)));
            true
        }
        Provider::Hmac => {
            config.entry("prefix").or_insert_with(|| Value::from(""));
            false
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(provider: Provider, config: Value, patch: bool) -> Vec<String> {
        validate_config(provider, config.as_object().unwrap(), patch).into_iter().map(|(f, _)| f).collect()
    }

    fn valid(provider: Provider) -> Value {
        match provider {
            Provider::Meta => json!({"appSecret": "a1b2c3", "verifyToken": "my token"}),
            Provider::Viber | Provider::Twilio => json!({"authToken": "t0k3n"}),
            Provider::Linkedin => json!({"clientSecret": "s"}),
            Provider::Unipile => json!({}),
            Provider::Stripe => json!({"signingSecret": "whsec_abc"}),
            Provider::Github | Provider::Shopify => json!({"secret": "s"}),
            Provider::Slack => json!({"signingSecret": "8f742231b10e8888abcd99yyyzzz85a5"}),
            Provider::StandardWebhooks => json!({"secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"}),
            Provider::Hmac => json!({"secret": "s", "header": "X-Signature", "algorithm": "sha256", "encoding": "hex"}),
            Provider::None => json!({}),
        }
    }

    #[test]
    fn a_valid_config_per_provider() {
        for p in Provider::ALL {
            assert_eq!(check(p, valid(p), false), Vec::<String>::new(), "{p}");
            // With unknown fields too.
            let mut config = valid(p);
            config["somethingElse"] = json!(1);
            assert!(check(p, config, false).is_empty(), "{p}");
        }
    }

    #[test]
    fn required_fields_on_create_only() {
        assert_eq!(check(Provider::Meta, json!({}), false), ["config.appSecret", "config.verifyToken"]);
        assert_eq!(check(Provider::Meta, json!({"verifyToken": "t"}), false), ["config.appSecret"]);
        assert_eq!(
            check(Provider::Hmac, json!({}), false),
            ["config.secret", "config.header", "config.algorithm", "config.encoding"]
        );
        for p in Provider::ALL {
            assert!(check(p, json!({}), true).is_empty(), "{p}");
        }
        assert!(check(Provider::Unipile, json!({}), false).is_empty());
        assert!(check(Provider::None, json!({}), false).is_empty());
        assert_eq!(check(Provider::Meta, json!({"appSecret": 5}), true), ["config.appSecret"]);
    }

    #[test]
    fn types_and_rules() {
        for bad in [json!(null), json!(1), json!(true), json!(["s"]), json!({"s": 1}), json!(""), json!("a\nb")] {
            assert_eq!(check(Provider::Github, json!({"secret": bad}), false), ["config.secret"], "{bad}");
        }
        assert_eq!(check(Provider::Github, json!({"secret": "a".repeat(1025)}), false), ["config.secret"]);
        assert_eq!(check(Provider::Stripe, json!({"signingSecret": "sk_test_123"}), false), ["config.signingSecret"]);
        for bad in ["C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "whsec_", "whsec_!!!", "whsec_ abc"] {
            assert_eq!(check(Provider::StandardWebhooks, json!({"secret": bad}), false), ["config.secret"], "{bad}");
        }
        // Padding is optional.
        assert!(check(
            Provider::StandardWebhooks,
            json!({"secret": "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}),
            false
        )
        .is_empty());
        let hmac = |patch: Value| {
            let mut config = valid(Provider::Hmac);
            for (k, v) in patch.as_object().unwrap() {
                config[k] = v.clone();
            }
            check(Provider::Hmac, config, false)
        };
        assert_eq!(hmac(json!({"algorithm": "md5"})), ["config.algorithm"]);
        assert_eq!(hmac(json!({"algorithm": "SHA256"})), ["config.algorithm"]);
        assert_eq!(hmac(json!({"encoding": "base32"})), ["config.encoding"]);
        assert_eq!(hmac(json!({"header": "X Signature"})), ["config.header"]);
        assert_eq!(hmac(json!({"header": "Content-Length"})), ["config.header"]);
        assert_eq!(hmac(json!({"header": "Proxy-Authorization"})), ["config.header"]);
        assert_eq!(hmac(json!({"prefix": "sha256="})), Vec::<String>::new());
        assert_eq!(hmac(json!({"prefix": ""})), Vec::<String>::new());
        assert_eq!(hmac(json!({"prefix": null})), ["config.prefix"]);
        assert_eq!(hmac(json!({"prefix": "é"})), ["config.prefix"]);
        let errors =
            validate_config(Provider::Hmac, json!({"algorithm": "x", "encoding": "y"}).as_object().unwrap(), true);
        assert_eq!(
            errors,
            [
                ("config.algorithm".to_owned(), "must be one of sha1, sha256, sha512".to_owned()),
                ("config.encoding".to_owned(), "must be one of hex, base64".to_owned()),
            ]
        );
        let unipile = |config: Value| check(Provider::Unipile, config, true);
        assert!(unipile(json!({"headerName": "Authorization", "headerValue": "Bearer 0123456789abcdef"})).is_empty());
        assert_eq!(unipile(json!({"headerValue": "short"})), ["config.headerValue"]);
        assert_eq!(unipile(json!({"headerValue": " 0123456789abcdef"})), ["config.headerValue"]);
        assert_eq!(unipile(json!({"headerValue": "0123456789abcdef\r\n"})), ["config.headerValue"]);
        assert_eq!(unipile(json!({"headerName": "Host"})), ["config.headerName"]);
        assert_eq!(unipile(json!({"headerName": ""})), ["config.headerName"]);
    }

    #[test]
    fn secret_fields_are_config_fields() {
        for p in Provider::ALL {
            for secret in p.secret_fields() {
                assert!(fields(p).iter().any(|f| f.name == *secret), "{p}: {secret}");
            }
        }
        assert_eq!(Provider::Meta.secret_fields(), ["appSecret"]);
        assert_eq!(Provider::Unipile.secret_fields(), ["headerValue"]);
        assert!(Provider::None.secret_fields().is_empty());
    }

    #[test]
    fn defaults() {
        let mut config = Map::new();
        assert!(fill_defaults(Provider::Unipile, &mut config));
        assert_eq!(config["headerName"], "X-Hookrelay-Token");
        let value = config["headerValue"].as_str().unwrap().to_owned();
        // 32 bytes → 43 base64url characters, no padding.
        assert_eq!(value.len(), 43);
        assert_eq!(URL_SAFE_NO_PAD.decode(&value).unwrap().len(), 32);
        assert!(validate_config(Provider::Unipile, &config, false).is_empty());
        let mut again = Map::new();
        fill_defaults(Provider::Unipile, &mut again);
        assert_ne!(again["headerValue"], config["headerValue"]);

        // Given values are kept.
        let mut given =
            json!({"headerName": "X-Token", "headerValue": "my-own-value-0123456789"}).as_object().unwrap().clone();
        assert!(!fill_defaults(Provider::Unipile, &mut given));
        assert_eq!(given["headerName"], "X-Token");
        assert_eq!(given["headerValue"], "my-own-value-0123456789");

        let mut hmac = valid(Provider::Hmac).as_object().unwrap().clone();
        assert!(!fill_defaults(Provider::Hmac, &mut hmac));
        assert_eq!(hmac["prefix"], "");
        let mut prefixed = json!({"prefix": "sha256="}).as_object().unwrap().clone();
        fill_defaults(Provider::Hmac, &mut prefixed);
        assert_eq!(prefixed["prefix"], "sha256=");

        let mut meta = valid(Provider::Meta).as_object().unwrap().clone();
        assert!(!fill_defaults(Provider::Meta, &mut meta));
        assert_eq!(Value::Object(meta), valid(Provider::Meta));
    }
}
