//! Validation of a webhook's custom headers (SPEC: Webhooks, Validation).

use serde_json::{Map, Value};

pub const MAX_HEADERS: usize = 20;
pub const MAX_VALUE_BYTES: usize = 1024;

/// Names hookrelay sets itself or that would break the request's framing.
const FORBIDDEN_NAMES: [&str; 6] =
    ["host", "content-length", "content-type", "transfer-encoding", "connection", "user-agent"];
/// Prefixes of the signature and metadata headers, so a webhook cannot spoof them.
const FORBIDDEN_PREFIXES: [&str; 2] = ["x-webhook-", "webhook-"];

/// RFC 7230 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        )
}

fn name_error(name: &str) -> Option<String> {
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Some("header name must be a non-empty HTTP token (RFC 7230 tchar)".to_owned());
    }
    let lower = name.to_ascii_lowercase();
    if FORBIDDEN_NAMES.contains(&lower.as_str()) {
        return Some(format!("header {name} is set by hookrelay and cannot be overridden"));
    }
    if FORBIDDEN_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return Some("header names starting with X-Webhook- or webhook- are reserved for hookrelay".to_owned());
    }
    None
}

fn value_error(value: &Value) -> Option<String> {
    let Value::String(s) = value else {
        return Some("header value must be a string".to_owned());
    };
    if s.len() > MAX_VALUE_BYTES {
        return Some(format!("header value must be at most {MAX_VALUE_BYTES} bytes"));
    }
    // CR/LF would allow header injection; other control characters (tab aside, which
    // HTTP allows inside a value) are refused too, since HTTP clients reject them.
    if s.chars().any(|c| c.is_control() && c != '\t') {
        return Some("header value must not contain CR, LF or other control characters (tab is allowed)".to_owned());
    }
    None
}

/// Returns `(field, message)` for every failure: `headers` for the count rule,
/// `headers.<Name>` for a specific header. Empty when the headers are valid.
pub fn validate_custom_headers(headers: &Map<String, Value>) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    if headers.len() > MAX_HEADERS {
        errors.push(("headers".to_owned(), format!("at most {MAX_HEADERS} headers are allowed")));
    }
    let mut seen: Vec<String> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        let field = format!("headers.{name}");
        if let Some(msg) = name_error(name) {
            errors.push((field.clone(), msg));
        } else {
            // JSON keys are case-sensitive but header names are not: `X-A` and `x-a`
            // would be sent as one header with two values.
            let lower = name.to_ascii_lowercase();
            if seen.contains(&lower) {
                errors.push((field.clone(), "duplicate header name (header names are case-insensitive)".to_owned()));
            }
            seen.push(lower);
        }
        if let Some(msg) = value_error(value) {
            errors.push((field, msg));
        }
    }
    errors
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value) -> Vec<(String, String)> {
        validate_custom_headers(v.as_object().unwrap())
    }

    fn fields(v: Value) -> Vec<String> {
        check(v).into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn accepts_valid_headers() {
        assert!(check(json!({})).is_empty());
        assert!(check(json!({
            "X-Custom": "v",
            "Authorization": "Bearer abc",
            "x-tenant": "",
            "A!#$%&'*+-.^_`|~9": "tab\tinside",
            "X-Unicode": "Zoë ✓",
            "X-Long": "a".repeat(1024),
        }))
        .is_empty());
    }

    #[test]
    fn too_many_headers() {
        let mut m = Map::new();
        for i in 0..20 {
            m.insert(format!("X-H{i}"), json!("v"));
        }
        assert!(validate_custom_headers(&m).is_empty());
        m.insert("X-H20".into(), json!("v"));
        let errs = validate_custom_headers(&m);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].0, "headers");
    }

    #[test]
    fn forbidden_names_any_case() {
        for name in [
            "Host",
            "host",
            "HOST",
            "Content-Length",
            "content-type",
            "Transfer-Encoding",
            "Connection",
            "User-Agent",
            "X-Webhook-Signature",
            "x-webhook-anything",
            "webhook-id",
            "Webhook-Signature",
        ] {
            assert_eq!(fields(json!({ name: "v" })), vec![format!("headers.{name}")]);
        }
        // Merely similar names are fine.
        assert!(check(json!({"X-Webhooks": "v", "Hostname": "v", "webhook": "v"})).is_empty());
    }

    #[test]
    fn names_must_be_tokens() {
        for name in ["", "X Custom", "X:Custom", "X(C)", "Zoë", "X\r\nY", "X/Y", "X\"Y"] {
            assert_eq!(fields(json!({ name: "v" })), vec![format!("headers.{name}")]);
        }
    }

    #[test]
    fn bad_values() {
        for v in [
            json!("a\r\nX-Evil: 1"),
            json!("a\nb"),
            json!("a\rb"),
            json!("nul\u{0}"),
            json!("del\u{7f}"),
            json!("c1\u{85}"),
            json!("a".repeat(1025)),
            json!(1),
            json!(null),
            json!(true),
            json!(["v"]),
            json!({"a": "b"}),
        ] {
            assert_eq!(fields(json!({ "X-Custom": v })), vec!["headers.X-Custom"]);
        }
        // The limit is in bytes: 512 two-byte characters fit, 513 do not.
        assert!(check(json!({"X-A": "é".repeat(512)})).is_empty());
        assert_eq!(fields(json!({"X-A": "é".repeat(513)})), vec!["headers.X-A"]);
    }

    #[test]
    fn duplicate_names_case_insensitive() {
        let errs = fields(json!({"X-A": "1", "x-a": "2"}));
        assert_eq!(errs.len(), 1);
        assert!(errs[0] == "headers.X-A" || errs[0] == "headers.x-a");
    }

    #[test]
    fn reports_every_failure() {
        let errs = fields(json!({"Host": "x", "X-Ok": "v", "X-Bad": "a\nb", "Bad Name": 1}));
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs.contains(&"headers.Host".to_owned()));
        assert!(errs.contains(&"headers.X-Bad".to_owned()));
        assert_eq!(errs.iter().filter(|f| *f == "headers.Bad Name").count(), 2);
    }
}
