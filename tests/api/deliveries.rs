//! Events and deliveries through the API: shapes, idempotency, filters, isolation.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{Receiver, Reply, TestApp};

#[tokio::test(flavor = "multi_thread")]
async fn events_and_deliveries_read_back_with_the_documented_fields() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    let w = app.webhook(&token, json!({"name": "h", "url": receiver.url, "events": ["*"]})).await;
    let e = app.publish(&token, "message.new", json!({"b": 2, "a": [1, {"z": null}]})).await;
    let mut keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["deliveries", "event", "id", "timestamp"]);
    let id = e["id"].as_str().unwrap();
    let (status, event) = app.get(&format!("/api/v1/events/{id}"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(
        event,
        json!({"id": id, "event": "message.new", "timestamp": e["timestamp"],
        "data": {"b": 2, "a": [1, {"z": null}]}, "consumerId": null, "idempotencyKey": null, "test": false, "deliveries": 1,
        "sourceId": null, "inboundRequestId": null})
    );
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let d = &app.deliveries_of(&token, id).await[0];
    let done = app
        .wait_delivery(&token, d["id"].as_str().unwrap(), Duration::from_secs(10), |d| d["status"] == "succeeded")
        .await;
    let mut keys: Vec<&str> = done.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attemptCount",
            "attempts",
            "createdAt",
            "eventId",
            "eventType",
            "id",
            "lastAttemptAt",
            "nextAttemptAt",
            "status",
            "test",
            "updatedAt",
            "webhookId"
        ]
    );
    assert_eq!(done["webhookId"], w["id"]);
    let attempt = &done["attempts"][0];
    let mut keys: Vec<&str> = attempt.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attempt",
            "createdAt",
            "deliveryId",
            "durationMs",
            "errorKind",
            "errorMessage",
            "eventId",
            "eventType",
            "id",
            "requestUrl",
            "responseBody",
            "responseStatus",
            "success",
            "test",
            "webhookId"
        ]
    );
    assert_eq!(attempt["success"], true);
    assert_eq!(attempt["responseStatus"], 200);
    assert_eq!(attempt["requestUrl"], receiver.url.as_str());
    assert_eq!(attempt["errorKind"], Value::Null);

    let (_, list) = app.get("/api/v1/events?event=message.new", &token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (_, list) = app.get("/api/v1/events?event=message.other", &token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
    let (_, list) = app.get("/api/v1/events?since=2999-01-01T00:00:00Z", &token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
    let (status, err) = app.get("/api/v1/events?since=2030-01-01T00:00:00Z&until=2020-01-01T00:00:00Z", &token).await;
    assert_eq!((status, err["errors"][0]["field"].as_str()), (422, Some("since")));
    let (status, err) = app.get("/api/v1/deliveries?status=weird", &token).await;
    assert_eq!((status, err["errors"][0]["field"].as_str()), (422, Some("status")));
    let (_, list) =
        app.get(&format!("/api/v1/deliveries?webhookId={}&status=succeeded", w["id"].as_str().unwrap()), &token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn publishing_validates_the_event() {
    let app = TestApp::spawn_with(&["--body-limit", "2048"]).await;
    let (token, _) = app.tenant("Acme").await;
    let cases = [
        (json!({"data": {}}), "event"),
        (json!({"event": "Bad Type", "data": {}}), "event"),
        (json!({"event": "a..b", "data": {}}), "event"),
        (json!({"event": "x".repeat(129), "data": {}}), "event"),
        (json!({"event": "a.b", "data": {}, "consumerId": "no spaces"}), "consumerId"),
        (json!({"event": 5, "data": {}}), "event"),
        (json!({"event": "a.b", "data": {"text": "nul\u{0}"}}), "data.text"),
    ];
    for (body, field) in cases {
        let (status, err) = app.post("/api/v1/events", &token, body.clone()).await;
        assert_eq!((status, err["errors"][0]["field"].as_str()), (422, Some(field)), "{body}: {err}");
    }
    let (status, err) = app.post("/api/v1/events", &token, json!({"event": "a.b", "data": "x".repeat(4000)})).await;
    assert_eq!((status, err["type"].as_str()), (413, Some("payload_too_large")));
    let res = app
        .http
        .post(format!("{}/api/v1/events", app.base))
        .bearer_auth(&token)
        .header("Idempotency-Key", "one")
        .json(&json!({"event": "a.b", "data": {}, "idempotencyKey": "two"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let db = app.db.client().await;
    let n: i64 = db.query_one("SELECT count(*) FROM events", &[]).await.unwrap().get(0);
    assert_eq!(n, 0, "nothing stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotency_key_creates_one_event() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let (other, _) = app.tenant("Other").await;
    let receiver = Receiver::ok().await;
    app.webhook(&token, json!({"name": "h", "url": receiver.url, "events": ["*"]})).await;
    let body = json!({"event": "order.paid", "data": {"a": 1, "b": 2}, "idempotencyKey": "order-1"});
    let (status, first) = app.post("/api/v1/events", &token, body.clone()).await;
    assert_eq!(status, 202);
    let (status, again) = app
        .post(
            "/api/v1/events",
            &token,
            json!({"event": "order.paid", "data": {"b": 2, "a": 1}, "idempotencyKey": "order-1"}),
        )
        .await;
    assert_eq!(status, 200, "a replay answers 200 with the first answer");
    assert_eq!(again, first);
    // the header carries the same key
    let res = app
        .http
        .post(format!("{}/api/v1/events", app.base))
        .bearer_auth(&token)
        .header("Idempotency-Key", "order-1")
        .json(&json!({"event": "order.paid", "data": {"a": 1, "b": 2}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), first);
    let (status, err) = app
        .post("/api/v1/events", &token, json!({"event": "order.paid", "data": {"a": 2}, "idempotencyKey": "order-1"}))
        .await;
    assert_eq!((status, err["type"].as_str()), (409, Some("conflict")), "same key, different data");
    // keys are per tenant
    let (status, _) = app.post("/api/v1/events", &other, body).await;
    assert_eq!(status, 202);
    receiver.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "one event, one delivery");
    let (_, list) = app.get("/api/v1/events", &token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["idempotencyKey"], "order-1");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pending_delivery_cannot_be_retried_and_foreign_ids_are_404() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let (other, _) = app.tenant("Other").await;
    let receiver = Receiver::start(|_| Reply::status(500)).await;
    app.webhook(&token, json!({"name": "h", "url": receiver.url, "events": ["*"], "retrySchedule": [60]})).await;
    let e = app.publish(&token, "a.b", json!({})).await;
    let event_id = e["id"].as_str().unwrap();
    let d = &app.deliveries_of(&token, event_id).await[0];
    let id = d["id"].as_str().unwrap();
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let pending = app.wait_delivery(&token, id, Duration::from_secs(5), |d| d["attemptCount"] == 1).await;
    assert_eq!(pending["status"], "pending");
    assert!(pending["nextAttemptAt"].is_string(), "the next attempt time is stored: {pending}");
    let (status, err) = app.post(&format!("/api/v1/deliveries/{id}/retry"), &token, json!({})).await;
    assert_eq!((status, err["type"].as_str()), (409, Some("conflict")));
    for path in [format!("/api/v1/deliveries/{id}"), format!("/api/v1/events/{event_id}")] {
        assert_eq!(app.get(&path, &other).await.0, 404, "{path}");
    }
    assert_eq!(app.post(&format!("/api/v1/deliveries/{id}/retry"), &other, json!({})).await.0, 404);
    let (_, list) = app.get(&format!("/api/v1/deliveries?eventId={event_id}"), &other).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0, "a filter naming another tenant's id matches nothing");
    let (_, list) = app.get("/api/v1/events", &other).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_webhook_deletes_its_deliveries_but_keeps_events() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    let w = app.webhook(&token, json!({"name": "h", "url": receiver.url, "events": ["*"]})).await;
    let e = app.publish(&token, "a.b", json!({})).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let d = &app.deliveries_of(&token, e["id"].as_str().unwrap()).await[0];
    app.wait_delivery(&token, d["id"].as_str().unwrap(), Duration::from_secs(10), |d| d["status"] == "succeeded").await;
    assert_eq!(app.delete(&format!("/api/v1/webhooks/{}", w["id"].as_str().unwrap()), &token).await.0, 204);
    assert_eq!(app.get(&format!("/api/v1/deliveries/{}", d["id"].as_str().unwrap()), &token).await.0, 404);
    assert_eq!(app.get(&format!("/api/v1/events/{}", e["id"].as_str().unwrap()), &token).await.0, 200);
    // the logs and the deliveries' rows go in the background
    let db = app.db.client().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left: i64 = db
            .query_one("SELECT (SELECT count(*) FROM webhook_logs) + (SELECT count(*) FROM deliveries)", &[])
            .await
            .unwrap()
            .get(0);
        if left == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{left} logs and deliveries left");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Concurrent plain publishes share statements and commits (group commit); each must
/// still get exactly its own fan-out: its tenant's webhooks, its filters, its consumer.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_publishes_each_get_their_own_fan_out() {
    let app = TestApp::spawn().await;
    let (acme, _) = app.tenant("Acme").await;
    let (globex, _) = app.tenant("Globex").await;
    let receiver = Receiver::ok().await;
    let hook = |name: &str, events: Value, consumer: Value| json!({"name": name, "url": receiver.url, "events": events, "consumerId": consumer});
    let all = app.webhook(&acme, hook("all", json!(["*"]), Value::Null)).await;
    let orders = app.webhook(&acme, hook("orders", json!(["order.*"]), Value::Null)).await;
    let c1 = app.webhook(&acme, hook("c1", json!(["order.created"]), json!("c1"))).await;
    let other = app.webhook(&globex, hook("globex", json!(["*"]), Value::Null)).await;
    let id = |w: &Value| w["id"].as_str().unwrap().to_owned();
    // (token, event, consumerId, the webhooks it must reach)
    let cases = [
        (&acme, "order.created", None, vec![id(&all), id(&orders)]),
        (&acme, "order.created", Some("c1"), vec![id(&all), id(&orders), id(&c1)]),
        (&acme, "order.created", Some("c2"), vec![id(&all), id(&orders)]),
        (&acme, "user.signed_up", None, vec![id(&all)]),
        (&globex, "order.created", None, vec![id(&other)]),
    ];
    let publishes = (0..40).map(|i| {
        let (token, event, consumer, _) = &cases[i % cases.len()];
        let body = match consumer {
            Some(c) => json!({"event": event, "data": {"i": i}, "consumerId": c}),
            None => json!({"event": event, "data": {"i": i}}),
        };
        let app = &app;
        async move { (i, app.post("/api/v1/events", token, body).await) }
    });
    let answers = futures_util::future::join_all(publishes).await;
    let db = app.db.client().await;
    for (i, (status, e)) in answers {
        let (_, event, _, expected) = &cases[i % cases.len()];
        assert_eq!(status, 202, "{e}");
        assert_eq!(e["event"], *event);
        assert_eq!(e["deliveries"], expected.len(), "publish {i}: {e}");
        let rows = db
            .query(
                "SELECT webhook_id::text FROM deliveries WHERE event_id = $1::text::uuid ORDER BY 1",
                &[&e["id"].as_str().unwrap()],
            )
            .await
            .unwrap();
        let mut got: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        let mut want = expected.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "publish {i} reached exactly its webhooks");
    }
}

/// A tenant whose publishes fan out widely has a writer of its own (issue 16, item 6);
/// its publishes are stored whole there, and a small tenant's beside them.
#[tokio::test(flavor = "multi_thread")]
async fn publishes_of_large_fan_out_take_their_own_writer_and_stay_whole() {
    let app = TestApp::spawn_with(&["--role", "api"]).await;
    let (big, big_tenant) = app.tenant("Big").await;
    let (small, _) = app.tenant("Small").await;
    app.webhook(&small, json!({"name": "s", "url": "http://127.0.0.1:9/", "events": ["wide.*"]})).await;
    let db = app.db.client().await;
    db.execute(
        "INSERT INTO webhooks (id, tenant_id, name, url, events, secret, max_concurrency, created_at, updated_at) \
         SELECT gen_random_uuid(), $1::text::uuid, 'w' || n, 'http://127.0.0.1:9/', '{wide.*}', \
           'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 10, now(), now() FROM generate_series(1, 600) AS n",
        &[&big_tenant],
    )
    .await
    .unwrap();
    for _ in 0..3 {
        assert_eq!(app.publish(&big, "wide.x", json!({})).await["deliveries"], 600);
        assert_eq!(app.publish(&small, "wide.x", json!({})).await["deliveries"], 1);
    }
    let n: i64 = db.query_one("SELECT count(*) FROM deliveries", &[]).await.unwrap().get(0);
    assert_eq!(n, 3 * 601);
}
