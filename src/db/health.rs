//! Endpoint health (SPEC "Endpoint health"): publishing operational events, auto-disable
//! of webhooks that keep failing, and the degraded/recovered verdict. Every decision reads
//! state kept as outcomes are recorded (a webhook's failing streak, the per-minute stats
//! rollups), never the logs. Each change is one conditional UPDATE whose event is published
//! in the same transaction, so that several dispatcher processes deciding at once still
//! publish one event per change, and a kill -9 loses neither the change nor its event.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Double, Int4, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::events::{insert_many, Event, Plain};
use super::prepared::prepared;
use super::schema::webhooks;
use super::stats::{span_start, MINUTE, TENANT_WIDE};
use super::TenantId;
use crate::domain::event::EventType;
use crate::domain::latency::{add_counts, percentile, quantile_exceeds};
use crate::domain::operational::{
    is_degraded, AutoDisable, WebhookDisabled, WebhookHealth, Window, DISABLED_FAILING, MIN_ATTEMPTS, SLOW_MS,
    WEBHOOK_DEGRADED, WEBHOOK_DISABLED, WEBHOOK_RECOVERED, WINDOW_MINUTES,
};

/// An operational event about one webhook, ready to publish.
pub struct Operational {
    tenant: Uuid,
    about: Uuid,
    event_type: &'static str,
    data: Box<RawValue>,
}

impl Operational {
    pub fn new(tenant: Uuid, about: Uuid, event_type: &'static str, data: &impl Serialize) -> QueryResult<Operational> {
        let data =
            serde_json::value::to_raw_value(data).map_err(|e| diesel::result::Error::SerializationError(e.into()))?;
        Ok(Operational { tenant, about, event_type, data })
    }
}

/// Publishes operational events in the caller's transaction: to the webhooks of the same
/// tenant whose filters name them (`*` does not, see `EventType::matching_filters`), under
/// the consumer rule with the affected webhook's `consumerId`, never to the affected webhook
/// itself. Returns the deliveries created; the caller wakes the dispatcher.
pub async fn publish(conn: &mut AsyncPgConnection, events: Vec<Operational>) -> QueryResult<i32> {
    if events.is_empty() {
        return Ok(0);
    }
    let about: Vec<Uuid> = events.iter().map(|e| e.about).collect();
    let consumers: HashMap<Uuid, Option<String>> = webhooks::table
        .filter(webhooks::id.eq_any(&about))
        .select((webhooks::id, webhooks::consumer_id))
        .load::<(Uuid, Option<String>)>(conn)
        .await?
        .into_iter()
        .collect();
    let mut batch = Vec::with_capacity(events.len());
    for e in events {
        let event_type =
            EventType::parse(e.event_type).map_err(|err| diesel::result::Error::SerializationError(err.into()))?;
        let consumer = consumers.get(&e.about).cloned().flatten();
        let event = Event::new(TenantId(e.tenant), &event_type, e.data, consumer, None, false)
            .map_err(|err| diesel::result::Error::SerializationError(err.into()))?;
        batch.push(Plain { event, filters: event_type.matching_filters(), not_to: Some(e.about) });
    }
    Ok(insert_many(&*conn, &batch).await?.into_iter().sum())
}

#[derive(QueryableByName)]
struct Disabled {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    failing_since: DateTime<Utc>,
    #[diesel(sql_type = Int4)]
    failed_streak: i32,
}

/// Makes inactive the webhooks the rule condemns (`disabledReason: "failing"`), a hundred
/// at a time, and publishes `hookrelay.webhook.disabled` for each. The streak starts again
/// from nothing, so that a webhook its owner re-enables gets the whole period again.
/// Rows another process holds are skipped: it is deciding them, or recording outcomes of
/// them (the next round sees them). The lock is FOR NO KEY UPDATE, which publishes (FOR
/// KEY SHARE on the webhooks they match) neither wait for nor hold up. Returns how many.
pub async fn disable_failing(conn: &mut AsyncPgConnection, rule: AutoDisable) -> QueryResult<usize> {
    conn.transaction(async move |conn| {
        let disabled: Vec<Disabled> = prepared(
            diesel::sql_query(
                "WITH c AS (SELECT id, failing_since, failed_streak FROM webhooks \
                   WHERE failing_since <= now() - make_interval(secs => $1) AND failed_streak >= $2 \
                     AND active AND deleted_at IS NULL ORDER BY failing_since LIMIT 100 FOR NO KEY UPDATE SKIP LOCKED) \
                 UPDATE webhooks w SET active = false, disabled_reason = $3, disabled_at = now(), updated_at = now(), \
                   failing_since = NULL, failed_streak = 0 \
                 FROM c WHERE w.id = c.id RETURNING w.id, w.tenant_id, c.failing_since, c.failed_streak",
            )
            .bind::<Double, _>(rule.after.as_secs_f64())
            .bind::<Int4, _>(rule.min_failed)
            .bind::<diesel::sql_types::Text, _>(DISABLED_FAILING),
        )
        .load(conn)
        .await?;
        let n = disabled.len();
        let events = disabled
            .into_iter()
            .map(|d| {
                let data = WebhookDisabled {
                    webhook_id: d.id,
                    reason: DISABLED_FAILING,
                    failing_since: d.failing_since,
                    failed_deliveries: d.failed_streak,
                };
                Operational::new(d.tenant_id, d.id, WEBHOOK_DISABLED, &data)
            })
            .collect::<QueryResult<Vec<_>>>()?;
        publish(conn, events).await?;
        Ok(n)
    })
    .await
}

