//! Attempts that a listener of a relay webhook makes (`hookrelay listen`, through
//! `api::relay`): the request it is handed is the one a dispatcher would send
//! ([`sender::request_headers`], signed at hand-over), and its report becomes the same
//! [`Outcome`] a dispatcher's attempt would (`outcome`): logs, retries, stats, health.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::sender::{request_headers, storable_text, AttemptResult, MAX_RESPONSE_BODY, USER_AGENT};
use crate::domain::ids::ErrorKind;
use crate::queue::{Leased, Next, Outcome, Strain};

/// The headers of the request a listener forwards, as a subscriber would receive them,
/// signed now: names lower-cased, in order.
pub fn handed_headers(d: &Leased, now: DateTime<Utc>) -> Result<Vec<(String, String)>, String> {
    let headers = request_headers(d, now.timestamp())?;
    let mut out: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    // a dispatcher's client adds it; a source's delivery has it among the provider's
    if !out.iter().any(|(name, _)| name == "user-agent") {
        out.push(("user-agent".to_owned(), USER_AGENT.to_owned()));
    }
    Ok(out)
}

/// What a listener reports of one forwarded delivery.
pub struct Report {
    /// The local URL it forwarded to (the attempt log's `requestUrl`).
    pub url: String,
    /// The local answer's status, or `None` when there was none (`error_kind` says why).
    pub status: Option<u16>,
    /// The local answer's headers, name → value.
    pub headers: Option<serde_json::Map<String, serde_json::Value>>,
    pub body: Option<String>,
    pub duration: Duration,
    /// `connect`, `timeout`, `tls`, `dns` or `other` when there was no answer.
    pub error_kind: Option<ErrorKind>,
    pub error_message: Option<String>,
}

/// The outcome of a listener's report on `d`, recorded like a dispatcher's: a 2xx
/// succeeds, anything else is retried on the webhook's schedule (a 429 or 503's
/// Retry-After honoured, capped at `max_retry_after`).
pub fn outcome_of(d: &Leased, report: Report, max_retry_after: Duration) -> Outcome {
    let finished_at = Utc::now();
    let started_at = chrono::Duration::from_std(report.duration)
        .ok()
        .and_then(|span| finished_at.checked_sub_signed(span))
        .unwrap_or(finished_at);
    let (error_kind, error_message) = match (report.status, report.error_kind) {
        (Some(status), _) if (200..300).contains(&status) => (None, None),
        (Some(status), _) => (Some(ErrorKind::HttpStatus), Some(format!("receiver answered HTTP {status}"))),
        (None, kind) => (
            Some(kind.unwrap_or(ErrorKind::Other)),
            Some(report.error_message.unwrap_or_else(|| "the listener got no answer".to_owned())),
        ),
    };
    let retry_after_value =
        report.headers.as_ref().and_then(|h| h.get("retry-after")).and_then(|v| v.as_str()).map(str::to_owned);
    let retry_after =
        report.status.and_then(|status| super::retry_after::parse(status, retry_after_value.as_deref(), finished_at));
    let result = AttemptResult {
        started_at,
        finished_at,
        duration: report.duration,
        status: report.status,
        headers: report.headers.map(serde_json::Value::Object),
        body: report.body.map(|b| storable_text(b.as_bytes(), MAX_RESPONSE_BODY)),
        error_kind,
        error_message,
        retry_after,
    };
    let attempted = Leased { url: report.url, ..d.clone() };
    super::outcome(&attempted, result, max_retry_after)
}

/// The outcome of a relay webhook's delivery that no listener took within `hold`: one
/// attempt, failed as `relay_offline`, and no retry (SPEC "Local relay").
pub fn offline(d: &Leased, hold: Duration) -> Outcome {
    let now = Utc::now();
    let result = AttemptResult {
        started_at: now,
        finished_at: now,
        duration: Duration::ZERO,
        status: None,
        headers: None,
        body: None,
        error_kind: Some(ErrorKind::RelayOffline),
        error_message: Some(format!(
            "no listener took it within HOOKRELAY_RELAY_HOLD ({}); run hookrelay listen to receive new ones",
            humantime_secs(hold)
        )),
        retry_after: None,
    };
    let mut outcome = super::outcome(d, result, Duration::ZERO);
    outcome.next = Next::Failed;
    outcome.pause_until = None;
    outcome.strain = Strain::Unchanged;
    outcome
}

/// A duration as the settings write it (`90s`, `15m`, `24h`).
fn humantime_secs(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
