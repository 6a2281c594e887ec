//! Delivery stats of one webhook or of the whole tenant, from the minute, quarter-hour and
//! hour rollups.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::api::caller::Caller;
use crate::api::params::{path_id, Params};
use crate::api::route::resource;
use crate::api::state::AppState;
use crate::db;
use crate::db::stats::{StatsRow, HOUR, MINUTE, QUARTER, TENANT_WIDE};
use crate::domain::latency::{add_counts, percentile, ERROR_KINDS};
use crate::domain::ts;
use crate::error::{ApiError, ApiResult};

/// The longest window a stats request may ask for.
pub const MAX_WINDOW_DAYS: i64 = 90;
/// Windows up to this long get a per-minute series; longer ones an hourly one.
const MINUTE_SERIES_UP_TO_HOURS: i64 = 2;
/// The most buckets a series with a chosen `bucket` may have.
pub const MAX_BUCKETS: i64 = 1_500;

/// The series bucket sizes a request may choose, UTC-aligned.
const BUCKETS: [(&str, i64); 5] = [("1m", 1), ("5m", 5), ("15m", 15), ("1h", 60), ("1d", 1_440)];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/webhooks/{id}/stats").route(web::get().to(webhook_stats)))
        .service(resource("/api/v1/stats").route(web::get().to(tenant_stats)));
}

