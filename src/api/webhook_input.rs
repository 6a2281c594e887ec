//! The body of a webhook create or PATCH, and its validation: every field that is
//! present is checked, and each failure is named in one 422 (SPEC "Webhooks").

use serde::{Deserialize, Serialize};

use crate::api::body::{present, Errors};
use crate::api::state::AppState;
use crate::db::webhooks::WebhookChanges;
use crate::domain::consumer::validate_consumer_id;
use crate::domain::event::EventFilter;
use crate::domain::headers::validate_custom_headers;
use crate::domain::json::Integer;
use crate::domain::secret::SigningSecret;
use crate::domain::url::{check_resolved_host, parse_webhook_url};

#[derive(Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookInput {
    #[serde(default, deserialize_with = "present")]
    pub kind: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub events: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    pub consumer_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub headers: Option<Option<serde_json::Map<String, serde_json::Value>>>,
    #[serde(default, deserialize_with = "present")]
    pub active: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    pub rate_limit_per_minute: Option<Option<Integer>>,
    #[serde(default, deserialize_with = "present")]
    pub max_concurrency: Option<Option<Integer>>,
    #[serde(default, deserialize_with = "present")]
    pub retry_schedule: Option<Option<Vec<Integer>>>,
    #[serde(default, deserialize_with = "present")]
    pub secret: Option<Option<String>>,
}

/// The kinds of webhook (SPEC: `kind`): `http` has a url; `relay` has none, its
/// deliveries wait for `hookrelay listen`.
pub const HTTP: &str = "http";
pub const RELAY: &str = "relay";

/// The kind of the webhook a body creates (`current` None: `http` unless it says
/// otherwise) or changes (`current`: it cannot change).
pub fn kind_of(kind: Option<Option<String>>, current: Option<&str>, errors: &mut Errors) -> String {
    match (kind, current) {
        (None, None) => HTTP.to_owned(),
        (Some(Some(k)), None) if k == HTTP || k == RELAY => k,
        (Some(_), None) => {
            errors.add("kind", "must be \"http\" or \"relay\"");
            HTTP.to_owned()
        }
        (Some(Some(k)), Some(c)) if k == c => k,
        (Some(_), Some(c)) => {
            errors.add("kind", format!("cannot change (this webhook is {c:?}): create another webhook instead"));
            c.to_owned()
        }
        (None, Some(c)) => c.to_owned(),
    }
}

/// Validates every field that is present, for a webhook of `kind`; each failure is
/// named in one 422.
pub async fn validate(
    state: &AppState,
    input: WebhookInput,
    kind: &str,
    errors: &mut Errors,
) -> (WebhookChanges, Option<SigningSecret>) {
    let mut changes = WebhookChanges::default();
    validate_name(input.name, &mut changes, errors);
    match input.url {
        Some(Some(_)) if kind == RELAY => errors.add("url", "a relay webhook has no url: leave it out"),
        Some(None) if kind == RELAY => {}
        url => validate_url(state, url, &mut changes, errors).await,
    }
    validate_events(input.events, &mut changes, errors);
    validate_consumer(input.consumer_id, &mut changes, errors);
    validate_description(input.description, &mut changes, errors);
    validate_headers(input.headers, &mut changes, errors);
    validate_active(input.active, &mut changes, errors);
    validate_rate_limit(input.rate_limit_per_minute, &mut changes, errors);
    validate_max_concurrency(input.max_concurrency, &mut changes, errors);
    validate_retry_schedule(input.retry_schedule, &mut changes, errors);
    let secret = match input.secret {
        Some(Some(s)) => errors.check("secret", SigningSecret::parse(&s)),
        Some(None) | None => None,
    };
    (changes, secret)
}

fn validate_name(name: Option<Option<String>>, changes: &mut WebhookChanges, errors: &mut Errors) {
    match name {
        // at most 100 characters as sent (the schema's maxLength), not blank; stored trimmed
        Some(Some(name)) if !name.trim().is_empty() && name.chars().count() <= 100 => {
            changes.name = Some(name.trim().to_owned())
        }
        Some(_) => errors.add("name", "must be 1-100 characters"),
        None => {}
    }
}

