//! Endpoint health: auto-disable, operational events, degraded/recovered, recover.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::delivery::x_signature_ok;
use crate::helpers::{wait_count, Received, Receiver, Reply, TestApp};

fn body(r: &Received) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

/// Publishes `event` (with `consumerId` if given) and waits until each of its deliveries is finished.
async fn publish_and_settle(app: &TestApp, token: &str, event: &str, consumer: Option<&str>) -> Vec<Value> {
    let (status, published) =
        app.post("/api/v1/events", token, json!({"event": event, "data": {"n": 1}, "consumerId": consumer})).await;
    assert_eq!(status, 202, "{published}");
    let mut finished = Vec::new();
    for d in app.deliveries_of(token, published["id"].as_str().unwrap()).await {
        let id = d["id"].as_str().unwrap().to_owned();
        finished.push(app.wait_delivery(token, &id, Duration::from_secs(10), |d| d["status"] != "pending").await);
    }
    finished
}

/// A receiver that answers 500 or 200 as `failing` says at the time.
async fn switchable(failing: Arc<AtomicBool>) -> Receiver {
    Receiver::start(move |_| Reply::status(if failing.load(Ordering::SeqCst) { 500 } else { 200 })).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_failing_long_enough_is_disabled_a_success_resets_the_streak_and_patch_re_enables() {
    let app = TestApp::spawn_with(&["--auto-disable-after", "2s", "--auto-disable-min-failed", "3"]).await;
    let (token, _) = app.tenant("Acme").await;
    let failing = Arc::new(AtomicBool::new(true));
    let receiver = switchable(failing.clone()).await;
    let hook = app
        .webhook(&token, json!({"name": "flaky", "url": receiver.url, "events": ["order.*"], "retrySchedule": []}))
        .await;
    let id = hook["id"].as_str().unwrap().to_owned();
    let watcher_receiver = Receiver::ok().await;
    let watcher = app
        .webhook(&token, json!({"name": "ops", "url": watcher_receiver.url, "events": ["hookrelay.webhook.disabled"]}))
        .await;

    // two failures, then a success: the streak starts again
    for _ in 0..2 {
        assert_eq!(publish_and_settle(&app, &token, "order.created", None).await[0]["status"], "failed");
    }
    failing.store(false, Ordering::SeqCst);
    assert_eq!(publish_and_settle(&app, &token, "order.created", None).await[0]["status"], "succeeded");
    failing.store(true, Ordering::SeqCst);
    let first_of_streak = chrono::Utc::now();
    assert_eq!(publish_and_settle(&app, &token, "order.created", None).await[0]["status"], "failed");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, w) = app.get(&format!("/api/v1/webhooks/{id}"), &token).await;
    assert_eq!(w["active"], true, "3 failed deliveries, but a success came after the first two: {w}");

    // three failed deliveries, the first 2 s ago: disabled
    for _ in 0..2 {
        assert_eq!(publish_and_settle(&app, &token, "order.created", None).await[0]["status"], "failed");
    }
    let db = app.db.client().await;
    wait_count(
        &db,
        &format!("SELECT count(*) FROM webhooks WHERE id = '{id}' AND NOT active"),
        1,
        Duration::from_secs(5),
    )
    .await;
    let (_, w) = app.get(&format!("/api/v1/webhooks/{id}"), &token).await;
    assert_eq!(w["active"], false);
    assert_eq!(w["disabledReason"], "failing");
    assert!(w["disabledAt"].is_string(), "{w}");

    // the operational event, signed like any other
    let got = watcher_receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].header("x-webhook-event"), "hookrelay.webhook.disabled");
    assert!(x_signature_ok(&got[0], watcher["secret"].as_str().unwrap(), "x-webhook-signature"));
    let event = body(&got[0]);
    assert_eq!(event["event"], "hookrelay.webhook.disabled");
    let data = &event["data"];
    assert_eq!(data["webhookId"], id.as_str());
    assert_eq!(data["reason"], "failing");
    assert_eq!(data["failedDeliveries"], 3);
    let since = chrono::DateTime::parse_from_rfc3339(data["failingSince"].as_str().unwrap()).unwrap();
    assert!(
        (since.timestamp_millis() - first_of_streak.timestamp_millis()).abs() < 1_500,
        "failingSince {since} is the streak's first failure, about {first_of_streak}"
    );
    assert_eq!(data.as_object().unwrap().len(), 4, "{data}");

    // its deliveries wait as for any inactive webhook; PATCH re-enables
    let waiting = app.publish(&token, "order.created", json!({})).await;
    assert_eq!(waiting["deliveries"], 0, "an inactive webhook gets no new deliveries");
    let (status, w) = app.patch(&format!("/api/v1/webhooks/{id}"), &token, json!({"active": true})).await;
    assert_eq!(status, 200, "{w}");
    assert_eq!(w["active"], true);
    assert_eq!(w["disabledReason"], Value::Null);
    assert_eq!(w["disabledAt"], Value::Null);
    // the streak starts again from nothing: one more failure does not disable it
    assert_eq!(publish_and_settle(&app, &token, "order.created", None).await[0]["status"], "failed");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, w) = app.get(&format!("/api/v1/webhooks/{id}"), &token).await;
    assert_eq!(w["active"], true, "{w}");
    assert_eq!(watcher_receiver.received().len(), 1, "disabled is published once");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_delivery_is_announced_to_the_webhooks_that_name_it_and_no_other() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let (other_token, _) = app.tenant("Globex").await;
    let failing = Receiver::start(|_| Reply::status(500)).await;
    let affected = app
        .webhook(
            &token,
            json!({"name": "affected", "url": failing.url, "events": ["order.*", "hookrelay.*"], "consumerId": "c1",
                   "retrySchedule": []}),
        )
        .await;
    let affected_id = affected["id"].as_str().unwrap();
    // receives operational events and fails them: they raise none of their own
    let exact = Receiver::start(|_| Reply::status(500)).await;
    let exact_hook = app
        .webhook(
            &token,
            json!({"name": "exact", "url": exact.url, "events": ["hookrelay.delivery.failed"], "consumerId": "c1",
                   "retrySchedule": []}),
        )
        .await;
    let any_consumer = Receiver::ok().await;
    let any_consumer_hook =
        app.webhook(&token, json!({"name": "all ops", "url": any_consumer.url, "events": ["hookrelay.*"]})).await;
    let star = Receiver::ok().await;
    app.webhook(&token, json!({"name": "star", "url": star.url, "events": ["*"]})).await;
    let other_consumer = Receiver::ok().await;
    app.webhook(
        &token,
        json!({"name": "c2", "url": other_consumer.url, "events": ["hookrelay.*"], "consumerId": "c2"}),
    )
    .await;
    let other_tenant = Receiver::ok().await;
    app.webhook(&other_token, json!({"name": "theirs", "url": other_tenant.url, "events": ["hookrelay.*"]})).await;

    let finished = publish_and_settle(&app, &token, "order.created", Some("c1")).await;
    let failed = finished.iter().find(|d| d["webhookId"] == affected_id).unwrap();
    assert_eq!(failed["status"], "failed");

    let got = any_consumer.wait_for(1, Duration::from_secs(10)).await;
    exact.wait_for(1, Duration::from_secs(10)).await;
    // time for anything that should not come
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got_exact = exact.received();
    assert_eq!(got_exact.len(), 1, "the exact name subscribes");
    assert!(x_signature_ok(&got_exact[0], exact_hook["secret"].as_str().unwrap(), "x-webhook-signature"));
    assert_eq!(any_consumer.received().len(), 1, "the failed delivery to `exact` raised no event");
    assert!(x_signature_ok(&got[0], any_consumer_hook["secret"].as_str().unwrap(), "x-webhook-signature"));
    let event = body(&got[0]);
    assert_eq!(got[0].header("x-webhook-event"), "hookrelay.delivery.failed");
    assert_eq!(
        event["data"],
        json!({"webhookId": affected_id, "deliveryId": failed["id"], "eventId": failed["eventId"],
               "eventType": "order.created", "attempts": 1,
               "lastError": {"errorKind": "http_status", "responseStatus": 500}})
    );
    assert_eq!(failing.received().len(), 1, "never to the webhook it is about");
    assert_eq!(star.received().len(), 1, "`*` gets the order, not the operational event");
    assert!(other_consumer.received().is_empty(), "the consumer rule holds");
    assert!(other_tenant.received().is_empty(), "never to another tenant");

    // an event of the tenant like any other
    let (status, page) = app.get("/api/v1/events?event=hookrelay.delivery.failed", &token).await;
    assert_eq!(status, 200);
    let listed = page["data"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{page}");
    assert_eq!(listed[0]["consumerId"], "c1", "the affected webhook's consumerId");
    assert_eq!(listed[0]["id"], event["id"]);

    // the reserved prefix cannot be published
    let (status, err) =
        app.post("/api/v1/events", &token, json!({"event": "hookrelay.delivery.failed", "data": {}})).await;
    assert_eq!(status, 422);
    assert_eq!(err["errors"][0]["field"], "event", "{err}");
    let (status, err) =
        app.post(&format!("/api/v1/webhooks/{affected_id}/test"), &token, json!({"eventType": "hookrelay.x"})).await;
    assert_eq!(status, 422);
    assert_eq!(err["errors"][0]["field"], "eventType", "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn degraded_then_recovered_are_published_once_each_with_two_dispatchers() {
    let app = TestApp::spawn_with(&["--health-interval", "1s"]).await;
    let _second = TestApp::spawn_on(app.db.clone(), &["--role", "dispatcher", "--health-interval", "1s"]).await;
    let (token, _) = app.tenant("Acme").await;
    let failing = Arc::new(AtomicBool::new(true));
    let receiver = switchable(failing.clone()).await;
    let hook = app
        .webhook(
            &token,
            json!({"name": "h", "url": receiver.url, "events": ["job.*"], "retrySchedule": [], "rateLimitPerMinute": null}),
        )
        .await;
    let id = hook["id"].as_str().unwrap();
    let ops = Receiver::ok().await;
    app.webhook(&token, json!({"name": "ops", "url": ops.url, "events": ["hookrelay.webhook.*"]})).await;

    for i in 0..20 {
        app.publish(&token, "job.done", json!({"i": i})).await;
    }
    let got = ops.wait_for(1, Duration::from_secs(15)).await;
    let degraded = body(&got[0]);
    assert_eq!(degraded["event"], "hookrelay.webhook.degraded");
    let data = &degraded["data"];
    assert_eq!(data["webhookId"], id);
    assert!(data["attempts"].as_i64().unwrap() >= 20, "{data}");
    assert_eq!(data["attemptSuccessRate"], 0.0);
    assert!(data["window"]["since"].is_string() && data["window"]["until"].is_string(), "{data}");
    assert!(data.as_object().unwrap().contains_key("p95Ms"), "{data}");

    failing.store(false, Ordering::SeqCst);
    for i in 0..25 {
        app.publish(&token, "job.done", json!({"i": i})).await;
    }
    let got = ops.wait_for(2, Duration::from_secs(15)).await;
    let recovered = body(&got[1]);
    assert_eq!(recovered["event"], "hookrelay.webhook.recovered");
    assert!(recovered["data"]["attemptSuccessRate"].as_f64().unwrap() >= 0.5, "{recovered}");
    assert!(recovered["data"]["attempts"].as_i64().unwrap() >= 40, "{recovered}");
    // both dispatchers evaluate every second: still one event per change
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(ops.received().len(), 2, "one degraded, one recovered");
}

#[tokio::test(flavor = "multi_thread")]
async fn recover_requeues_the_failed_deliveries_of_its_window_and_only_those() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let (other_token, _) = app.tenant("Globex").await;
    let failing = Arc::new(AtomicBool::new(true));
    let receiver = switchable(failing.clone()).await;
    let hook =
        app.webhook(&token, json!({"name": "r", "url": receiver.url, "events": ["inv.*"], "retrySchedule": []})).await;
    let id = hook["id"].as_str().unwrap();
    let status_of = |d: &Vec<Value>| d[0]["status"].as_str().unwrap().to_owned();

    let before = publish_and_settle(&app, &token, "inv.paid", None).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let since = chrono::Utc::now();
    let in_window = [
        publish_and_settle(&app, &token, "inv.paid", None).await,
        publish_and_settle(&app, &token, "inv.paid", None).await,
    ];
    failing.store(false, Ordering::SeqCst);
    let succeeded = publish_and_settle(&app, &token, "inv.paid", None).await;
    failing.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let until = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let after = publish_and_settle(&app, &token, "inv.paid", None).await;
    assert_eq!(status_of(&before), "failed");
    assert_eq!(status_of(&succeeded), "succeeded");
    assert_eq!(status_of(&after), "failed");
    failing.store(false, Ordering::SeqCst);

    // bad input changes nothing
    let path = format!("/api/v1/webhooks/{id}/recover");
    let old = chrono::Utc::now() - chrono::TimeDelta::days(91);
    for (bad, field) in [
        (json!({"since": old.to_rfc3339()}), "since"),
        (json!({}), "since"),
        (json!({"since": "yesterday"}), "since"),
        (json!({"since": until.to_rfc3339(), "until": since.to_rfc3339()}), "since"),
        (json!({"since": since.to_rfc3339(), "until": "soon"}), "until"),
    ] {
        let (status, err) = app.post(&path, &token, bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {err}");
        assert_eq!(err["errors"][0]["field"], field, "{bad}: {err}");
    }
    let window = json!({"since": since.to_rfc3339(), "until": until.to_rfc3339()});
    let (status, _) = app.post(&path, &other_token, window.clone()).await;
    assert_eq!(status, 404, "another tenant's webhook");

    let (status, recovery) = app.post(&path, &token, window).await;
    assert_eq!(status, 202, "{recovery}");
    assert_eq!(recovery["webhookId"], id);
    assert_eq!(recovery["status"], "running");
    assert_eq!(recovery["completedAt"], Value::Null);
    for key in ["id", "since", "until", "deliveries", "createdAt"] {
        assert!(recovery.get(key).is_some(), "{key}: {recovery}");
    }
    let rid = recovery["id"].as_str().unwrap();
    let read = format!("/api/v1/webhooks/{id}/recoveries/{rid}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let done = loop {
        let (status, r) = app.get(&read, &token).await;
        assert_eq!(status, 200, "{r}");
        if r["status"] == "done" {
            break r;
        }
        assert!(std::time::Instant::now() < deadline, "recovery not done: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done["deliveries"], 2, "{done}");
    assert!(done["completedAt"].is_string(), "{done}");
    let (status, _) = app.get(&read, &other_token).await;
    assert_eq!(status, 404);

    for d in &in_window {
        let id = d[0]["id"].as_str().unwrap();
        let d = app.wait_delivery(&token, id, Duration::from_secs(10), |d| d["status"] == "succeeded").await;
        assert_eq!(d["attemptCount"], 2, "a new series after the first: {d}");
    }
    for (d, status) in [(&before, "failed"), (&after, "failed"), (&succeeded, "succeeded")] {
        let (_, now) = app.get(&format!("/api/v1/deliveries/{}", d[0]["id"].as_str().unwrap()), &token).await;
        assert_eq!(now["status"], status, "outside the window or not failed: untouched");
        assert_eq!(now["attemptCount"], 1, "{now}");
    }
    let (_, stats) = app.get(&format!("/api/v1/webhooks/{id}/stats"), &token).await;
    assert_eq!(stats["deliveries"]["succeeded"], 3, "{stats}");
    assert_eq!(stats["deliveries"]["failed"], 2, "{stats}");
}
