//! The one trait every provider scheme implements, and what the schemes share for reading
//! a request.

use serde_json::Value;

use super::{hmac, linkedin, meta, none, shopify, slack, standard, stripe, twilio, unipile, viber};
use super::{Check, Credentials, Matched, Provider, Request, Verdict};

/// How one provider's requests are verified and read. `receive` calls, in order:
/// `challenge` for a GET; else `verify`, then (the body verified) `handshake`, `event_type`
/// and `dedupe_key`.
pub(super) trait Scheme: Sync {
    /// A GET this provider sends to check the URL (Meta's and LinkedIn's handshakes),
    /// answered before and without signature verification; `None`: GETs are not accepted.
    fn challenge(&self, _creds: &Credentials, _req: &Request) -> Option<Verdict> {
        None
    }

    /// Verifies a POST on its exact bytes: which secret or reading matched, or the failed check.
    fn verify(&self, creds: &Credentials, req: &Request) -> Result<Matched, Check>;

    /// A verified request that hookrelay answers itself instead of publishing it (Slack's
    /// `url_verification`, Viber's `webhook` callback). `body` is the body parsed as JSON.
    fn handshake(&self, _req: &Request, _body: Option<&Value>) -> Option<Verdict> {
        None
    }

    /// The event type as derived from the provider's data, before normalisation; `None`
    /// when the data to derive it is absent (→ `<provider>.event`).
    fn event_type(&self, _req: &Request, _body: Option<&Value>) -> Option<String> {
        None
    }

    /// The dedupe key; `None` → the SHA-256 of the body.
    fn dedupe_key(&self, _req: &Request, _body: Option<&Value>) -> Option<String> {
        None
    }
}

pub(super) fn of(provider: Provider) -> &'static dyn Scheme {
    match provider {
        Provider::Meta => &meta::Meta,
        Provider::Viber => &viber::Viber,
        Provider::Linkedin => &linkedin::Linkedin,
        Provider::Unipile => &unipile::Unipile,
        Provider::Stripe => &stripe::Stripe,
        Provider::Github => &meta::Github,
        Provider::Shopify => &shopify::Shopify,
        Provider::Slack => &slack::Slack,
        Provider::Twilio => &twilio::Twilio,
        Provider::StandardWebhooks => &standard::StandardWebhooks,
        Provider::Hmac => &hmac::GenericHmac,
        Provider::None => &none::Unverified,
    }
}

/// The first value of header `name` (any case); a repeated header's later values are not read.
pub(super) fn header<'r>(req: &Request<'r>, name: &str) -> Option<&'r str> {
    req.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// A non-empty header value, for dedupe keys and event types.
pub(super) fn header_text(req: &Request, name: &str) -> Option<String> {
    header(req, name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// The first value of query parameter `name` (percent-decoded).
pub(super) fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes()).find(|(n, _)| n == name).map(|(_, v)| v.into_owned())
}

/// A JSON value at `path` (object keys, or array indices written as numbers) read as text:
/// a non-empty string, or a number's JSON text (ids such as Viber's `message_token` are
/// numbers).
pub(super) fn json_text(body: Option<&Value>, path: &[&str]) -> Option<String> {
    let mut value = body?;
    for step in path {
        value = match step.parse::<usize>() {
            Ok(i) => value.get(i)?,
            Err(_) => value.get(step)?,
        };
    }
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A timestamp header read as whole unix seconds: absent → `MissingSignature` (the signature
/// cannot be checked without it), not an integer → `MalformedSignature`.
pub(super) fn timestamp(req: &Request, name: &str) -> Result<(String, i64), Check> {
    let raw = header(req, name).ok_or(Check::MissingSignature)?.trim();
    let seconds = raw.parse::<i64>().map_err(|_| Check::MalformedSignature)?;
    Ok((raw.to_owned(), seconds))
}

/// Stripe's, Slack's and Standard Webhooks' tolerance, either side of now.
pub(super) const WINDOW_SECONDS: i64 = 300;

/// Checked after the signature, as Stripe's SDK does: only a request that is authentic
/// learns that its timestamp is out of the window.
pub(super) fn within_window(req: &Request, timestamp: i64) -> Result<(), Check> {
    if req.now.abs_diff(timestamp) > WINDOW_SECONDS.unsigned_abs() {
        Err(Check::TimestampOutOfWindow)
    } else {
        Ok(())
    }
}
