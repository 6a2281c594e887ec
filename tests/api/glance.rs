//! Health at a glance and chosen stats buckets (SPEC "Health at a glance", "Logs and stats").

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};

use crate::helpers::{Receiver, Reply, TestApp};

/// Publishes `event` and waits until each of its deliveries has had `attempts` attempts.
async fn publish_and_wait(app: &TestApp, token: &str, event: &str, attempts: i64) {
    let published = app.publish(token, event, json!({"n": 1})).await;
    for d in app.deliveries_of(token, published["id"].as_str().unwrap()).await {
        let id = d["id"].as_str().unwrap().to_owned();
        app.wait_delivery(token, &id, Duration::from_secs(10), |d| d["attemptCount"].as_i64() >= Some(attempts)).await;
    }
}

/// The webhook's health, once the recorder has caught up with `done`.
async fn health_when(app: &TestApp, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, w) = app.get(&format!("/api/v1/webhooks/{id}"), token).await;
        assert_eq!(status, 200, "{w}");
        if done(&w["health"]) || tokio::time::Instant::now() > deadline {
            return w["health"].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The start of the quarter-hour of `t`.
fn span_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    chrono::DurationRound::duration_trunc(t, TimeDelta::minutes(15)).unwrap()
}

fn recent(t: &Value) -> bool {
    let t: DateTime<Utc> = t.as_str().unwrap_or_else(|| panic!("a time, got {t}")).parse().unwrap();
    (Utc::now() - t).abs() < TimeDelta::seconds(30)
}

