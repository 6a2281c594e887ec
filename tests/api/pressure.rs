//! SPEC "Delivery rules": one endpoint's trouble is its own (hanging endpoints cannot hold
//! a dispatcher's capacity), and back-pressure from receivers (Retry-After pauses,
//! adaptive concurrency).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{Receiver, Reply, RetryAfter, TestApp};

async fn hook(app: &TestApp, token: &str, url: &str, event: &str, extra: Value) -> Value {
    let mut body = json!({"name": event, "url": url, "events": [event], "rateLimitPerMinute": null});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.webhook(token, body).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_whose_endpoints_hang_does_not_delay_another() {
    // Far more hanging attempts due than the dispatcher has slots (40 against 8), each
    // held for the whole (generous) attempt timeout.
    let app = TestApp::spawn_with(&["--dispatch-concurrency", "8", "--attempt-timeout", "30s", "--lease", "40s"]).await;
    let (a, _) = app.tenant("Hanging").await;
    let (b, _) = app.tenant("Healthy").await;
    let hanging = Receiver::start(|_| Reply::delayed(200, Duration::from_secs(60))).await;
    let healthy = Receiver::ok().await;
    for i in 0..4 {
        hook(&app, &a, &hanging.url, &format!("a.e{i}"), json!({"maxConcurrency": 10})).await;
    }
    hook(&app, &b, &healthy.url, "b.e", json!({})).await;
    for i in 0..4 {
        for n in 0..10 {
            app.publish(&a, &format!("a.e{i}"), json!({"n": n})).await;
        }
    }
    // the dispatcher's slots fill with hanging attempts
    hanging.wait_arrivals(8, Duration::from_secs(10)).await;

    let started = Instant::now();
    for n in 0..3 {
        app.publish(&b, "b.e", json!({"n": n})).await;
        healthy.wait_for(n + 1, Duration::from_secs(20)).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "the healthy tenant's deliveries arrived while every hanging attempt still hung (timeout 30 s)"
    );
    // the hanging endpoints kept attempts in flight beyond the dispatcher's 8 fast slots
    assert!(hanging.arrivals().len() > 8, "slow attempts left their slots: {}", hanging.arrivals().len());
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_pauses_the_endpoint_and_delays_the_retry() {
    let app = TestApp::spawn_with(&["--max-retry-after", "5s"]).await;
    let (token, _) = app.tenant("Acme").await;
    // (event, the first answer, the webhook's schedule)
    let answers: [(&str, Reply, i64); 5] = [
        ("p.seconds", Reply::retry_after(429, RetryAfter::Raw("3")), 1),
        ("p.date", Reply::retry_after(503, RetryAfter::DateIn(3)), 1),
        ("p.capped", Reply::retry_after(429, RetryAfter::Raw("3600")), 1),
        ("p.garbage", Reply::retry_after(429, RetryAfter::Raw("soon")), 1),
        // the schedule outlasts the Retry-After: the pause lasts until the retry
        ("p.schedule", Reply::retry_after(429, RetryAfter::Raw("1")), 4),
    ];
    let mut cases = Vec::new();
    for (event, first, delay) in answers {
        let receiver = Receiver::start(move |n| if n == 0 { first } else { Reply::status(200) }).await;
        let webhook = hook(&app, &token, &receiver.url, event, json!({"retrySchedule": [delay]})).await;
        app.publish(&token, event, json!({"n": 0})).await;
        receiver.wait_arrivals(1, Duration::from_secs(10)).await;
        // a second delivery to the same endpoint, published once the first was refused
        cases.push((event, receiver, webhook));
    }
    let mut paused = Vec::new();
    for (event, _, webhook) in &cases {
        let path = format!("/api/v1/webhooks/{}", webhook["id"].as_str().unwrap());
        // pausedUntil is written with the outcome: wait for the log row
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, logs) = app.get(&format!("{path}/logs"), &token).await;
            if !logs["data"].as_array().unwrap().is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "the refused attempt was not logged");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (_, got) = app.get(&path, &token).await;
        paused.push((*event, got["pausedUntil"].clone()));
        app.publish(&token, event, json!({"n": 1})).await;
    }

    for ((event, receiver, _), (_, paused_until)) in cases.iter().zip(paused) {
        let arrivals = receiver.wait_arrivals(3, Duration::from_secs(20)).await;
        let waited = |i: usize| arrivals[i].at.duration_since(arrivals[0].at);
        let (least, most) = match *event {
            "p.seconds" => (2.9, 8.0),
            "p.date" => (1.9, 8.0),      // an HTTP date has whole seconds
            "p.capped" => (4.9, 15.0),   // 3600 s capped at 5 s
            "p.schedule" => (3.9, 10.0), // the schedule's 4 s
            _ => (0.0, 4.5),             // ignored: the retry after the schedule's 1 s, the other at once
        };
        for i in [1, 2] {
            let secs = waited(i).as_secs_f64();
            assert!((least..most).contains(&secs), "{event}: request {i} came {secs:.2} s after the refusal");
        }
        if *event == "p.garbage" {
            assert_eq!(paused_until, Value::Null, "a malformed Retry-After pauses nothing");
        } else {
            let until = chrono::DateTime::parse_from_rfc3339(paused_until.as_str().unwrap_or_default());
            assert!(until.is_ok(), "{event}: pausedUntil {paused_until}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn timeouts_shrink_the_attempts_in_flight_and_successes_grow_them_back() {
    let app = TestApp::spawn_with(&["--attempt-timeout", "1s", "--lease", "5s"]).await;
    let (token, _) = app.tenant("Acme").await;
    // the first 12 requests hang past the timeout (not much longer: a request the sender
    // gave up on may still count here until its handler ends); the rest answer in 300 ms
    let receiver = Receiver::start(|n| {
        Reply::delayed(200, if n < 12 { Duration::from_millis(1200) } else { Duration::from_millis(300) })
    })
    .await;
    let webhook =
        hook(&app, &token, &receiver.url, "c.e", json!({"maxConcurrency": 4, "retrySchedule": [1, 1, 1, 1, 1]})).await;
    for n in 0..6 {
        app.publish(&token, "c.e", json!({"n": n})).await;
    }
    let arrivals = receiver.wait_arrivals(12, Duration::from_secs(30)).await;
    assert_eq!(arrivals.iter().take(4).map(|a| a.in_flight).max(), Some(4), "maxConcurrency at first");
    // every request after the first wave came after timeouts had been recorded
    let later = arrivals.iter().filter(|a| (6..12).contains(&a.n)).map(|a| a.in_flight).max().unwrap();
    assert!(later < 4, "after timeouts fewer than maxConcurrency in flight: {later}");

    // recovered: a backlog of quick answers grows it back to maxConcurrency
    receiver.wait_for(18, Duration::from_secs(30)).await;
    for n in 0..16 {
        app.publish(&token, "c.e", json!({"n": 100 + n})).await;
    }
    let arrivals = receiver.wait_arrivals(12 + 6 + 16, Duration::from_secs(30)).await;
    let last = arrivals.iter().rev().take(8).map(|a| a.in_flight).max().unwrap();
    assert_eq!(last, 4, "back to maxConcurrency once it answers again");
    let db = app.db.client().await;
    let row = db
        .query_one("SELECT adaptive_concurrency FROM webhooks WHERE id = $1::text::uuid", &[&webhook["id"].as_str()])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<i32>>(0), None, "at the maximum the webhook's row carries no lowered limit");
}