/// The URL's form, then where its host resolves to.
async fn validate_url(
    state: &AppState,
    url: Option<Option<String>>,
    changes: &mut WebhookChanges,
    errors: &mut Errors,
) {
    match url {
        Some(Some(url)) => {
            let parsed = parse_webhook_url(&url, state.config.require_https(), state.config.allow_private_targets);
            if let Some(parsed) = errors.check("url", parsed) {
                if errors
                    .check(
                        "url",
                        check_resolved_host(&parsed, state.config.allow_private_targets, &state.config.dns).await,
                    )
                    .is_some()
                {
                    changes.url = Some(url);
                }
            }
        }
        Some(None) => errors.add("url", "must be a URL"),
        None => {}
    }
}

fn validate_events(events: Option<Option<Vec<String>>>, changes: &mut WebhookChanges, errors: &mut Errors) {
    match events {
        Some(Some(events)) if (1..=50).contains(&events.len()) => {
            let before = errors.len();
            for (i, filter) in events.iter().enumerate() {
                errors.check(&format!("events[{i}]"), EventFilter::parse(filter));
            }
            if errors.len() == before {
                changes.events = Some(events);
            }
        }
        Some(_) => errors.add("events", "must list 1-50 event filters"),
        None => {}
    }
}

fn validate_consumer(consumer_id: Option<Option<String>>, changes: &mut WebhookChanges, errors: &mut Errors) {
    match consumer_id {
        Some(Some(id)) if errors.check("consumerId", validate_consumer_id(&id)).is_some() => {
            changes.consumer_id = Some(Some(id));
        }
        Some(Some(_)) => {}
        Some(None) => changes.consumer_id = Some(None),
        None => {}
    }
}

fn validate_description(description: Option<Option<String>>, changes: &mut WebhookChanges, errors: &mut Errors) {
    match description {
        Some(Some(d)) if d.chars().count() > 1_000 => errors.add("description", "must be at most 1,000 characters"),
        Some(d) => changes.description = Some(d),
        None => {}
    }
}

fn validate_headers(
    headers: Option<Option<serde_json::Map<String, serde_json::Value>>>,
    changes: &mut WebhookChanges,
    errors: &mut Errors,
) {
    match headers {
        Some(Some(headers)) => {
            let failures = validate_custom_headers(&headers);
            if failures.is_empty() {
                changes.headers = Some(serde_json::Value::Object(headers));
            }
            for (field, message) in failures {
                errors.add(field, message);
            }
        }
        Some(None) => errors.add("headers", "must be an object of header names to values"),
        None => {}
    }
}

fn validate_active(active: Option<Option<bool>>, changes: &mut WebhookChanges, errors: &mut Errors) {
    match active {
        Some(Some(active)) => changes.active = Some(active),
        Some(None) => errors.add("active", "must be true or false"),
        None => {}
    }
}

fn validate_rate_limit(rate_limit: Option<Option<Integer>>, changes: &mut WebhookChanges, errors: &mut Errors) {
    match rate_limit {
        Some(Some(Integer(n))) if (1..=100_000).contains(&n) => {
            changes.rate_limit_per_minute = Some(i32::try_from(n).ok())
        }
        Some(Some(_)) => errors.add("rateLimitPerMinute", "must be 1-100,000, or null for no limit"),
        Some(None) => changes.rate_limit_per_minute = Some(None),
        None => {}
    }
}

fn validate_max_concurrency(
    max_concurrency: Option<Option<Integer>>,
    changes: &mut WebhookChanges,
    errors: &mut Errors,
) {
    match max_concurrency {
        Some(Some(Integer(n))) if (1..=100).contains(&n) => changes.max_concurrency = i32::try_from(n).ok(),
        Some(_) => errors.add("maxConcurrency", "must be 1-100"),
        None => {}
    }
}

fn validate_retry_schedule(
    retry_schedule: Option<Option<Vec<Integer>>>,
    changes: &mut WebhookChanges,
    errors: &mut Errors,
) {
    match retry_schedule {
        Some(Some(delays)) if delays.len() <= 20 => {
            let before = errors.len();
            for (i, Integer(d)) in delays.iter().enumerate() {
                if !(1..=86_400).contains(d) {
                    errors.add(format!("retrySchedule[{i}]"), "must be a delay of 1-86,400 seconds");
                }
            }
            if errors.len() == before {
                changes.retry_schedule = Some(Some(delays.iter().filter_map(|d| i32::try_from(d.0).ok()).collect()));
            }
        }
        Some(Some(_)) => errors.add("retrySchedule", "must list at most 20 delays"),
        Some(None) => changes.retry_schedule = Some(None),
        None => {}
    }
}