#[derive(QueryableByName)]
struct MinuteRow {
    #[diesel(sql_type = SqlUuid)]
    webhook_id: Uuid,
    #[diesel(sql_type = Int4)]
    attempts: i32,
    #[diesel(sql_type = Int4)]
    attempt_successes: i32,
    #[diesel(sql_type = Array<Int4>)]
    latency_hist: Vec<i32>,
}

#[derive(Default)]
struct WindowCounts {
    attempts: i64,
    successes: i64,
    hist: Vec<i64>,
}

#[derive(QueryableByName)]
struct Changed {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = Bool)]
    degraded: bool,
}

/// Evaluates the degraded rule (see `domain::operational::is_degraded`) over the last
/// [`WINDOW_MINUTES`] minute rollups of every webhook with enough attempts in them, and
/// publishes `hookrelay.webhook.degraded` or `hookrelay.webhook.recovered` for each webhook
/// whose verdict changed. A webhook with too few attempts keeps its state: silence is not
/// a recovery. Returns how many changed.
pub async fn evaluate(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    let since = span_start(now, MINUTE) - TimeDelta::minutes(WINDOW_MINUTES - 1);
    let rows = busy_minute_rows(conn, since).await?;
    let mut verdicts = verdicts(window_counts(rows), since, now);
    if verdicts.is_empty() {
        return Ok(0);
    }
    let (ids, states): (Vec<Uuid>, Vec<bool>) = verdicts.iter().map(|(id, (d, _))| (*id, *d)).unzip();
    conn.transaction(async move |conn| {
        // the recorder updates webhook rows too, several per statement: taking its lock
        // first keeps the two (and two evaluations) from locking rows in opposite orders
        crate::db::locks::lock_recording(conn).await?;
        let changed: Vec<Changed> = prepared(
            diesel::sql_query(
                "UPDATE webhooks w SET degraded = u.degraded FROM unnest($1::uuid[], $2::bool[]) AS u(id, degraded) \
                 WHERE w.id = u.id AND w.degraded <> u.degraded AND w.deleted_at IS NULL \
                 RETURNING w.id, w.tenant_id, w.degraded",
            )
            .bind::<Array<SqlUuid>, _>(ids)
            .bind::<Array<Bool>, _>(states),
        )
        .load(conn)
        .await?;
        let n = changed.len();
        let events = changed
            .into_iter()
            .filter_map(|c| verdicts.remove(&c.id).map(|(_, health)| (c, health)))
            .map(|(c, health)| {
                let event_type = if c.degraded { WEBHOOK_DEGRADED } else { WEBHOOK_RECOVERED };
                Operational::new(c.tenant_id, c.id, event_type, &health)
            })
            .collect::<QueryResult<Vec<_>>>()?;
        publish(conn, events).await?;
        Ok(n)
    })
    .await
}

/// The minute rollups since `since` of every webhook with at least [`MIN_ATTEMPTS`]
/// attempts in them.
async fn busy_minute_rows(conn: &mut AsyncPgConnection, since: DateTime<Utc>) -> QueryResult<Vec<MinuteRow>> {
    prepared(
        diesel::sql_query(
            "WITH busy AS (SELECT webhook_id FROM stats_rollups WHERE span = 1 AND start >= $1 AND webhook_id <> $2 \
               GROUP BY webhook_id HAVING sum(attempts) >= $3) \
             SELECT r.webhook_id, r.attempts, r.attempt_successes, r.latency_hist FROM stats_rollups r \
             JOIN busy USING (webhook_id) WHERE r.span = 1 AND r.start >= $1",
        )
        .bind::<Timestamptz, _>(since)
        .bind::<SqlUuid, _>(TENANT_WIDE)
        .bind::<Int4, _>(i32::try_from(MIN_ATTEMPTS).unwrap_or(i32::MAX)),
    )
    .load(conn)
    .await
}

/// Each webhook's rows summed over the window.
fn window_counts(rows: Vec<MinuteRow>) -> HashMap<Uuid, WindowCounts> {
    let mut windows: HashMap<Uuid, WindowCounts> = HashMap::new();
    for r in rows {
        let w = windows.entry(r.webhook_id).or_default();
        w.attempts += i64::from(r.attempts);
        w.successes += i64::from(r.attempt_successes);
        add_counts(&mut w.hist, &r.latency_hist);
    }
    windows
}

/// The webhooks the rule has a verdict for (degraded or not), with the health their event
/// reports.
fn verdicts(
    windows: HashMap<Uuid, WindowCounts>,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> BTreeMap<Uuid, (bool, WebhookHealth)> {
    let mut verdicts: BTreeMap<Uuid, (bool, WebhookHealth)> = BTreeMap::new();
    for (id, w) in windows {
        let rate = w.successes as f64 / w.attempts.max(1) as f64;
        let p95 = percentile(&w.hist, 0.95);
        if let Some(degraded) = is_degraded(w.attempts, rate, quantile_exceeds(&w.hist, 0.95, SLOW_MS)) {
            let health = WebhookHealth {
                webhook_id: id,
                window: Window { since, until: now },
                attempts: w.attempts,
                attempt_success_rate: rate,
                p95_ms: p95,
            };
            verdicts.insert(id, (degraded, health));
        }
    }
    verdicts
}
