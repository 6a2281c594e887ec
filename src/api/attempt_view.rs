//! One attempt as the API shows it (logs, a delivery's attempts, the live stream).

use serde::Serialize;
use uuid::Uuid;

use crate::db::logs::AttemptLog;
use crate::domain::ts;

/// One attempt, as logs, delivery details and the stream show it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    id: Uuid,
    delivery_id: Uuid,
    event_id: Uuid,
    webhook_id: Uuid,
    event_type: String,
    attempt: i32,
    success: bool,
    request_url: String,
    response_status: Option<i32>,
    response_body: Option<String>,
    duration_ms: i32,
    error_kind: Option<String>,
    error_message: Option<String>,
    test: bool,
    created_at: String,
}

impl From<AttemptLog> for AttemptView {
    fn from(l: AttemptLog) -> AttemptView {
        AttemptView {
            id: l.id,
            delivery_id: l.delivery_id,
            event_id: l.event_id,
            webhook_id: l.webhook_id,
            event_type: l.event_type,
            attempt: l.attempt,
            success: l.success,
            request_url: l.request_url,
            response_status: l.response_status,
            response_body: l.response_body,
            duration_ms: l.duration_ms,
            error_kind: l.error_kind,
            error_message: l.error_message,
            test: l.test,
            created_at: ts(l.created_at),
        }
    }
}
