//! A source request's headers and query as they travel on: to its deliveries (the
//! provider's headers, so a receiver's own check still works) and to the request log (with
//! credentials and signatures replaced by `****`).

use serde_json::{Map, Value};

use super::{mac, unipile, Provider};

const REDACTED: &str = "****";

/// Headers that only concern one hop (RFC 9110 §7.6.1), besides `proxy-*` and the ones a
/// request's `Connection` names.
const HOP_BY_HOP: [&str; 6] = ["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"];

/// Headers whose values are signatures or credentials, whatever the source's provider: each
/// scheme's signature header, and the generic credential headers.
const CREDENTIAL_HEADERS: [&str; 12] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-hub-signature",
    "x-hub-signature-256",
    "stripe-signature",
    "x-slack-signature",
    "x-twilio-signature",
    "webhook-signature",
    "x-viber-content-signature",
    "x-li-signature",
    "x-shopify-hmac-sha256",
];

/// Query parameters whose values are credentials.
const CREDENTIAL_PARAMS: [&str; 7] =
    ["hub.verify_token", "access_token", "token", "api_key", "apikey", "secret", "password"];

/// The header the source's config names as its credential (`unipile`'s token header) or
/// signature (`hmac`'s), lower-cased.
fn configured_header(provider: Provider, config: &Map<String, Value>) -> Option<String> {
    match provider {
        Provider::Unipile => Some(unipile::header_name(config)),
        Provider::Hmac => mac::field(config, "header").map(str::to_ascii_lowercase),
        _ => None,
    }
}

/// Headers as a JSON object, names lower-cased, a repeated header's values joined with
/// `", "`; `value` decides each header's value, or drops it (`None`).
fn collect(headers: &[(String, String)], value: impl Fn(&str, &str) -> Option<String>) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, v) in headers {
        let name = name.to_ascii_lowercase();
        let Some(v) = value(&name, v) else { continue };
        match out.get_mut(&name) {
            Some(Value::String(joined)) => {
                joined.push_str(", ");
                joined.push_str(&v);
            }
            _ => {
                out.insert(name, Value::String(v));
            }
        }
    }
    out
}

/// The provider's headers that a source's deliveries carry: all but the hop-by-hop ones
/// (and those its `Connection` names), `Host`, `Content-Length`, `unipile`'s credential
/// header, `Accept-Encoding`, and hookrelay's own `X-Webhook-*` namespace (a provider's
/// `X-Webhook-Test` would otherwise pass for hookrelay's). `Content-Type` and the
/// signatures are kept.
pub fn forwarded_headers(
    provider: Provider,
    config: &Map<String, Value>,
    headers: &[(String, String)],
) -> Map<String, Value> {
    let connection_named: Vec<String> = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, value)| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let credential = (provider == Provider::Unipile).then(|| unipile::header_name(config));
    collect(headers, |name, value| {
        let dropped = HOP_BY_HOP.contains(&name)
            || name.starts_with("proxy-")
            || name == "host"
            || name == "content-length"
            || name.starts_with("x-webhook-")
            // what hookrelay's client accepts is its own business: a compressed answer would
            // be stored as garbled text
            || name == "accept-encoding"
            // `100-continue` was between the provider and hookrelay
            || name == "expect"
            || connection_named.iter().any(|n| n == name)
            || credential.as_deref() == Some(name);
        (!dropped).then(|| value.to_owned())
    })
}

/// The headers for the request log: every signature and credential value replaced by `****`.
pub fn redact_headers(
    provider: Provider,
    config: &Map<String, Value>,
    headers: &[(String, String)],
) -> Map<String, Value> {
    let configured = configured_header(provider, config);
    let mut redacted = collect(headers, |_, value| Some(value.to_owned()));
    for (name, value) in redacted.iter_mut() {
        // After joining, so a repeated header reads `****` once.
        if CREDENTIAL_HEADERS.contains(&name.as_str()) || configured.as_deref() == Some(name.as_str()) {
            *value = Value::from(REDACTED);
        }
    }
    redacted
}

