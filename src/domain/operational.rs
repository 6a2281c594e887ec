//! hookrelay's own operational events (SPEC "Endpoint health"): their names and their
//! `data`, exactly as receivers get them. Each is about one webhook, is published to the
//! other webhooks of its tenant that name it, and never raises an operational event.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::ts;

pub const DELIVERY_FAILED: &str = "hookrelay.delivery.failed";
pub const WEBHOOK_DISABLED: &str = "hookrelay.webhook.disabled";
pub const WEBHOOK_DEGRADED: &str = "hookrelay.webhook.degraded";
pub const WEBHOOK_RECOVERED: &str = "hookrelay.webhook.recovered";

/// The `disabledReason` of a webhook that auto-disable made inactive.
pub const DISABLED_FAILING: &str = "failing";

/// `data` of `hookrelay.delivery.failed`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryFailed {
    pub webhook_id: Uuid,
    pub delivery_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    /// The delivery's `attemptCount`.
    pub attempts: i32,
    pub last_error: LastError,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LastError {
    pub error_kind: Option<String>,
    /// Null when the last attempt got no HTTP answer.
    pub response_status: Option<i32>,
}

/// `data` of `hookrelay.webhook.disabled`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDisabled {
    pub webhook_id: Uuid,
    pub reason: &'static str,
    #[serde(serialize_with = "timestamp")]
    pub failing_since: DateTime<Utc>,
    pub failed_deliveries: i32,
}

/// `data` of `hookrelay.webhook.degraded` and `hookrelay.webhook.recovered`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookHealth {
    pub webhook_id: Uuid,
    pub window: Window,
    pub attempts: i64,
    pub attempt_success_rate: f64,
    /// Null when no attempt of the window got an HTTP answer.
    pub p95_ms: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct Window {
    #[serde(serialize_with = "timestamp")]
    pub since: DateTime<Utc>,
    #[serde(serialize_with = "timestamp")]
    pub until: DateTime<Utc>,
}

fn timestamp<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&ts(*t))
}

/// The rule of `hookrelay.webhook.degraded`: over the window, at least
/// [`MIN_ATTEMPTS`] attempts, and a success rate under 50 % or a p95 response time over
/// [`SLOW_MS`] (`p95_slow`, decided with `latency::quantile_exceeds`). With fewer attempts
/// there is no verdict: the webhook keeps the state it has.
pub const MIN_ATTEMPTS: i64 = 20;
pub const SLOW_MS: i64 = 10_000;
/// How far back the health rule looks.
pub const WINDOW_MINUTES: i64 = 15;

pub fn is_degraded(attempts: i64, success_rate: f64, p95_slow: bool) -> Option<bool> {
    (attempts >= MIN_ATTEMPTS).then_some(success_rate < 0.5 || p95_slow)
}

/// SPEC's auto-disable rule: `min_failed` deliveries ended failed, the first of them at
/// least `after` ago, with no successful attempt since.
#[derive(Debug, Clone, Copy)]
pub struct AutoDisable {
    pub after: std::time::Duration,
    pub min_failed: i32,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_degraded_rule() {
        assert_eq!(is_degraded(19, 0.0, false), None, "too few attempts: no verdict");
        assert_eq!(is_degraded(20, 0.49, false), Some(true));
        assert_eq!(is_degraded(20, 0.5, false), Some(false), "50 % is healthy");
        assert_eq!(is_degraded(20, 1.0, true), Some(true));
        assert_eq!(is_degraded(40, 0.9, false), Some(false));
    }

    #[test]
    fn payloads_read_as_spec_lists_them() {
        let id = Uuid::nil();
        let at = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z").unwrap().with_timezone(&Utc);
        let disabled =
            WebhookDisabled { webhook_id: id, reason: DISABLED_FAILING, failing_since: at, failed_deliveries: 10 };
        assert_eq!(
            serde_json::to_value(disabled).unwrap(),
            serde_json::json!({"webhookId": id, "reason": "failing", "failingSince": "2026-12-02T10:00:00.000Z",
                "failedDeliveries": 10})
        );
        let health = WebhookHealth {
            webhook_id: id,
            window: Window { since: at, until: at },
            attempts: 20,
            attempt_success_rate: 0.25,
            p95_ms: None,
        };
        assert_eq!(
            serde_json::to_value(health).unwrap(),
            serde_json::json!({"webhookId": id, "window": {"since": "2026-12-02T10:00:00.000Z",
                "until": "2026-12-02T10:00:00.000Z"}, "attempts": 20, "attemptSuccessRate": 0.25, "p95Ms": null})
        );
    }
}
