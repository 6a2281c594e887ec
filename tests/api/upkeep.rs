//! The dispatcher's upkeep: deliveries that no claim can take are parked out of the due
//! queue and come back when their webhook can run; a deleted webhook answers 404 at once
//! and its deliveries are deleted in the background, without holding up recording.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{wait_count, Receiver, Reply, RetryAfter, TestApp};

#[tokio::test(flavor = "multi_thread")]
async fn an_inactive_webhooks_deliveries_are_parked_until_it_is_active_again() {
    // deliveries are made while no dispatcher runs, then the webhook is made inactive
    let api = TestApp::spawn_with(&["--role", "api"]).await;
    let (token, _) = api.tenant("Acme").await;
    let idle = Receiver::ok().await;
    let busy = Receiver::ok().await;
    let a = api.webhook(&token, json!({"name": "a", "url": idle.url, "events": ["a.*"]})).await;
    let a_id = a["id"].as_str().unwrap();
    api.webhook(&token, json!({"name": "b", "url": busy.url, "events": ["b.*"]})).await;
    for i in 0..30 {
        api.publish(&token, "a.thing", json!({"i": i})).await;
    }
    let (status, _) = api.patch(&format!("/api/v1/webhooks/{a_id}"), &token, json!({"active": false})).await;
    assert_eq!(status, 200);

    let dispatcher = TestApp::spawn_on(api.db.clone(), &["--role", "dispatcher"]).await;
    let db = api.db.client().await;
    let parked =
        format!("SELECT count(*) FROM deliveries WHERE webhook_id = '{a_id}' AND parked AND status = 'pending'");
    wait_count(&db, &parked, 30, Duration::from_secs(15)).await;
    let flagged = format!("SELECT count(*) FROM webhooks WHERE id = '{a_id}' AND parked");
    wait_count(&db, &flagged, 1, Duration::from_secs(1)).await;
    // the claims still take other work
    api.publish(&token, "b.thing", json!({})).await;
    busy.wait_for(1, Duration::from_secs(10)).await;
    assert!(idle.received().is_empty(), "an inactive webhook's deliveries are not attempted");

    let (status, _) = api.patch(&format!("/api/v1/webhooks/{a_id}"), &token, json!({"active": true})).await;
    assert_eq!(status, 200);
    idle.wait_for(30, Duration::from_secs(20)).await;
    wait_count(&db, &parked, 0, Duration::from_secs(5)).await;
    wait_count(&db, &flagged, 0, Duration::from_secs(5)).await;
    drop(dispatcher);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_pause_parks_the_endpoints_deliveries_until_it_ends() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver =
        Receiver::start(|n| if n == 0 { Reply::retry_after(503, RetryAfter::Raw("16")) } else { Reply::status(200) })
            .await;
    let w = app.webhook(&token, json!({"name": "p", "url": receiver.url, "events": ["p.*"]})).await;
    let id = w["id"].as_str().unwrap();
    app.publish(&token, "p.first", json!({})).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let paused_at = Instant::now();
    let db = app.db.client().await;
    let paused = format!("SELECT count(*) FROM webhooks WHERE id = '{id}' AND paused_until > now()");
    wait_count(&db, &paused, 1, Duration::from_secs(5)).await;
    for i in 0..5 {
        app.publish(&token, "p.more", json!({"i": i})).await;
    }
    // the first delivery's retry and the five new ones wait out the pause parked
    let parked = format!("SELECT count(*) FROM deliveries WHERE webhook_id = '{id}' AND parked");
    wait_count(&db, &parked, 6, Duration::from_secs(3)).await;
    let all = receiver.wait_for(7, Duration::from_secs(30)).await;
    assert_eq!(all.len(), 7);
    assert!(
        paused_at.elapsed() >= Duration::from_secs(14),
        "nothing reached the endpoint before its pause ended ({:?})",
        paused_at.elapsed()
    );
    wait_count(&db, &parked, 0, Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_webhook_answers_at_once_and_recording_goes_on() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let healthy = Receiver::ok().await;
    let doomed =
        app.webhook(&token, json!({"name": "doomed", "url": "http://127.0.0.1:9/", "events": ["never.*"]})).await;
    let doomed_id = doomed["id"].as_str().unwrap();
    app.webhook(&token, json!({"name": "b", "url": healthy.url, "events": ["b.*"]})).await;
    // a large backlog, not due for an hour
    let mut db = app.db.client().await;
    let event = app.publish(&token, "other.thing", json!({})).await["id"].as_str().unwrap().to_owned();
    db.execute(
        "INSERT INTO deliveries (id, tenant_id, event_id, webhook_id, event_type, status, next_attempt_at, created_at, updated_at) \
         SELECT gen_random_uuid(), w.tenant_id, $2::text::uuid, w.id, 'never.thing', 'pending', now() + interval '1 hour', now(), now() \
         FROM webhooks w, generate_series(1, 20000) WHERE w.id = $1::text::uuid",
        &[&doomed_id, &event],
    )
    .await
    .unwrap();

    // one of its deliveries is locked, as by a recording that has not committed: deleting
    // the webhook in one transaction waited on it, with the record lock held
    let holder = db.transaction().await.unwrap();
    holder
        .execute("SELECT id FROM deliveries WHERE webhook_id = $1::text::uuid LIMIT 1 FOR UPDATE", &[&doomed_id])
        .await
        .unwrap();
    let (status, _) =
        tokio::time::timeout(Duration::from_secs(10), app.delete(&format!("/api/v1/webhooks/{doomed_id}"), &token))
            .await
            .expect("the delete answers without waiting for its deliveries");
    assert_eq!(status, 204);
    let (status, _) = app.get(&format!("/api/v1/webhooks/{doomed_id}"), &token).await;
    assert_eq!(status, 404, "a deleted webhook is gone at once");
    let (status, _) = app.delete(&format!("/api/v1/webhooks/{doomed_id}"), &token).await;
    assert_eq!(status, 404);

    // meanwhile another webhook's delivery is attempted and recorded
    let event = app.publish(&token, "b.thing", json!({})).await;
    healthy.wait_for(1, Duration::from_secs(10)).await;
    let delivery = app.deliveries_of(&token, event["id"].as_str().unwrap()).await;
    let id = delivery[0]["id"].as_str().unwrap();
    app.wait_delivery(&token, id, Duration::from_secs(10), |d| d["status"] == "succeeded").await;

    holder.rollback().await.unwrap();
    let left = format!("SELECT count(*) FROM deliveries WHERE webhook_id = '{doomed_id}'");
    wait_count(&db, &left, 0, Duration::from_secs(30)).await;
    let row = format!("SELECT count(*) FROM webhooks WHERE id = '{doomed_id}'");
    wait_count(&db, &row, 0, Duration::from_secs(5)).await;
}