/// The raw query for the request log, credential values (`hub.verify_token`, …) replaced by
/// `****`; everything else exactly as received.
pub fn redact_query(query: &str) -> String {
    if query.is_empty() {
        return String::new();
    }
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_credential_param(name) => format!("{name}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn is_credential_param(raw_name: &str) -> bool {
    let name: String = url::form_urlencoded::parse(raw_name.as_bytes()).map(|(n, _)| n.into_owned()).collect();
    CREDENTIAL_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(&name))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testkit::headers;
    use super::*;
    use serde_json::json;

    fn config(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn forwarded_keeps_the_providers_headers() {
        let h = headers(&[
            ("host", "hookrelay.example"),
            ("content-length", "42"),
            ("content-type", "application/json"),
            ("connection", "keep-alive, x-hop"),
            ("keep-alive", "timeout=5"),
            ("x-hop", "dropped: Connection names it"),
            ("te", "trailers"),
            ("trailer", "x"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "h2c"),
            ("proxy-authorization", "Basic abc"),
            ("proxy-connection", "keep-alive"),
            ("x-hub-signature-256", "sha256=abc"),
            ("user-agent", "facebookexternalua"),
            ("accept", "*/*"),
            ("x-multi", "a"),
            ("x-multi", "b"),
            ("X-Upper", "kept, lower-cased"),
            ("x-webhook-test", "true"),
        ]);
        let forwarded = forwarded_headers(Provider::Meta, &Map::new(), &h);
        assert_eq!(
            Value::Object(forwarded),
            json!({
                "content-type": "application/json",
                "x-hub-signature-256": "sha256=abc",
                "user-agent": "facebookexternalua",
                "accept": "*/*",
                "x-multi": "a, b",
                "x-upper": "kept, lower-cased",
            })
        );
    }

    #[test]
    fn forwarded_drops_the_unipile_credential() {
        let h = headers(&[
            ("x-hookrelay-token", "secret-value"),
            ("x-custom-token", "other"),
            ("content-type", "application/json"),
        ]);
        let forwarded = forwarded_headers(Provider::Unipile, &Map::new(), &h);
        assert_eq!(Value::Object(forwarded), json!({"x-custom-token": "other", "content-type": "application/json"}));
        let custom = config(json!({"headerName": "X-Custom-Token", "headerValue": "v"}));
        let forwarded = forwarded_headers(Provider::Unipile, &custom, &h);
        assert_eq!(
            Value::Object(forwarded),
            json!({"x-hookrelay-token": "secret-value", "content-type": "application/json"})
        );
        // Another provider's header of that name is just a header.
        let forwarded = forwarded_headers(Provider::Github, &custom, &h);
        assert_eq!(forwarded.len(), 3);
    }

    #[test]
    fn redacted_headers() {
        let h = headers(&[
            ("content-type", "application/json"),
            ("x-hub-signature-256", "sha256=abc"),
            ("stripe-signature", "t=1,v1=abc"),
            ("x-slack-signature", "v0=abc"),
            ("x-twilio-signature", "abc="),
            ("webhook-signature", "v1,abc"),
            ("x-viber-content-signature", "abc"),
            ("x-li-signature", "abc"),
            ("x-shopify-hmac-sha256", "abc="),
            ("authorization", "Bearer abc"),
            ("cookie", "a=1"),
            ("cookie", "b=2"),
            ("x-hookrelay-token", "token-value"),
            ("x-signature", "sha256=abc"),
            ("webhook-id", "msg_1"),
        ]);
        let redacted = redact_headers(Provider::Unipile, &Map::new(), &h);
        for (name, value) in &redacted {
            let kept = ["content-type", "x-signature", "webhook-id"].contains(&name.as_str());
            assert_eq!(value == "****", !kept, "{name}: {value}");
        }
        assert_eq!(redacted["cookie"], "****");
        assert_eq!(redacted["webhook-id"], "msg_1");
        let hmac = config(json!({"header": "X-Signature", "secret": "s"}));
        let redacted = redact_headers(Provider::Hmac, &hmac, &h);
        assert_eq!(redacted["x-signature"], "****");
        // The unipile default header is only a credential for unipile.
        assert_eq!(redacted["x-hookrelay-token"], "token-value");
    }

    #[test]
    fn redacted_query() {
        assert_eq!(
            redact_query("hub.mode=subscribe&hub.verify_token=my%20token&hub.challenge=1158201444"),
            "hub.mode=subscribe&hub.verify_token=****&hub.challenge=1158201444"
        );
        assert_eq!(redact_query("hub%2Everify_token=x&a=b%20c&&flag"), "hub%2Everify_token=****&a=b%20c&&flag");
        assert_eq!(redact_query("challengeCode=abc"), "challengeCode=abc");
        assert_eq!(redact_query("access_token=1&Token=2&bodySHA256=3"), "access_token=****&Token=****&bodySHA256=3");
        assert_eq!(redact_query(""), "");
        assert_eq!(redact_query("hub.verify_token"), "hub.verify_token");
    }
}