#[tokio::test(flavor = "multi_thread")]
async fn each_health_state_from_real_attempts_in_one_list() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let ok = Receiver::ok().await;
    let failing = Arc::new(AtomicBool::new(true));
    let flaky = {
        let failing = failing.clone();
        Receiver::start(move |_| Reply::status(if failing.load(Ordering::SeqCst) { 500 } else { 200 })).await
    };
    let broken = Receiver::start(|_| Reply::status(503)).await;
    let hook = |name: &str, url: &str, event: &str, extra: Value| {
        let mut body = json!({"name": name, "url": url, "events": [event], "rateLimitPerMinute": null});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let healthy = app.webhook(&token, hook("healthy", &ok.url, "a.ok", json!({}))).await;
    let failing_hook = app.webhook(&token, hook("failing", &flaky.url, "a.fail", json!({"retrySchedule": []}))).await;
    // every attempt fails, but a retry an hour away keeps each delivery from ending failed
    let degraded = app.webhook(&token, hook("degraded", &broken.url, "a.slow", json!({"retrySchedule": [3600]}))).await;
    let disabled = app.webhook(&token, hook("disabled", &ok.url, "a.off", json!({"active": false}))).await;
    let idle = app.webhook(&token, hook("idle", &ok.url, "a.none", json!({}))).await;
    let id = |w: &Value| w["id"].as_str().unwrap().to_owned();

    let fresh = &idle["health"];
    assert_eq!(
        fresh,
        &json!({"state": "idle", "failingSince": null, "lastAttemptAt": null, "lastSuccessAt": null,
        "attempts24h": 0, "successRate24h": null}),
        "a new webhook's health, in the create answer"
    );

    publish_and_wait(&app, &token, "a.ok", 1).await;
    publish_and_wait(&app, &token, "a.fail", 1).await;
    for _ in 0..20 {
        app.publish(&token, "a.slow", json!({})).await;
    }
    let h = health_when(&app, &token, &id(&healthy), |h| h["state"] == "healthy").await;
    assert_eq!(
        (h["state"].as_str(), h["attempts24h"].as_i64(), h["successRate24h"].as_f64()),
        (Some("healthy"), Some(1), Some(1.0)),
        "{h}"
    );
    assert!(recent(&h["lastAttemptAt"]) && recent(&h["lastSuccessAt"]), "{h}");
    assert_eq!(h["failingSince"], Value::Null);

    let h = health_when(&app, &token, &id(&failing_hook), |h| h["state"] == "failing").await;
    assert_eq!(h["state"], "failing", "{h}");
    assert!(recent(&h["failingSince"]) && recent(&h["lastAttemptAt"]), "{h}");
    assert_eq!((h["lastSuccessAt"].clone(), h["successRate24h"].as_f64()), (Value::Null, Some(0.0)), "{h}");

    let h = health_when(&app, &token, &id(&degraded), |h| h["attempts24h"].as_i64() >= Some(20)).await;
    assert_eq!(h["state"], "degraded", "20 attempts in 15 minutes, none answered 2xx, no delivery ended: {h}");

    // the list answers every state at once
    let (status, page) = app.get("/api/v1/webhooks", &token).await;
    assert_eq!(status, 200);
    let states: std::collections::HashMap<String, String> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["name"].as_str().unwrap().to_owned(), w["health"]["state"].as_str().unwrap().to_owned()))
        .collect();
    for (name, state) in [
        ("healthy", "healthy"),
        ("failing", "failing"),
        ("degraded", "degraded"),
        ("disabled", "disabled"),
        ("idle", "idle"),
    ] {
        assert_eq!(states[name], state, "{states:?}");
    }
    assert_eq!(disabled["health"]["state"], "disabled");

    // making it inactive shows disabled; re-enabling does not forget the failures; a success does
    let path = format!("/api/v1/webhooks/{}", id(&failing_hook));
    let (_, w) = app.patch(&path, &token, json!({"active": false})).await;
    assert_eq!((w["health"]["state"].as_str(), &w["health"]["failingSince"]), (Some("disabled"), &Value::Null), "{w}");
    let (_, w) = app.patch(&path, &token, json!({"active": true})).await;
    assert_eq!(w["health"]["state"], "failing", "{w}");
    failing.store(false, Ordering::SeqCst);
    publish_and_wait(&app, &token, "a.fail", 1).await;
    let h = health_when(&app, &token, &id(&failing_hook), |h| h["state"] == "healthy").await;
    assert_eq!((h["state"].as_str(), h["successRate24h"].as_f64()), (Some("healthy"), Some(0.5)), "{h}");
    assert!(recent(&h["lastSuccessAt"]), "{h}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chosen_bucket_sizes_the_series_and_too_many_buckets_are_refused() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let ok = Receiver::ok().await;
    let w = app.webhook(&token, json!({"name": "h", "url": ok.url, "events": ["*"]})).await;
    publish_and_wait(&app, &token, "a.b", 1).await;
    let id = w["id"].as_str().unwrap();
    let now = Utc::now();
    let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let window =
        |hours: i64| format!("since={}&until={}", fmt(now - TimeDelta::hours(hours)), fmt(now + TimeDelta::minutes(1)));

    for path in [format!("/api/v1/webhooks/{id}/stats"), "/api/v1/stats".to_owned()] {
        for (bucket, hours, minutes) in
            [("1m", 1, 1), ("5m", 6, 5), ("15m", 24, 15), ("1h", 24 * 7, 60), ("1d", 24 * 30, 1440)]
        {
            let (status, s) = app.get(&format!("{path}?{}&bucket={bucket}", window(hours)), &token).await;
            assert_eq!(status, 200, "{bucket}: {s}");
            let series = s["series"].as_array().unwrap();
            let starts: Vec<DateTime<Utc>> =
                series.iter().map(|b| b["start"].as_str().unwrap().parse().unwrap()).collect();
            assert!(starts.windows(2).all(|p| p[1] - p[0] == TimeDelta::minutes(minutes)), "{bucket}: {starts:?}");
            assert_eq!(starts[0].timestamp() % (minutes * 60), 0, "{bucket} buckets are UTC-aligned");
            let expected = (hours * 60 + 1) / minutes;
            assert!((expected..=expected + 2).contains(&(series.len() as i64)), "{bucket}: {} buckets", series.len());
            let attempts: i64 = series.iter().map(|b| b["attempts"].as_i64().unwrap()).sum();
            assert_eq!(attempts, s["attempts"].as_i64().unwrap(), "{bucket}: the series adds up");
            assert_eq!(attempts, 1, "{bucket}");
        }
        // whole quarter-hours of a window are read from their own rows, its edges from minutes
        let (since, until) = (span_floor(now - TimeDelta::hours(2)), span_floor(now) + TimeDelta::minutes(30));
        let (status, s) =
            app.get(&format!("{path}?since={}&until={}&bucket=15m", fmt(since), fmt(until)), &token).await;
        assert_eq!((status, s["attempts"].as_i64()), (200, Some(1)), "{s}");
        assert_eq!(s["series"].as_array().unwrap().len(), 10, "{s}");
        // 26 h of minutes is more than 1,500 buckets; an unknown size is refused too
        for query in [format!("{}&bucket=1m", window(26)), format!("{}&bucket=2m", window(1))] {
            let (status, err) = app.get(&format!("{path}?{query}"), &token).await;
            assert_eq!((status, err["errors"][0]["field"].as_str()), (422, Some("bucket")), "{query}: {err}");
        }
        // without a bucket, the default sizes apply whatever the count
        let (status, s) = app.get(&format!("{path}?{}", window(24 * 90 - 1)), &token).await;
        assert_eq!(status, 200, "{s}");
        assert!(s["series"].as_array().unwrap().len() > 1_500);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_successful_operational_event_ends_a_failing_streak_too() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let failing = Arc::new(AtomicBool::new(true));
    let switchable = {
        let failing = failing.clone();
        Receiver::start(move |_| Reply::status(if failing.load(Ordering::SeqCst) { 500 } else { 200 })).await
    };
    let broken = Receiver::start(|_| Reply::status(500)).await;
    let watcher = app
        .webhook(
            &token,
            json!({"name": "watcher", "url": switchable.url, "events": ["a.w", "hookrelay.delivery.failed"],
                   "retrySchedule": []}),
        )
        .await;
    app.webhook(&token, json!({"name": "broken", "url": broken.url, "events": ["a.f"], "retrySchedule": []})).await;
    let id = watcher["id"].as_str().unwrap().to_owned();
    publish_and_wait(&app, &token, "a.w", 1).await;
    let h = health_when(&app, &token, &id, |h| h["state"] == "failing").await;
    assert_eq!(h["state"], "failing", "{h}");

    // the other webhook's failure is announced to this one, which now answers 200
    failing.store(false, Ordering::SeqCst);
    publish_and_wait(&app, &token, "a.f", 1).await;
    let h = health_when(&app, &token, &id, |h| h["state"] == "healthy").await;
    assert_eq!((h["state"].as_str(), &h["failingSince"]), (Some("healthy"), &Value::Null), "{h}");
    assert!(recent(&h["lastSuccessAt"]), "{h}");
}
