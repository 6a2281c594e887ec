//! Validated domain values: what the API accepts, checked once at the edge.

pub mod consumer;
pub mod event;
pub mod headers;
pub mod ids;
pub mod json;
pub mod latency;
pub mod operational;
pub mod secret;
pub mod url;
pub mod webhook_health;

/// A time as the API and every payload write it: RFC 3339, UTC, milliseconds.
pub fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// [`ts`] of a time that may be absent.
pub fn ts_opt(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(ts)
}
