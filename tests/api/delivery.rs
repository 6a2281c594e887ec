//! Delivery: fan-out, signatures, retries on schedule, error kinds, limits.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{Received, Receiver, Reply, TestApp};

fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// The receiver's own check of `X-Webhook-Signature`.
pub(crate) fn x_signature_ok(r: &Received, secret: &str, header: &str) -> bool {
    r.header(header) == format!("sha256={}", hex::encode(hmac(secret.as_bytes(), &r.body)))
}

/// The receiver's own check of the Standard Webhooks signature: the v1 entries it lists.
pub(crate) fn standard_signatures(r: &Received, secret: &str) -> (bool, usize) {
    let key = match secret.strip_prefix("whsec_") {
        Some(b64) => STANDARD.decode(b64).unwrap(),
        None => secret.as_bytes().to_vec(),
    };
    let mut signed = format!("{}.{}.", r.header("webhook-id"), r.header("webhook-timestamp")).into_bytes();
    signed.extend_from_slice(&r.body);
    let expected = format!("v1,{}", STANDARD.encode(hmac(&key, &signed)));
    let entries: Vec<&str> = r.header("webhook-signature").split(' ').collect();
    (entries.contains(&expected.as_str()), entries.iter().position(|e| *e == expected).unwrap_or(usize::MAX))
}