#[derive(Debug, Serialize, PartialEq)]
pub struct DeliveryCounts {
    total: i64,
    succeeded: i64,
    failed: i64,
    pending: i64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ResponseTimes {
    avg: Option<f64>,
    p50: Option<i64>,
    p95: Option<i64>,
    p99: Option<i64>,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SeriesBucket {
    start: String,
    attempts: i64,
    succeeded: i64,
    failed: i64,
    p95_ms: Option<i64>,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    since: String,
    until: String,
    deliveries: DeliveryCounts,
    success_rate: Option<f64>,
    attempts: i64,
    retries: i64,
    attempt_success_rate: Option<f64>,
    response_time_ms: ResponseTimes,
    errors_by_kind: serde_json::Map<String, serde_json::Value>,
    series: Vec<SeriesBucket>,
}

/// The window of a request: defaults to the last 24 h, widened to whole minutes (since
/// rounded down, until rounded up), at most 90 days.
pub fn window(params: &Params, now: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let (since, until) = params.window()?;
    let until = until.unwrap_or(now);
    let since = since.unwrap_or(until - TimeDelta::hours(24));
    if since > until {
        return Err(ApiError::field("since", "must not be after until"));
    }
    if until - since > TimeDelta::days(MAX_WINDOW_DAYS) {
        return Err(ApiError::field("since", "the window may span at most 90 days"));
    }
    let minute = TimeDelta::minutes(1);
    let since = since.duration_trunc(minute).unwrap_or(since);
    let truncated = until.duration_trunc(minute).unwrap_or(until);
    let until = if truncated == until { until } else { truncated + minute };
    Ok((since, until))
}

fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The series' bucket length: the request's `bucket` (at most [`MAX_BUCKETS`] of them over
/// the window), else the default for the window's length.
pub fn step(params: &Params, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<TimeDelta, ApiError> {
    let Some(name) = params.string("bucket") else {
        return Ok(series_step(since, until));
    };
    let Some(&(_, minutes)) = BUCKETS.iter().find(|(n, _)| *n == name) else {
        return Err(ApiError::field("bucket", "must be one of 1m, 5m, 15m, 1h, 1d"));
    };
    let step = TimeDelta::minutes(minutes);
    let first = since.duration_trunc(step).unwrap_or(since);
    let buckets = ((until - first).num_minutes() + minutes - 1) / minutes;
    if buckets > MAX_BUCKETS {
        return Err(ApiError::field(
            "bucket",
            format!("{name} buckets over this window would be {buckets}; at most {MAX_BUCKETS}: choose a larger bucket or a shorter window"),
        ));
    }
    Ok(step)
}

/// Folds the rollup rows of [since, until) into the answer, with a series of `step`
/// buckets. `unattempted` counts the deliveries created in the window that no attempt has
/// finished yet.
pub fn summarize(
    rows: &[StatsRow],
    unattempted: i64,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    step: TimeDelta,
) -> Stats {
    let first = since.duration_trunc(step).unwrap_or(since);
    let mut series: Vec<(DateTime<Utc>, i64, i64, Vec<i64>)> = Vec::new();
    let mut start = first;
    while start < until {
        series.push((start, 0, 0, Vec::new()));
        start += step;
    }
    let (mut started, mut succeeded, mut failed) = (0i64, 0i64, 0i64);
    let (mut attempts, mut successes, mut retries, mut answered, mut latency_sum) = (0i64, 0i64, 0i64, 0i64, 0i64);
    let mut hist = Vec::new();
    let mut errors = Vec::new();
    for r in rows {
        let start = r.start;
        let r = &r.counts;
        started += i64::from(r.deliveries_started);
        succeeded += i64::from(r.deliveries_succeeded);
        failed += i64::from(r.deliveries_failed);
        attempts += i64::from(r.attempts);
        successes += i64::from(r.attempt_successes);
        retries += i64::from(r.retries);
        answered += i64::from(r.answered);
        latency_sum += r.latency_sum_ms;
        add_counts(&mut hist, &r.latency_hist);
        add_counts(&mut errors, &r.errors);
        let i = ((start - first).num_seconds() / step.num_seconds()) as usize;
        if let Some(bucket) = series.get_mut(i) {
            bucket.1 += i64::from(r.attempt_successes);
            bucket.2 += i64::from(r.attempts - r.attempt_successes);
            add_counts(&mut bucket.3, &r.latency_hist);
        }
    }
    let total = started + unattempted;
    let errors_by_kind = errors_by_kind(&errors);
    Stats {
        since: ts(since),
        until: ts(until),
        deliveries: DeliveryCounts { total, succeeded, failed, pending: total - succeeded - failed },
        success_rate: rate(succeeded, succeeded + failed),
        attempts,
        retries,
        attempt_success_rate: rate(successes, attempts),
        response_time_ms: ResponseTimes {
            avg: (answered > 0).then(|| (latency_sum as f64 / answered as f64 * 10.0).round() / 10.0),
            p50: percentile(&hist, 0.50),
            p95: percentile(&hist, 0.95),
            p99: percentile(&hist, 0.99),
        },
        errors_by_kind,
        series: series
            .into_iter()
            .map(|(start, ok, bad, hist)| SeriesBucket {
                start: ts(start),
                attempts: ok + bad,
                succeeded: ok,
                failed: bad,
                p95_ms: percentile(&hist, 0.95),
            })
            .collect(),
    }
}

/// The length of a series bucket: a minute for windows up to
/// [`MINUTE_SERIES_UP_TO_HOURS`], an hour for longer ones.
fn series_step(since: DateTime<Utc>, until: DateTime<Utc>) -> TimeDelta {
    if until - since <= TimeDelta::hours(MINUTE_SERIES_UP_TO_HOURS) {
        TimeDelta::minutes(1)
    } else {
        TimeDelta::hours(1)
    }
}

/// The error counts by kind name, leaving out the kinds that did not occur.
fn errors_by_kind(errors: &[i64]) -> serde_json::Map<String, serde_json::Value> {
    let mut errors_by_kind = serde_json::Map::new();
    for (kind, n) in ERROR_KINDS.iter().zip(errors) {
        if *n > 0 {
            errors_by_kind.insert((*kind).to_owned(), (*n).into());
        }
    }
    errors_by_kind
}

async fn load(state: &AppState, caller: &Caller, webhook: Option<Uuid>, req: &HttpRequest) -> ApiResult<Stats> {
    let tenant = caller.tenant;
    let params = Params::from_request(req)?;
    let (since, until) = window(&params, Utc::now())?;
    let step = step(&params, since, until)?;
    let mut conn = state.pool.get().await?;
    if let Some(id) = webhook {
        caller.webhook(&mut conn, id).await?;
    }
    // the largest rows that fit whole buckets: hours for hours and days, quarter-hours for
    // 15 minutes, else minutes (the window's ragged edges are always minute rows)
    let span = if step >= TimeDelta::hours(1) {
        HOUR
    } else if step >= TimeDelta::minutes(15) {
        QUARTER
    } else {
        MINUTE
    };
    let rows = db::stats::rows(&mut conn, tenant, webhook.unwrap_or(TENANT_WIDE), since, until, span).await?;
    let unattempted = db::stats::unattempted(&mut conn, tenant, webhook, since, until).await?;
    Ok(summarize(&rows, unattempted, since, until, step))
}

async fn webhook_stats(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id)?;
    Ok(HttpResponse::Ok().json(load(&state, &caller, Some(id), &req).await?))
}

async fn tenant_stats(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(load(&state, &caller, None, &req).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::stats::Counts;
    use crate::domain::latency::{bucket, bucket_count};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn row(minute: &str, latencies: &[i64], failures: i32) -> StatsRow {
        let mut hist = vec![0; bucket_count()];
        for ms in latencies {
            hist[bucket(*ms)] += 1;
        }
        let n = latencies.len() as i32;
        StatsRow {
            start: at(minute),
            counts: Counts {
                attempts: n,
                attempt_successes: n - failures,
                retries: failures,
                answered: n,
                latency_sum_ms: latencies.iter().sum(),
                latency_hist: hist,
                errors: vec![0, 0, 0, 0, failures, 0, 0],
                deliveries_started: n - failures,
                deliveries_succeeded: n - failures,
                deliveries_failed: 0,
            },
        }
    }

    #[test]
    fn windows_widen_to_whole_minutes_and_are_bounded() {
        let now = at("2024-01-02T12:00:30.500Z");
        let q = |s: &str| {
            Params(web::Query::<std::collections::HashMap<String, String>>::from_query(s).unwrap().into_inner())
        };
        let (since, until) = window(&q(""), now).unwrap();
        assert_eq!((ts(since), ts(until)), ("2024-01-01T12:00:00.000Z".into(), "2024-01-02T12:01:00.000Z".into()));
        let (since, until) = window(&q("since=2024-01-01T10:00:59Z&until=2024-01-01T11:00:00Z"), now).unwrap();
        assert_eq!((ts(since), ts(until)), ("2024-01-01T10:00:00.000Z".into(), "2024-01-01T11:00:00.000Z".into()));
        assert!(window(&q("since=2023-01-01T00:00:00Z&until=2024-01-01T00:00:00Z"), now).is_err());
        assert!(window(&q("since=2024-01-02T00:00:00Z&until=2024-01-01T00:00:00Z"), now).is_err());
    }

    #[test]
    fn sums_rates_percentiles_and_a_dense_series() {
        let rows = [row("2024-01-01T10:05:00Z", &[2, 3, 100], 1), row("2024-01-01T10:07:00Z", &[2], 0)];
        let s = summarize(&rows, 2, at("2024-01-01T10:00:00Z"), at("2024-01-01T10:10:00Z"), TimeDelta::minutes(1));
        assert_eq!(s.deliveries, DeliveryCounts { total: 5, succeeded: 3, failed: 0, pending: 2 });
        assert_eq!(s.success_rate, Some(1.0));
        assert_eq!((s.attempts, s.retries), (4, 1));
        assert_eq!(s.attempt_success_rate, Some(0.75));
        assert_eq!(s.response_time_ms.avg, Some(26.8));
        assert_eq!(s.response_time_ms.p50, Some(2));
        assert!((100..=110).contains(&s.response_time_ms.p99.unwrap()));
        assert_eq!(s.errors_by_kind.get("http_status"), Some(&serde_json::json!(1)));
        assert_eq!(s.series.len(), 10, "one bucket per minute, every minute present");
        assert_eq!(s.series[5].attempts, 3);
        assert_eq!(s.series[5].failed, 1);
        assert_eq!(s.series[0].attempts, 0);
        assert_eq!(s.series[0].p95_ms, None);
    }

    #[test]
    fn nothing_to_compute_gives_nulls_and_hourly_buckets_for_long_windows() {
        let s = summarize(&[], 0, at("2024-01-01T10:30:00Z"), at("2024-01-02T10:30:00Z"), TimeDelta::hours(1));
        assert_eq!(s.success_rate, None);
        assert_eq!(s.attempt_success_rate, None);
        assert_eq!(s.response_time_ms, ResponseTimes { avg: None, p50: None, p95: None, p99: None });
        assert_eq!(s.series.len(), 25, "aligned hours from 10:00 to 10:00 the next day");
        assert_eq!(s.series[0].start, "2024-01-01T10:00:00.000Z");
    }

    #[test]
    fn a_chosen_bucket_sizes_the_series_up_to_1500_buckets() {
        let q = |s: &str| {
            Params(web::Query::<std::collections::HashMap<String, String>>::from_query(s).unwrap().into_inner())
        };
        let (since, until) = (at("2024-01-01T10:07:00Z"), at("2024-01-01T16:07:00Z"));
        assert_eq!(step(&q(""), since, until).unwrap(), TimeDelta::hours(1), "the default for 6 h");
        let five = step(&q("bucket=5m"), since, until).unwrap();
        let s = summarize(&[row("2024-01-01T10:08:00Z", &[2], 0)], 0, since, until, five);
        assert_eq!(s.series.len(), 73, "10:05 to 16:05, aligned to the clock, the edges partial");
        assert_eq!((s.series[0].start.as_str(), s.series[0].attempts), ("2024-01-01T10:05:00.000Z", 1));
        let day = step(&q("bucket=1d"), since, until).unwrap();
        assert_eq!(summarize(&[], 0, since, until, day).series[0].start, "2024-01-01T00:00:00.000Z");
        // 25 h of minutes is 1,500 buckets; a minute more is too many
        let long = (at("2024-01-01T00:00:00Z"), at("2024-01-02T01:00:00Z"));
        assert!(step(&q("bucket=1m"), long.0, long.1).is_ok());
        assert!(step(&q("bucket=1m"), long.0, long.1 + TimeDelta::minutes(1)).is_err());
        assert!(step(&q("bucket=2m"), since, until).is_err());
    }
}
