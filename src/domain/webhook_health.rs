//! A webhook's health at a glance (SPEC "Health at a glance"): the verdict of what the
//! recorder keeps on the webhook row and what the rollups count.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::latency::quantile_exceeds;
use super::operational::{is_degraded, SLOW_MS};
use super::ts_opt;

/// What a webhook's row says about its attempts.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    pub active: bool,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
}

/// What the rollups count for one webhook.
#[derive(Debug, Clone, Default)]
pub struct Counted {
    pub attempts_24h: i64,
    pub successes_24h: i64,
    /// The degraded rule's window (the last 15 minutes).
    pub window_attempts: i64,
    pub window_successes: i64,
    pub window_hist: Vec<i64>,
}

/// The `health` member of a webhook answer.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub state: &'static str,
    pub failing_since: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_success_at: Option<String>,
    pub attempts24h: i64,
    pub success_rate24h: Option<f64>,
}

impl Health {
    pub fn of(kept: &Kept, counted: &Counted, now: DateTime<Utc>) -> Health {
        let state = if !kept.active {
            "disabled"
        } else if kept.failing_since.is_some() {
            "failing"
        } else if degraded_now(counted) {
            "degraded"
        } else if kept.last_attempt_at.is_some_and(|at| at > now - TimeDelta::hours(24)) || counted.attempts_24h > 0 {
            "healthy"
        } else {
            "idle"
        };
        Health {
            state,
            failing_since: ts_opt(kept.failing_since.filter(|_| state == "failing")),
            last_attempt_at: ts_opt(kept.last_attempt_at),
            last_success_at: ts_opt(kept.last_success_at),
            attempts24h: counted.attempts_24h,
            success_rate24h: (counted.attempts_24h > 0)
                .then(|| counted.successes_24h as f64 / counted.attempts_24h as f64),
        }
    }
}

/// Whether the degraded rule holds over the window as it stands now. With fewer attempts
/// than the rule needs it does not (unlike the operational events, which keep the last
/// verdict so that silence announces no recovery): a webhook whose traffic stopped is not
/// shown degraded for days.
fn degraded_now(c: &Counted) -> bool {
    let rate = c.window_successes as f64 / c.window_attempts.max(1) as f64;
    is_degraded(c.window_attempts, rate, quantile_exceeds(&c.window_hist, 0.95, SLOW_MS)) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept() -> Kept {
        Kept { active: true, ..Kept::default() }
    }

    #[test]
    fn each_state_by_precedence() {
        let now = Utc::now();
        let busy = Counted {
            attempts_24h: 30,
            successes_24h: 3,
            window_attempts: 30,
            window_successes: 3,
            ..Counted::default()
        };
        let failing = Kept { failing_since: Some(now), last_attempt_at: Some(now), ..kept() };
        assert_eq!(Health::of(&Kept { active: false, ..failing.clone() }, &busy, now).state, "disabled");
        let h = Health::of(&failing, &busy, now);
        assert_eq!((h.state, h.failing_since.is_some()), ("failing", true));
        let recent = Kept { last_attempt_at: Some(now), ..kept() };
        assert_eq!(Health::of(&recent, &busy, now).state, "degraded");
        assert_eq!(Health::of(&recent, &Counted { attempts_24h: 1, ..Counted::default() }, now).state, "healthy");
        let old = Kept { last_attempt_at: Some(now - TimeDelta::hours(25)), ..kept() };
        assert_eq!(Health::of(&old, &Counted::default(), now).state, "idle");
        assert_eq!(Health::of(&kept(), &Counted::default(), now).state, "idle");
    }

    #[test]
    fn the_degraded_rule_needs_its_attempts_now() {
        let now = Utc::now();
        let recent = Kept { last_attempt_at: Some(now), ..kept() };
        let few = Counted { attempts_24h: 5, window_attempts: 5, ..Counted::default() };
        assert_eq!(Health::of(&recent, &few, now).state, "healthy", "5 failed attempts are too few to judge");
        let mut hist = vec![0; crate::domain::latency::bucket_count()];
        hist[crate::domain::latency::bucket(12_000)] = 20;
        let slow = Counted {
            attempts_24h: 20,
            successes_24h: 20,
            window_attempts: 20,
            window_successes: 20,
            window_hist: hist,
        };
        assert_eq!(Health::of(&recent, &slow, now).state, "degraded", "p95 above 10 s");
    }

    #[test]
    fn rates_and_failing_since_only_where_they_mean_something() {
        let now = Utc::now();
        let h = Health::of(&kept(), &Counted::default(), now);
        assert_eq!((h.success_rate24h, h.failing_since), (None, None));
        let h = Health::of(&kept(), &Counted { attempts_24h: 4, successes_24h: 3, ..Counted::default() }, now);
        assert_eq!(h.success_rate24h, Some(0.75));
        let off = Kept { active: false, failing_since: Some(now), ..kept() };
        assert_eq!(Health::of(&off, &Counted::default(), now).failing_since, None);
    }
}