async fn hook(app: &TestApp, token: &str, url: &str, events: Value, extra: Value) -> Value {
    let mut body = json!({"name": "hook", "url": url, "events": events});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.webhook(token, body).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_reaches_exactly_the_matching_active_webhooks() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let (other, _) = app.tenant("Other").await;
    let exact = Receiver::ok().await;
    let star = Receiver::ok().await;
    let prefix = Receiver::ok().await;
    let deep_prefix = Receiver::ok().await;
    let unrelated = Receiver::ok().await;
    let inactive = Receiver::ok().await;
    let foreign = Receiver::ok().await;
    hook(&app, &token, &exact.url, json!(["message.new"]), json!({})).await;
    hook(&app, &token, &star.url, json!(["*"]), json!({})).await;
    hook(&app, &token, &prefix.url, json!(["message.*"]), json!({})).await;
    hook(&app, &token, &deep_prefix.url, json!(["message.new.*", "order.paid"]), json!({})).await;
    hook(&app, &token, &unrelated.url, json!(["messages.*", "message"]), json!({})).await;
    hook(&app, &token, &inactive.url, json!(["*"]), json!({"active": false})).await;
    hook(&app, &other, &foreign.url, json!(["*"]), json!({})).await;

    let event = app.publish(&token, "message.new", json!({"text": "hi"})).await;
    assert_eq!(event["deliveries"], 3);
    assert_eq!(event["event"], "message.new");
    for r in [&exact, &star, &prefix] {
        let got = r.wait_for(1, Duration::from_secs(10)).await;
        assert_eq!(got[0].header("x-webhook-id"), event["id"].as_str().unwrap());
    }
    let sub = app.publish(&token, "message.new.edited", json!({})).await;
    assert_eq!(sub["deliveries"], 3, "star, message.* and message.new.*");
    deep_prefix.wait_for(1, Duration::from_secs(10)).await;
    prefix.wait_for(2, Duration::from_secs(10)).await;
    star.wait_for(2, Duration::from_secs(10)).await;
    let none = app.publish(&token, "message", json!({})).await;
    assert_eq!(none["deliveries"], 2, "`message.*` does not match `message`; `*` and the exact `message` do");
    unrelated.wait_for(1, Duration::from_secs(10)).await;
    // give stray deliveries a moment to show up, then check nobody else got anything
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(exact.received().len(), 1);
    assert_eq!(inactive.received().len(), 0, "inactive webhooks never receive");
    assert_eq!(foreign.received().len(), 0, "another tenant's webhooks never receive");
    assert_eq!(unrelated.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn consumer_ids_route_events_to_that_customer_only() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("SaaS").await;
    let alice = Receiver::ok().await;
    let bob = Receiver::ok().await;
    let everyone = Receiver::ok().await;
    hook(&app, &token, &alice.url, json!(["*"]), json!({"consumerId": "alice"})).await;
    hook(&app, &token, &bob.url, json!(["*"]), json!({"consumerId": "bob"})).await;
    hook(&app, &token, &everyone.url, json!(["*"]), json!({})).await;
    let (status, e) =
        app.post("/api/v1/events", &token, json!({"event": "invoice.paid", "data": {}, "consumerId": "alice"})).await;
    assert_eq!((status, e["deliveries"].as_i64()), (202, Some(2)));
    alice.wait_for(1, Duration::from_secs(10)).await;
    everyone.wait_for(1, Duration::from_secs(10)).await;
    let plain = app.publish(&token, "invoice.paid", json!({})).await;
    assert_eq!(plain["deliveries"], 1, "an event without consumerId reaches only webhooks without one");
    everyone.wait_for(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bob.received().len(), 0);
    assert_eq!(alice.received().len(), 1);
    let (_, event) = app.get(&format!("/api/v1/events/{}", e["id"].as_str().unwrap()), &token).await;
    assert_eq!(event["consumerId"], "alice");
}

#[tokio::test(flavor = "multi_thread")]
async fn receivers_verify_both_signatures_before_and_during_a_rotation() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    let w = hook(&app, &token, &receiver.url, json!(["order.*"]), json!({"headers": {"X-Tenant-Tag": "blue"}})).await;
    let first_secret = w["secret"].as_str().unwrap().to_owned();

    let e = app.publish(&token, "order.paid", json!({"amount": 42, "currency": "EUR"})).await;
    let r = &receiver.wait_for(1, Duration::from_secs(10)).await[0];
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        json!({"id": e["id"], "event": "order.paid", "timestamp": e["timestamp"], "data": {"amount": 42, "currency": "EUR"}})
    );
    assert_eq!(r.header("content-type"), "application/json");
    assert!(r.header("user-agent").starts_with("hookrelay/"));
    assert_eq!(r.header("x-webhook-event"), "order.paid");
    assert_eq!(r.header("x-webhook-id"), e["id"].as_str().unwrap());
    assert_eq!(r.header("webhook-id"), e["id"].as_str().unwrap());
    assert_eq!(r.header("x-webhook-attempt"), "1");
    assert_eq!(r.header("x-tenant-tag"), "blue");
    assert_eq!(r.header("x-webhook-timestamp"), r.header("webhook-timestamp"));
    let ts: i64 = r.header("webhook-timestamp").parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
    assert!(r.header("x-webhook-test").is_empty() && r.header("x-webhook-signature-previous").is_empty());
    let deliveries = app.deliveries_of(&token, e["id"].as_str().unwrap()).await;
    assert_eq!(r.header("x-webhook-delivery"), deliveries[0]["id"].as_str().unwrap());
    assert!(x_signature_ok(r, &first_secret, "x-webhook-signature"));
    assert_eq!(standard_signatures(r, &first_secret), (true, 0));
    assert!(!x_signature_ok(r, "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "x-webhook-signature"));

    let (status, rotated) =
        app.post(&format!("/api/v1/webhooks/{}/rotate-secret", w["id"].as_str().unwrap()), &token, json!({})).await;
    assert_eq!(status, 200);
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    app.publish(&token, "order.paid", json!({"amount": 7})).await;
    let r = &receiver.wait_for(2, Duration::from_secs(10)).await[1];
    assert!(x_signature_ok(r, &new_secret, "x-webhook-signature"), "X-Webhook-Signature uses the newest secret");
    assert!(x_signature_ok(r, &first_secret, "x-webhook-signature-previous"));
    assert_eq!(standard_signatures(r, &new_secret), (true, 0), "newest first");
    assert_eq!(standard_signatures(r, &first_secret), (true, 1));
    assert_eq!(r.header("webhook-signature").split(' ').count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_caller_secret_signs_with_its_utf8_bytes_and_test_events_are_marked() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    let secret = "plain-secret-with-enough-length";
    let w =
        hook(&app, &token, &receiver.url, json!(["never.matches"]), json!({"secret": secret, "active": false})).await;
    assert_eq!(w["secret"], secret);
    let (status, accepted) = app
        .post(
            &format!("/api/v1/webhooks/{}/test", w["id"].as_str().unwrap()),
            &token,
            json!({"eventType": "ping.check", "payload": {"hello": "world"}}),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["deliveries"], 1);
    let r = &receiver.wait_for(1, Duration::from_secs(10)).await[0];
    assert_eq!(r.header("x-webhook-test"), "true");
    assert_eq!(r.header("x-webhook-event"), "ping.check");
    assert!(x_signature_ok(r, secret, "x-webhook-signature"));
    assert_eq!(standard_signatures(r, secret), (true, 0));
    let (_, event) = app.get(&format!("/api/v1/events/{}", accepted["id"].as_str().unwrap()), &token).await;
    assert_eq!(event["test"], true);
    assert_eq!(event["data"], json!({"hello": "world"}));
    let d = &app.deliveries_of(&token, accepted["id"].as_str().unwrap()).await[0];
    let done = app
        .wait_delivery(&token, d["id"].as_str().unwrap(), Duration::from_secs(10), |d| d["status"] == "succeeded")
        .await;
    assert_eq!(done["test"], true);
    assert_eq!(done["attempts"][0]["test"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_schedule_retries_after_4_8_and_10_seconds() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::start(|n| Reply::status(if n < 3 { 503 } else { 200 })).await;
    hook(&app, &token, &receiver.url, json!(["*"]), json!({})).await;
    let e = app.publish(&token, "job.done", json!({})).await;
    let got = receiver.wait_for(4, Duration::from_secs(40)).await;
    let gaps: Vec<f64> = got.windows(2).map(|w| (w[1].at - w[0].at).as_secs_f64()).collect();
    for (gap, want) in gaps.iter().zip([4.0, 8.0, 10.0]) {
        assert!(*gap >= want - 0.05 && *gap <= want + 1.5, "gaps {gaps:?} should be about 4, 8, 10 s");
    }
    let attempts: Vec<&str> = got.iter().map(|r| r.header("x-webhook-attempt")).collect();
    assert_eq!(attempts, ["1", "2", "3", "4"]);
    let ids: HashSet<&str> = got.iter().map(|r| r.header("x-webhook-id")).collect();
    assert_eq!(ids.len(), 1, "the same event id on every attempt");
    let bodies: HashSet<&Vec<u8>> = got.iter().map(|r| &r.body).collect();
    assert_eq!(bodies.len(), 1, "the same body bytes on every attempt");
    let d = &app.deliveries_of(&token, e["id"].as_str().unwrap()).await[0];
    let done = app
        .wait_delivery(&token, d["id"].as_str().unwrap(), Duration::from_secs(5), |d| d["status"] == "succeeded")
        .await;
    assert_eq!(done["attemptCount"], 4);
    let kinds: Vec<&Value> = done["attempts"].as_array().unwrap().iter().map(|a| &a["errorKind"]).collect();
    assert_eq!(kinds, [&json!("http_status"), &json!("http_status"), &json!("http_status"), &Value::Null]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_always_fails_ends_failed_and_a_manual_retry_starts_a_new_series() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::start(|n| Reply::status(if n < 4 { 500 } else { 200 })).await;
    hook(&app, &token, &receiver.url, json!(["*"]), json!({"retrySchedule": [1, 1, 1]})).await;
    let e = app.publish(&token, "job.done", json!({})).await;
    let d = &app.deliveries_of(&token, e["id"].as_str().unwrap()).await[0];
    let id = d["id"].as_str().unwrap();
    let failed = app.wait_delivery(&token, id, Duration::from_secs(20), |d| d["status"] == "failed").await;
    assert_eq!(failed["attemptCount"], 4);
    assert_eq!(failed["nextAttemptAt"], Value::Null);
    let attempts = failed["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 4);
    for (i, a) in attempts.iter().enumerate() {
        assert_eq!(a["attempt"], i as i64 + 1);
        assert_eq!(a["success"], false);
        assert_eq!(a["responseStatus"], 500);
        assert_eq!(a["errorKind"], "http_status");
        assert_eq!(a["responseBody"], format!("reply {i}"));
    }
    let (status, list) = app.get("/api/v1/deliveries?status=failed", &token).await;
    assert_eq!((status, list["data"].as_array().unwrap().len()), (200, 1));

    let (status, retried) = app.post(&format!("/api/v1/deliveries/{id}/retry"), &token, json!({})).await;
    assert_eq!(status, 202, "{retried}");
    assert_eq!(retried["status"], "pending");
    let done = app.wait_delivery(&token, id, Duration::from_secs(10), |d| d["status"] == "succeeded").await;
    assert_eq!(done["attemptCount"], 5, "attempt numbers keep counting");
    assert_eq!(receiver.received()[4].header("x-webhook-attempt"), "5");
    let (status, err) = app.post(&format!("/api/v1/deliveries/{id}/retry"), &token, json!({})).await;
    assert_eq!(status, 202, "a succeeded delivery can be sent again: {err}");
    let (status, err) = app.post(&format!("/api/v1/deliveries/{id}/retry"), &token, json!({})).await;
    assert!(status == 409 || status == 202, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_failure_is_logged_with_its_kind_and_retried() {
    let app = TestApp::spawn_with(&["--attempt-timeout", "500ms", "--lease", "5s"]).await;
    let (token, _) = app.tenant("Acme").await;
    let slow = Receiver::start(|n| Reply::delayed(200, Duration::from_millis(if n == 0 { 2000 } else { 0 }))).await;
    let redirect = Receiver::start(|n| Reply::status(if n == 0 { 302 } else { 200 })).await;
    let client_error = Receiver::start(|n| Reply::status(if n == 0 { 404 } else { 200 })).await;
    let server_error = Receiver::start(|n| Reply::status(if n == 0 { 502 } else { 200 })).await;
    // a port with nothing listening: bind, note the port, close
    let refused_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = format!("http://127.0.0.1:{refused_port}/hook");
    let cases = [
        (slow.url.clone(), "timeout", Value::Null),
        (redirect.url.clone(), "http_status", json!(302)),
        (client_error.url.clone(), "http_status", json!(404)),
        (server_error.url.clone(), "http_status", json!(502)),
        (refused.clone(), "connect", Value::Null),
    ];
    let mut deliveries = Vec::new();
    for (i, (url, _, _)) in cases.iter().enumerate() {
        let event = format!("case.n{i}");
        hook(&app, &token, url, json!([event]), json!({"retrySchedule": [1]})).await;
        let e = app.publish(&token, &event, json!({})).await;
        deliveries
            .push(app.deliveries_of(&token, e["id"].as_str().unwrap()).await[0]["id"].as_str().unwrap().to_owned());
    }
    for ((url, kind, status), id) in cases.iter().zip(&deliveries) {
        let want = if url == &refused { "failed" } else { "succeeded" };
        let d = app.wait_delivery(&token, id, Duration::from_secs(15), |d| d["status"] == want).await;
        let first = &d["attempts"][0];
        assert_eq!(first["errorKind"], *kind, "{url}: {d}");
        assert_eq!(first["responseStatus"], *status, "{url}");
        assert_eq!(first["success"], false);
        assert!(first["errorMessage"].is_string());
        assert_eq!(d["attempts"].as_array().unwrap().len(), 2, "retried once: {d}");
    }
    assert_eq!(redirect.received().len(), 2, "the redirect was not followed");
    let timed_out = app.wait_delivery(&token, &deliveries[0], Duration::from_secs(1), |_| true).await;
    assert!(timed_out["attempts"][0]["durationMs"].as_i64().unwrap() < 1900, "the attempt was cut at the timeout");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_response_body_postgres_cannot_store_is_kept_safely() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    // NUL and invalid UTF-8 cannot go into a PostgreSQL text column as they are
    let nul = Receiver::start_with_body(|_| Reply::status(200), b"bad\0body\xff".to_vec()).await;
    hook(&app, &token, &receiver.url, json!(["ok.*"]), json!({})).await;
    hook(&app, &token, &nul.url, json!(["nul.*"]), json!({})).await;
    let e = app.publish(&token, "nul.x", json!({})).await;
    let d = &app.deliveries_of(&token, e["id"].as_str().unwrap()).await[0];
    let done = app
        .wait_delivery(&token, d["id"].as_str().unwrap(), Duration::from_secs(10), |d| d["status"] == "succeeded")
        .await;
    assert_eq!(done["attempts"][0]["responseBody"], "bad\u{FFFD}body\u{FFFD}");
    // and the dispatcher goes on recording
    let e = app.publish(&token, "ok.x", json!({})).await;
    let d = &app.deliveries_of(&token, e["id"].as_str().unwrap()).await[0];
    app.wait_delivery(&token, d["id"].as_str().unwrap(), Duration::from_secs(10), |d| d["status"] == "succeeded").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn max_concurrency_bounds_requests_in_flight() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver =
        Receiver::start(|_| Reply { status: 200, delay: Duration::from_millis(150), retry_after: None }).await;
    hook(&app, &token, &receiver.url, json!(["*"]), json!({"maxConcurrency": 2, "rateLimitPerMinute": null})).await;
    for i in 0..12 {
        app.publish(&token, "load.test", json!({"i": i})).await;
    }
    receiver.wait_for(12, Duration::from_secs(30)).await;
    assert!(receiver.max_in_flight() <= 2, "saw {} at once", receiver.max_in_flight());
    assert_eq!(receiver.max_in_flight(), 2, "the limit is used, not undershot");
}

#[tokio::test(flavor = "multi_thread")]
async fn work_over_the_rate_limit_waits_without_failing() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    hook(&app, &token, &receiver.url, json!(["*"]), json!({"rateLimitPerMinute": 3})).await;
    let mut events = Vec::new();
    for i in 0..5 {
        events.push(app.publish(&token, "load.test", json!({"i": i})).await);
    }
    receiver.wait_for(3, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.received().len(), 3, "at most 3 attempts in 60 s");
    let (_, pending) = app.get("/api/v1/deliveries?status=pending", &token).await;
    let pending = pending["data"].as_array().unwrap();
    assert_eq!(pending.len(), 2);
    for d in pending {
        assert_eq!(d["attemptCount"], 0, "waiting is not an attempt");
    }
    let (_, failed) = app.get("/api/v1/deliveries?status=failed", &token).await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn inactive_webhooks_hold_their_deliveries_until_reactivated() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::start(|n| Reply::status(if n == 0 { 500 } else { 200 })).await;
    let w = hook(&app, &token, &receiver.url, json!(["*"]), json!({"retrySchedule": [1]})).await;
    let path = format!("/api/v1/webhooks/{}", w["id"].as_str().unwrap());
    let e = app.publish(&token, "a.b", json!({})).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(app.patch(&path, &token, json!({"active": false})).await.0, 200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.received().len(), 1, "the retry waits while inactive");
    let d = &app.deliveries_of(&token, e["id"].as_str().unwrap()).await[0];
    assert_eq!(d["status"], "pending");
    let started = Instant::now();
    assert_eq!(app.patch(&path, &token, json!({"active": true})).await.0, 200);
    receiver.wait_for(2, Duration::from_secs(10)).await;
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread")]
async fn targets_that_resolve_to_forbidden_addresses_are_blocked_at_connect_time() {
    let app = TestApp::spawn_with(&["--role", "api"]).await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    // saved while private targets were allowed; attempted by a dispatcher that forbids them
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    hook(&app, &token, &by_name, json!(["by.name"]), json!({"retrySchedule": []})).await;
    hook(&app, &token, &receiver.url, json!(["by.literal"]), json!({"retrySchedule": []})).await;
    let _dispatcher =
        TestApp::spawn_on(app.db.clone(), &["--role", "dispatcher", "--allow-private-targets", "false"]).await;
    for event in ["by.name", "by.literal"] {
        let e = app.publish(&token, event, json!({})).await;
        let d = &app.deliveries_of(&token, e["id"].as_str().unwrap()).await[0];
        let done = app
            .wait_delivery(&token, d["id"].as_str().unwrap(), Duration::from_secs(10), |d| d["status"] == "failed")
            .await;
        assert_eq!(done["attempts"][0]["errorKind"], "blocked_target", "{event}: {done}");
    }
    assert_eq!(receiver.received().len(), 0);
}

/// SPEC "Events and deliveries": `data` is delivered exactly as sent.
#[tokio::test(flavor = "multi_thread")]
async fn data_is_delivered_exactly_as_sent() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    app.webhook(&token, json!({"name": "h", "url": receiver.url, "events": ["exact.*"]})).await;
    let data = r#"{"big":12345678901234567890123,"neg":-9223372036854775809,"small":0.10000000000000000000001,"z":"é\u00e9","a":[1.0,2e3]}"#;
    let send = |body: String, key: Option<&str>| {
        let mut req = app
            .http
            .post(format!("{}/api/v1/events", app.base))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        req.send()
    };
    let res = send(format!(r#"{{"event":"exact.x","data":{data}}}"#), Some("k1")).await.unwrap();
    assert_eq!(res.status().as_u16(), 202);
    let event: Value = res.json().await.unwrap();
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    let body = String::from_utf8(got[0].body.clone()).unwrap();
    assert!(body.ends_with(&format!(r#","data":{data}}}"#)), "every digit, key order and escape kept: {body}");
    let res = app.http.get(format!("{}/api/v1/events/{}", app.base, event["id"].as_str().unwrap())).bearer_auth(&token);
    let text = res.send().await.unwrap().text().await.unwrap();
    assert!(text.contains(&format!(r#""data":{data}"#)), "read back as sent: {text}");

    // the same key: the same value in another key order and spacing is a replay; one digit
    // off is a different value
    let reordered = r#"{ "a": [1.0, 2e3], "z": "éé", "small": 0.10000000000000000000001, "neg": -9223372036854775809, "big": 12345678901234567890123 }"#;
    let res = send(format!(r#"{{"event":"exact.x","data":{reordered}}}"#), Some("k1")).await.unwrap();
    assert_eq!(res.status().as_u16(), 200, "a replay");
    let off = data.replace("890123", "890124");
    let res = send(format!(r#"{{"event":"exact.x","data":{off}}}"#), Some("k1")).await.unwrap();
    assert_eq!(res.status().as_u16(), 409, "not the same data");

    // a duplicate key: receivers would read it differently
    let res = send(r#"{"event":"exact.x","data":{"o":{"a":1,"a":2}}}"#.into(), None).await.unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "data.o.a", "{problem}");
    assert_eq!(receiver.received().len(), 1, "nothing else was published");
}

/// At a moderate rate attempts end a few milliseconds apart; the recorder lets them share
/// one recording transaction (`dispatch::recorder::LINGER`) instead of committing each
/// alone. Rows written by one transaction share its `xmin`.
#[tokio::test(flavor = "multi_thread")]
async fn attempts_that_end_a_few_milliseconds_apart_share_a_recording_transaction() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    hook(&app, &token, &receiver.url, json!(["*"]), json!({})).await;
    for i in 0..10 {
        app.publish(&token, "order.paid", json!({"i": i})).await;
        receiver.wait_for(i + 1, Duration::from_secs(10)).await;
    }
    let db = app.db.client().await;
    crate::helpers::wait_count(&db, "SELECT count(*) FROM webhook_logs", 10, Duration::from_secs(10)).await;
    let transactions: i64 =
        db.query_one("SELECT count(DISTINCT xmin::text) FROM webhook_logs", &[]).await.unwrap().get(0);
    // each event reached the receiver before the next was published, so without the wait
    // nearly every attempt is recorded alone (8 of 10 in a run with the wait set to 0)
    assert!(transactions <= 5, "10 attempts, one after another, took {transactions} recording transactions");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_publish_claims_for_this_processs_dispatcher_in_its_own_round_trip() {
    let db = std::sync::Arc::new(crate::helpers::TestDb::create().await);
    // an observer: which backend wrote each event and each lease. A lease written by the
    // backend that wrote an event was claimed right behind a publish, on its connection;
    // the dispatcher's own claims run on a connection of their own.
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE written_by (kind text, pid int); \
             CREATE FUNCTION written_by() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               INSERT INTO written_by VALUES (TG_ARGV[0], pg_backend_pid()); RETURN NULL; END $$; \
             CREATE TRIGGER written_by AFTER INSERT ON leases FOR EACH ROW EXECUTE FUNCTION written_by('lease'); \
             CREATE TRIGGER written_by AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION written_by('event')",
        )
        .await
        .unwrap();
    let app = TestApp::spawn_on(db.clone(), &[]).await;
    let receiver = Receiver::ok().await;
    let (token, _) = app.tenant("Acme").await;
    let hook = app.webhook(&token, json!({"name": "r", "url": receiver.url, "events": ["order.*"]})).await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    for i in 0..5 {
        app.publish(&token, "order.created", json!({"i": i})).await;
        receiver.wait_for(i + 1, Duration::from_secs(10)).await;
    }
    for r in receiver.received() {
        assert!(x_signature_ok(&r, &secret, "x-webhook-signature"), "a delivery claimed so is signed like any other");
    }
    let client = db.client().await;
    crate::helpers::wait_count(
        &client,
        "SELECT count(*) FROM deliveries WHERE status = 'succeeded' AND attempt_count = 1",
        5,
        Duration::from_secs(10),
    )
    .await;
    let seen = client
        .query_one(
            "SELECT count(*) FILTER (WHERE pid IN (SELECT pid FROM written_by WHERE kind = 'event')), count(*) \
             FROM written_by WHERE kind = 'lease'",
            &[],
        )
        .await
        .unwrap();
    let (behind_publish, all): (i64, i64) = (seen.get(0), seen.get(1));
    // the first publish on a writer's connection prepares its statements, so its claim may
    // run first and miss it; or the dispatcher's poll may claim one as it commits
    assert!(behind_publish >= 4, "{behind_publish} of {all} leases were claimed behind their publish");
    assert_eq!(all, 5, "each delivery was leased once");
}
