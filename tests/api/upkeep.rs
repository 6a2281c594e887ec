//! The dispatcher's upkeep: deliveries that no claim can take are parked out of the due
//! queue and come back when their webhook can run; a slow webhook's backlog is parked but
//! for a window; a deleted webhook answers 404 at once and its deliveries are deleted in
//! the background, without holding up recording.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
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

/// `db::parking::WINDOW`, plus the few rows a claim or a recording may hold locked while
/// the upkeep parks
const WINDOW_AT_MOST: i64 = 250 + 20;

/// A webhook's pending deliveries: (unparked, parked).
async fn pending_of(db: &tokio_postgres::Client, webhook: &str) -> (i64, i64) {
    let row = db
        .query_one(
            "SELECT count(*) FILTER (WHERE NOT parked), count(*) FILTER (WHERE parked) FROM deliveries \
             WHERE webhook_id = $1::text::uuid AND status = 'pending'",
            &[&webhook],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// Polls until `done` holds for the webhook's (unparked, parked) pending deliveries, or
/// panics after `within`.
async fn wait_pending(
    db: &tokio_postgres::Client,
    webhook: &str,
    within: Duration,
    what: &str,
    done: impl Fn(i64, i64) -> bool,
) {
    let deadline = Instant::now() + within;
    loop {
        let (unparked, parked) = pending_of(db, webhook).await;
        if done(unparked, parked) {
            return;
        }
        assert!(Instant::now() < deadline, "{what} within {within:?}: {unparked} unparked, {parked} parked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_webhooks_backlog_is_parked_but_for_a_window_and_all_of_it_is_delivered() {
    let app = TestApp::spawn_with(&["--attempt-timeout", "2s", "--lease", "10s"]).await;
    let (token, _) = app.tenant("Acme").await;
    let hang = Arc::new(AtomicBool::new(true));
    let hanging = hang.clone();
    let slow = Receiver::start(move |_| {
        if hanging.load(Ordering::SeqCst) {
            Reply::delayed(200, Duration::from_secs(60))
        } else {
            Reply::status(200)
        }
    })
    .await;
    let healthy = Receiver::ok().await;
    let w = app
        .webhook(
            &token,
            json!({"name": "slow", "url": slow.url, "events": ["slow.*"], "retrySchedule": [1, 1, 1],
                "rateLimitPerMinute": null}),
        )
        .await;
    let id = w["id"].as_str().unwrap().to_owned();
    let b = app.webhook(&token, json!({"name": "b", "url": healthy.url, "events": ["b.*"]})).await;
    let b_id = b["id"].as_str().unwrap();
    // a deep due backlog: one real event, then 1,500 deliveries of it made at once
    let db = app.db.client().await;
    let event = app.publish(&token, "slow.first", json!({})).await["id"].as_str().unwrap().to_owned();
    db.execute(
        "INSERT INTO deliveries (id, tenant_id, event_id, webhook_id, event_type, status, next_attempt_at, created_at, updated_at) \
         SELECT hookrelay_uuid_v7(), w.tenant_id, $2::text::uuid, w.id, 'slow.first', 'pending', now(), now(), now() \
         FROM webhooks w, generate_series(1, 1500) WHERE w.id = $1::text::uuid",
        &[&id, &event],
    )
    .await
    .unwrap();

    // its receiver hangs: all but a window of the backlog leaves the due queue
    wait_pending(&db, &id, Duration::from_secs(30), "the backlog parked but for a window", |unparked, parked| {
        unparked <= WINDOW_AT_MOST && parked >= 1501 - WINDOW_AT_MOST
    })
    .await;
    let flags = format!("SELECT count(*) FROM webhooks WHERE id = '{id}' AND backlogged AND parked");
    wait_count(&db, &flags, 1, Duration::from_secs(1)).await;
    // its new deliveries are parked as they come, and other webhooks' are attempted
    let mut arrivals = Vec::new();
    for i in 0..20 {
        arrivals.push(app.publish(&token, "slow.more", json!({"i": i})).await["id"].as_str().unwrap().to_owned());
    }
    let new_parked = format!(
        "SELECT count(*) FROM deliveries WHERE webhook_id = '{id}' AND parked AND event_id IN ({})",
        arrivals.iter().map(|e| format!("'{e}'")).collect::<Vec<_>>().join(", ")
    );
    wait_count(&db, &new_parked, 20, Duration::from_secs(10)).await;
    assert!(pending_of(&db, &id).await.0 <= WINDOW_AT_MOST, "the window stays a window");
    app.publish(&token, "b.thing", json!({})).await;
    healthy.wait_for(1, Duration::from_secs(10)).await;
    let b_parked = format!("SELECT count(*) FROM deliveries WHERE webhook_id = '{b_id}' AND parked");
    wait_count(&db, &b_parked, 0, Duration::from_secs(1)).await;

    // made inactive, all of it is parked; active again with a receiver that answers, the
    // window comes back and moves on with each delivery that ends, until all have ended
    let (status, _) = app.patch(&format!("/api/v1/webhooks/{id}"), &token, json!({"active": false})).await;
    assert_eq!(status, 200);
    hang.store(false, Ordering::SeqCst);
    wait_pending(&db, &id, Duration::from_secs(15), "all of it parked while inactive", |unparked, _| unparked == 0)
        .await;
    let (status, _) = app.patch(&format!("/api/v1/webhooks/{id}"), &token, json!({"active": true})).await;
    assert_eq!(status, 200);
    wait_pending(&db, &id, Duration::from_secs(120), "every delivery ended", |unparked, parked| {
        unparked == 0 && parked == 0
    })
    .await;
    let cleared = format!("SELECT count(*) FROM webhooks WHERE id = '{id}' AND NOT backlogged AND NOT parked");
    wait_count(&db, &cleared, 1, Duration::from_secs(5)).await;
    let ended: i64 = db
        .query_one(
            "SELECT count(*) FROM deliveries WHERE webhook_id = $1::text::uuid AND status IN ('succeeded', 'failed')",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(ended, 1521, "every delivery of the backlog ended");
    let succeeded: i64 = db
        .query_one("SELECT count(*) FROM deliveries WHERE webhook_id = $1::text::uuid AND status = 'succeeded'", &[&id])
        .await
        .unwrap()
        .get(0);
    assert!(slow.received().len() as i64 >= succeeded && succeeded >= 1400, "{succeeded} of 1,521 succeeded");
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

#[tokio::test(flavor = "multi_thread")]
async fn each_delivery_that_ends_brings_back_one_of_its_backlogged_webhooks_parked_deliveries() {
    // no dispatcher: only the refills of this test unpark
    let app = TestApp::spawn_with(&["--role", "api"]).await;
    let (token, _) = app.tenant("Acme").await;
    let mut hooks = Vec::new();
    for name in ["backlogged", "inactive", "ordinary"] {
        let w = app.webhook(&token, json!({"name": name, "url": "http://127.0.0.1:9/", "events": ["x.*"]})).await;
        hooks.push(w["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap());
    }
    let event = app.publish(&token, "y.none", json!({})).await["id"].as_str().unwrap().to_owned();
    let db = app.db.client().await;
    // five parked deliveries each, due a second apart
    db.execute(
        "INSERT INTO deliveries (id, tenant_id, event_id, webhook_id, event_type, status, next_attempt_at, parked, created_at, updated_at) \
         SELECT hookrelay_uuid_v7(), w.tenant_id, $1::text::uuid, w.id, 'x.thing', 'pending', now() + i * interval '1 second', \
           true, now(), now() FROM webhooks w, generate_series(1, 5) AS i",
        &[&event],
    )
    .await
    .unwrap();
    db.execute("UPDATE webhooks SET parked = true, backlogged = name <> 'ordinary', active = name <> 'inactive'", &[])
        .await
        .unwrap();

    let pool = hookrelay::db::build_pool(&app.db.url(), 1).unwrap();
    let conn = pool.get().await.unwrap();
    let ended = vec![hooks[0], hooks[0], hooks[1], hooks[2]];
    let back = hookrelay::db::parking::refill(&conn, ended).await.unwrap();
    assert_eq!(back, 2, "two ended of the backlogged webhook; none of an inactive or an ordinary one comes back");
    let rows = db
        .query(
            "SELECT webhook_id::text, r FROM (SELECT webhook_id, parked, \
               rank() OVER (PARTITION BY webhook_id ORDER BY next_attempt_at) AS r FROM deliveries) AS d \
             WHERE NOT parked ORDER BY r",
            &[],
        )
        .await
        .unwrap();
    let back: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let first = hooks[0].to_string();
    assert_eq!(back, vec![(first.clone(), 1), (first, 2)], "the earliest due come back first");
}

#[tokio::test(flavor = "multi_thread")]
async fn deliveries_not_due_yet_do_not_make_a_webhook_backlogged() {
    // claims walk only due rows: a deep backlog due in an hour costs them nothing
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let w = app.webhook(&token, json!({"name": "later", "url": "http://127.0.0.1:9/", "events": ["later.*"]})).await;
    let id = w["id"].as_str().unwrap().to_owned();
    let event = app.publish(&token, "other.thing", json!({})).await["id"].as_str().unwrap().to_owned();
    let db = app.db.client().await;
    db.execute(
        "INSERT INTO deliveries (id, tenant_id, event_id, webhook_id, event_type, status, next_attempt_at, created_at, updated_at) \
         SELECT hookrelay_uuid_v7(), w.tenant_id, $2::text::uuid, w.id, 'later.thing', 'pending', now() + interval '1 hour', \
           now(), now() FROM webhooks w, generate_series(1, 1500) WHERE w.id = $1::text::uuid",
        &[&id, &event],
    )
    .await
    .unwrap();
    // the windows need two upkeep passes a second apart; give them several
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(pending_of(&db, &id).await, (1500, 0), "nothing parked");
    let flags = format!("SELECT count(*) FROM webhooks WHERE id = '{id}' AND (backlogged OR parked)");
    wait_count(&db, &flags, 0, Duration::from_secs(1)).await;
}
