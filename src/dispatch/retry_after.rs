//! A receiver's `Retry-After` (RFC 9110 §10.2.3) on a 429 or 503: delta-seconds or an
//! HTTP date. Anything else is ignored, never an error: the schedule then applies.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// How long the receiver asks to be left alone, from `now`; `None` when the answer is
/// not a 429 or 503, has no usable `Retry-After`, or asks for no wait at all. A number
/// too large to represent counts as the longest wait (the caller caps it).
pub fn parse(status: u16, value: Option<&str>, now: DateTime<Utc>) -> Option<Duration> {
    if status != 429 && status != 503 {
        return None;
    }
    let value = value?.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        // IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") is an RFC 2822 date
        let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
        (at - now).to_std().ok()?
    };
    (!wait.is_zero()).then_some(wait)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn seconds_and_dates_on_429_and_503() {
        assert_eq!(parse(429, Some("7"), now()), Some(Duration::from_secs(7)));
        assert_eq!(parse(503, Some(" 120 "), now()), Some(Duration::from_secs(120)));
        assert_eq!(parse(503, Some("Tue, 01 Dec 2026 12:00:30 GMT"), now()), Some(Duration::from_secs(30)));
    }

    #[test]
    fn other_statuses_and_garbage_are_ignored() {
        assert_eq!(parse(500, Some("7"), now()), None);
        assert_eq!(parse(200, Some("7"), now()), None);
        for junk in ["", "soon", "-5", "1.5", "7 s", "Tue, 99 Dec 2026 12:00:30 GMT", "\u{0}"] {
            assert_eq!(parse(429, Some(junk), now()), None, "{junk:?}");
        }
        assert_eq!(parse(429, None, now()), None);
    }

    #[test]
    fn past_dates_and_zero_ask_for_no_wait() {
        assert_eq!(parse(429, Some("0"), now()), None);
        assert_eq!(parse(429, Some("Tue, 01 Dec 2026 11:00:00 GMT"), now()), None);
    }

    #[test]
    fn a_huge_number_is_the_longest_wait() {
        assert_eq!(parse(429, Some("99999999999999999999999"), now()), Some(Duration::from_secs(u64::MAX)));
    }
}
