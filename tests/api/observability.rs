//! Logs, stats, the live stream, metrics, retention and the OpenAPI description.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Receiver, Reply, TestApp};

async fn webhook_delivery_done(app: &TestApp, token: &str, event: &Value, status: &str) -> Value {
    let d = &app.deliveries_of(token, event["id"].as_str().unwrap()).await[0];
    app.wait_delivery(token, d["id"].as_str().unwrap(), Duration::from_secs(20), |d| d["status"] == status).await
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_and_stats_count_exactly_what_happened() {
    let app = TestApp::spawn_with(&["--attempt-timeout", "1s", "--lease", "10s"]).await;
    let (token, _) = app.tenant("Acme").await;
    let (other, _) = app.tenant("Other").await;
    let fast = Receiver::start(|_| Reply { status: 200, delay: Duration::from_millis(60), retry_after: None }).await;
    let flaky = Receiver::start(|n| Reply::status(if n < 2 { 500 } else { 200 })).await;
    let broken = Receiver::start(|_| Reply::status(404)).await;
    let slow = Receiver::start(|_| Reply { status: 200, delay: Duration::from_secs(3), retry_after: None }).await;
    let mut ids = Vec::new();
    for (name, url, schedule) in [
        ("fast", &fast.url, json!([1])),
        ("flaky", &flaky.url, json!([1, 1])),
        ("broken", &broken.url, json!([1])),
        ("slow", &slow.url, json!([])),
    ] {
        let w = app
            .webhook(
                &token,
                json!({"name": name, "url": url, "events": [format!("{name}.event")], "retrySchedule": schedule}),
            )
            .await;
        ids.push(w["id"].as_str().unwrap().to_owned());
    }
    let fast_events = [
        app.publish(&token, "fast.event", json!({"n": 1})).await,
        app.publish(&token, "fast.event", json!({"n": 2})).await,
    ];
    let flaky_event = app.publish(&token, "flaky.event", json!({})).await;
    let broken_event = app.publish(&token, "broken.event", json!({})).await;
    let slow_event = app.publish(&token, "slow.event", json!({})).await;
    for e in &fast_events {
        webhook_delivery_done(&app, &token, e, "succeeded").await;
    }
    webhook_delivery_done(&app, &token, &flaky_event, "succeeded").await;
    webhook_delivery_done(&app, &token, &broken_event, "failed").await;
    webhook_delivery_done(&app, &token, &slow_event, "failed").await;

    // tenant-wide: 5 deliveries, 8 attempts (2 + 3 + 2 + 1), 3 retries (2 + 1)
    let (status, s) = app.get("/api/v1/stats", &token).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["deliveries"], json!({"total": 5, "succeeded": 3, "failed": 2, "pending": 0}));
    assert_eq!(s["successRate"], 0.6);
    assert_eq!(s["attempts"], 8);
    assert_eq!(s["retries"], 3);
    assert_eq!(s["attemptSuccessRate"], 0.375);
    assert_eq!(s["errorsByKind"], json!({"http_status": 4, "timeout": 1}));
    // 7 attempts got an answer: 2 after ~60 ms, 5 at once; the timeout has no response time
    let p50 = s["responseTimeMs"]["p50"].as_i64().unwrap();
    let p95 = s["responseTimeMs"]["p95"].as_i64().unwrap();
    let p99 = s["responseTimeMs"]["p99"].as_i64().unwrap();
    assert!(p50 < 60, "p50 {p50} falls among the immediate answers");
    assert!((60..=200).contains(&p95) && p99 >= p95, "p95 {p95} is the bucket of the ~60 ms answers");
    let avg = s["responseTimeMs"]["avg"].as_f64().unwrap();
    assert!(avg >= 120.0 / 7.0, "avg {avg}");
    let series = s["series"].as_array().unwrap();
    assert!(series.len() == 24 || series.len() == 25, "hourly buckets over 24 h: {}", series.len());
    let total: i64 = series.iter().map(|b| b["attempts"].as_i64().unwrap()).sum();
    assert_eq!(total, 8);
    let failed: i64 = series.iter().map(|b| b["failed"].as_i64().unwrap()).sum();
    assert_eq!(failed, 5);
    for pair in series.windows(2) {
        let a = chrono::DateTime::parse_from_rfc3339(pair[0]["start"].as_str().unwrap()).unwrap();
        let b = chrono::DateTime::parse_from_rfc3339(pair[1]["start"].as_str().unwrap()).unwrap();
        assert_eq!((b - a).num_minutes(), 60, "dense and aligned");
    }

    // one webhook, a short window: per-minute buckets
    let since = (chrono::Utc::now() - chrono::Duration::minutes(10)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, s) = app.get(&format!("/api/v1/webhooks/{}/stats?since={since}", ids[1]), &token).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["deliveries"], json!({"total": 1, "succeeded": 1, "failed": 0, "pending": 0}));
    assert_eq!((s["attempts"].as_i64(), s["retries"].as_i64()), (Some(3), Some(2)));
    assert_eq!(s["successRate"], 1.0);
    assert!((s["attemptSuccessRate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(s["errorsByKind"], json!({"http_status": 2}));
    assert!(s["since"].as_str().unwrap().ends_with(":00.000Z"), "widened to whole minutes: {}", s["since"]);
    assert!((11..=12).contains(&s["series"].as_array().unwrap().len()), "per minute for short windows");
    let (status, err) = app.get("/api/v1/stats?since=2020-01-01T00:00:00Z&until=2020-06-01T00:00:00Z", &token).await;
    assert_eq!((status, err["errors"][0]["field"].as_str()), (422, Some("since")), "at most 90 days");
    let (_, empty) = app.get("/api/v1/stats?since=2020-01-01T00:00:00Z&until=2020-01-01T01:00:00Z", &token).await;
    assert_eq!(empty["successRate"], Value::Null);
    assert_eq!(empty["responseTimeMs"], json!({"avg": null, "p50": null, "p95": null, "p99": null}));
    assert_eq!(empty["series"].as_array().unwrap().len(), 60);

    // logs: newest first, filters, pagination
    let logs_path = format!("/api/v1/webhooks/{}/logs", ids[1]);
    let (status, logs) = app.get(&logs_path, &token).await;
    assert_eq!(status, 200);
    let attempts: Vec<i64> = logs["data"].as_array().unwrap().iter().map(|l| l["attempt"].as_i64().unwrap()).collect();
    assert_eq!(attempts, [3, 2, 1]);
    let row = &logs["data"][2];
    assert_eq!(row["success"], false);
    assert_eq!(row["responseStatus"], 500);
    assert_eq!(row["errorKind"], "http_status");
    assert_eq!(row["responseBody"], "reply 0");
    assert_eq!(row["eventType"], "flaky.event");
    assert_eq!(row["test"], false);
    let (_, failed) = app.get(&format!("{logs_path}?status=failed"), &token).await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 2);
    let (_, ok) = app.get(&format!("{logs_path}?status=success"), &token).await;
    assert_eq!(ok["data"].as_array().unwrap().len(), 1);
    let (_, none) = app.get(&format!("{logs_path}?eventType=other.event"), &token).await;
    assert_eq!(none["data"].as_array().unwrap().len(), 0);
    let (_, future) = app.get(&format!("{logs_path}?since=2999-01-01T00:00:00Z"), &token).await;
    assert_eq!(future["data"].as_array().unwrap().len(), 0);
    let (status, err) = app.get(&format!("{logs_path}?status=maybe"), &token).await;
    assert_eq!((status, err["errors"][0]["field"].as_str()), (422, Some("status")));
    let mut seen = Vec::new();
    let mut path = format!("{logs_path}?limit=1");
    loop {
        let (_, page) = app.get(&path, &token).await;
        seen.extend(page["data"].as_array().unwrap().iter().map(|l| l["attempt"].as_i64().unwrap()));
        match page["nextCursor"].as_str() {
            Some(c) => path = format!("{logs_path}?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, [3, 2, 1]);
    let (_, slow_logs) = app.get(&format!("/api/v1/webhooks/{}/logs", ids[3]), &token).await;
    assert_eq!(slow_logs["data"][0]["errorKind"], "timeout");
    assert_eq!(slow_logs["data"][0]["responseStatus"], Value::Null);

    // another tenant sees none of it
    for path in [logs_path.clone(), format!("/api/v1/webhooks/{}/stats", ids[1])] {
        let (status, err) = app.get(&path, &other).await;
        assert_eq!((status, err["type"].as_str()), (404, Some("not_found")), "{path}");
    }
    let (_, theirs) = app.get("/api/v1/stats", &other).await;
    assert_eq!(theirs["attempts"], 0);
    assert_eq!(theirs["deliveries"]["total"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn stats_count_pending_deliveries_and_manual_retries() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::start(|n| Reply::status(if n == 0 { 500 } else { 200 })).await;
    let w = app
        .webhook(
            &token,
            json!({"name": "h", "url": receiver.url, "events": ["*"], "retrySchedule": [], "active": false}),
        )
        .await;
    app.publish(&token, "a.b", json!({})).await;
    let (_, s) = app.get("/api/v1/stats", &token).await;
    assert_eq!(
        s["deliveries"],
        json!({"total": 0, "succeeded": 0, "failed": 0, "pending": 0}),
        "inactive: nothing created"
    );
    app.patch(&format!("/api/v1/webhooks/{}", w["id"].as_str().unwrap()), &token, json!({"active": true})).await;
    let e = app.publish(&token, "a.b", json!({})).await;
    let failed = webhook_delivery_done(&app, &token, &e, "failed").await;
    let (_, s) = app.get("/api/v1/stats", &token).await;
    assert_eq!(s["deliveries"], json!({"total": 1, "succeeded": 0, "failed": 1, "pending": 0}));
    let (status, _) =
        app.post(&format!("/api/v1/deliveries/{}/retry", failed["id"].as_str().unwrap()), &token, json!({})).await;
    assert_eq!(status, 202);
    webhook_delivery_done(&app, &token, &e, "succeeded").await;
    let (_, s) = app.get("/api/v1/stats", &token).await;
    assert_eq!(
        s["deliveries"],
        json!({"total": 1, "succeeded": 1, "failed": 0, "pending": 0}),
        "the retry moved it from failed to succeeded"
    );
    assert_eq!((s["attempts"].as_i64(), s["retries"].as_i64()), (Some(2), Some(1)));
}

/// Reads Server-Sent Events from a streaming response.
pub(crate) struct Sse {
    res: reqwest::Response,
    buf: String,
}

impl Sse {
    pub(crate) async fn open(app: &TestApp, query: &str, token: &str, last_event_id: Option<&str>) -> Sse {
        let mut req = app.http.get(format!("{}/api/v1/stream{query}", app.base)).bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        Sse { res, buf: String::new() }
    }

    /// Everything the stream sends until it ends; panics if it is still open after `within`.
    pub(crate) async fn rest(mut self, within: Duration) -> String {
        let read = async {
            while let Ok(Some(chunk)) = self.res.chunk().await {
                self.buf.push_str(&String::from_utf8_lossy(&chunk));
            }
            self.buf
        };
        tokio::time::timeout(within, read)
            .await
            .unwrap_or_else(|_| panic!("the stream was still open after {within:?}"))
    }

    /// The next `attempt` event: (id, data).
    pub(crate) async fn next(&mut self, within: Duration) -> (String, Value) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..end + 2).collect();
                let mut id = None;
                let mut data = None;
                let mut event = None;
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str::<Value>(v).unwrap());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event = Some(v.to_owned());
                    }
                }
                if let (Some(id), Some(data)) = (id, data) {
                    assert_eq!(event.as_deref(), Some("attempt"));
                    return (id, data);
                }
                continue;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no event within {within:?}");
            match tokio::time::timeout(left, self.res.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buf.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(other) => panic!("stream ended: {other:?}"),
                Err(_) => panic!("no event within {within:?}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stream_shows_attempts_live_and_resumes_after_last_event_id() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let (other, _) = app.tenant("Other").await;
    let receiver = Receiver::ok().await;
    let theirs = Receiver::ok().await;
    let w = app.webhook(&token, json!({"name": "h", "url": receiver.url, "events": ["*"]})).await;
    app.webhook(&other, json!({"name": "o", "url": theirs.url, "events": ["*"]})).await;
    let mut mine = Sse::open(&app, "", &token, None).await;
    let mut spy = Sse::open(&app, "", &other, None).await;

    let e1 = app.publish(&token, "stream.one", json!({})).await;
    let (id1, row) = mine.next(Duration::from_secs(10)).await;
    assert_eq!(row["id"], id1.as_str());
    assert_eq!(row["eventId"], e1["id"]);
    assert_eq!(row["webhookId"], w["id"]);
    assert_eq!(row["success"], true);

    // the other tenant's stream shows its own attempts only
    let theirs_event = app.publish(&other, "stream.theirs", json!({})).await;
    let (_, their_row) = spy.next(Duration::from_secs(10)).await;
    assert_eq!(their_row["eventId"], theirs_event["id"]);

    // disconnect; attempts recorded meanwhile are delivered on reconnect with Last-Event-ID
    drop(mine);
    let e2 = app.publish(&token, "stream.two", json!({})).await;
    let e3 = app.publish(&token, "stream.three", json!({})).await;
    receiver.wait_for(3, Duration::from_secs(10)).await;
    webhook_delivery_done(&app, &token, &e3, "succeeded").await;
    webhook_delivery_done(&app, &token, &e2, "succeeded").await;
    let mut resumed = Sse::open(&app, "", &token, Some(&id1)).await;
    let mut missed = HashSet::new();
    for _ in 0..2 {
        missed.insert(resumed.next(Duration::from_secs(10)).await.1["eventId"].as_str().unwrap().to_owned());
    }
    let want: HashSet<String> = [&e2, &e3].iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(missed, want);

    // the token may come as ?access_token= (EventSource cannot send headers); filter by webhook
    let res = app
        .http
        .get(format!("{}/api/v1/stream?access_token={token}&webhookId={}", app.base, w["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut by_query = Sse { res, buf: String::new() };
    let e4 = app.publish(&token, "stream.four", json!({})).await;
    assert_eq!(by_query.next(Duration::from_secs(10)).await.1["eventId"], e4["id"]);
    let (status, _) = app.call(Method::GET, "/api/v1/stream", None, None).await;
    assert_eq!(status, 401);
    assert_eq!(
        app.http.get(format!("{}/api/v1/webhooks?access_token={token}", app.base)).send().await.unwrap().status(),
        401,
        "only the stream takes the token in the query"
    );
}

fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_move_with_deliveries() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let scrape = || async { app.http.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap() };
    let before = scrape().await;
    assert!(before.contains("# TYPE hookrelay_attempts_total counter"));
    let receiver = Receiver::start(|n| Reply::status(if n == 0 { 503 } else { 200 })).await;
    app.webhook(&token, json!({"name": "h", "url": receiver.url, "events": ["*"], "retrySchedule": [1]})).await;
    let e = app.publish(&token, "m.x", json!({})).await;
    webhook_delivery_done(&app, &token, &e, "succeeded").await;
    // the queue gauges are refreshed in the background (every 200 ms here)
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let after = loop {
        let text = scrape().await;
        if text.contains("hookrelay_deliveries_pending 0") {
            break text;
        }
        assert!(std::time::Instant::now() < deadline, "the pending gauge did not come down: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let ok = "hookrelay_attempts_total{outcome=\"success\",error_kind=\"none\"}";
    let bad = "hookrelay_attempts_total{outcome=\"failure\",error_kind=\"http_status\"}";
    assert_eq!(metric(&after, ok) - metric(&before, ok), 1.0, "{after}");
    assert_eq!(metric(&after, bad) - metric(&before, bad), 1.0);
    assert_eq!(
        metric(&after, "hookrelay_attempt_duration_seconds_count")
            - metric(&before, "hookrelay_attempt_duration_seconds_count"),
        2.0
    );
    assert_eq!(
        metric(&after, "hookrelay_events_published_total") - metric(&before, "hookrelay_events_published_total"),
        1.0
    );
    assert!(after.contains("hookrelay_oldest_due_delivery_age_seconds"));
    assert!(after.contains("hookrelay_claim_batch_size_count"));
    assert!(metric(&after, "hookrelay_db_pool_max") >= 2.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_purges_old_logs_finished_deliveries_and_events_only() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    let down = Receiver::start(|_| Reply::status(500)).await;
    app.webhook(&token, json!({"name": "ok", "url": receiver.url, "events": ["done.*"]})).await;
    app.webhook(&token, json!({"name": "down", "url": down.url, "events": ["stuck.*"], "retrySchedule": [3600]})).await;
    let done = app.publish(&token, "done.x", json!({})).await;
    let stuck = app.publish(&token, "stuck.x", json!({})).await;
    webhook_delivery_done(&app, &token, &done, "succeeded").await;
    down.wait_for(1, Duration::from_secs(10)).await;
    let d = &app.deliveries_of(&token, stuck["id"].as_str().unwrap()).await[0];
    app.wait_delivery(&token, d["id"].as_str().unwrap(), Duration::from_secs(10), |d| d["attemptCount"] == 1).await;

    let pool = hookrelay::db::build_pool(&app.db.url(), 2).unwrap();
    let mut conn = pool.get().await.unwrap();
    let future = chrono::Utc::now() + chrono::Duration::seconds(5);
    let purged = hookrelay::db::retention::purge(&mut conn, future, chrono::Utc::now() - chrono::Duration::days(1), 1)
        .await
        .unwrap();
    assert_eq!(purged.logs, 2, "both attempt logs are older than the cutoff");
    assert_eq!(purged.deliveries, 1, "only the finished delivery");
    assert_eq!(purged.events, 1, "only the event with nothing pending");
    assert_eq!(app.get(&format!("/api/v1/events/{}", done["id"].as_str().unwrap()), &token).await.0, 404);
    assert_eq!(app.get(&format!("/api/v1/events/{}", stuck["id"].as_str().unwrap()), &token).await.0, 200);
    assert_eq!(app.get(&format!("/api/v1/deliveries/{}", d["id"].as_str().unwrap()), &token).await.0, 200);
    let (_, s) = app.get("/api/v1/stats", &token).await;
    assert_eq!(s["attempts"], 2, "stats rollups outlive the raw logs");
}

/// A manual retry that commits while the purge waits on the delivery's row lock: the
/// delivery is pending again and must survive (it was deleted with its retry's 202).
#[tokio::test(flavor = "multi_thread")]
async fn retention_never_deletes_a_delivery_made_pending_meanwhile() {
    let app = TestApp::spawn_with(&["--role", "api"]).await;
    let (token, _) = app.tenant("Acme").await;
    app.webhook(&token, json!({"name": "h", "url": "http://127.0.0.1:9/", "events": ["old.*"]})).await;
    let event = app.publish(&token, "old.x", json!({})).await;
    let d = &app.deliveries_of(&token, event["id"].as_str().unwrap()).await[0];
    let id = d["id"].as_str().unwrap().to_owned();
    let db = app.db.client().await;
    db.execute(
        "UPDATE deliveries SET status = 'succeeded', updated_at = now() - interval '40 days' WHERE id = $1::text::uuid",
        &[&id],
    )
    .await
    .unwrap();

    // the retry's transaction, held open over the purge
    let (mut retrier, connection) = tokio_postgres::connect(&app.db.url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let retry = retrier.transaction().await.unwrap();
    retry
        .execute(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = now(), updated_at = now() \
             WHERE id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap();
    let url = app.db.url();
    let purge = tokio::spawn(async move {
        let pool = hookrelay::db::build_pool(&url, 1).unwrap();
        let mut conn = pool.get().await.unwrap();
        let now = chrono::Utc::now();
        hookrelay::db::retention::purge(
            &mut conn,
            now - chrono::Duration::days(30),
            now - chrono::Duration::days(90),
            1000,
        )
        .await
        .unwrap()
    });
    // give the purge time to reach the row (it skips it, or used to wait on it)
    tokio::time::sleep(Duration::from_millis(500)).await;
    retry.commit().await.unwrap();
    let purged = purge.await.unwrap();
    assert_eq!(purged.deliveries, 0, "{purged:?}");
    let (status, got) = app.get(&format!("/api/v1/deliveries/{id}"), &token).await;
    assert_eq!(status, 200, "the retried delivery survives: {got}");
    assert_eq!(got["status"], "pending");
}

/// Reads a stream until it ends; panics if it is still open after `within`.
async fn ends_within(res: reqwest::Response, within: Duration) -> Duration {
    let started = Instant::now();
    let mut res = res;
    let read = async { while let Ok(Some(_)) = res.chunk().await {} };
    assert!(tokio::time::timeout(within, read).await.is_ok(), "the stream was still open after {within:?}");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_end_with_their_credential_and_are_capped_per_tenant() {
    let app = TestApp::spawn_with(&["--max-streams", "2", "--token-ttl", "3s"]).await;
    let (token, _) = app.tenant("Acme").await;
    let (_, key) = app.post("/api/v1/api-keys", &token, json!({"name": "streamer"})).await;
    let (_, spare) = app.post("/api/v1/api-keys", &token, json!({"name": "spare"})).await;
    let open = |credential: String| {
        let req = app.http.get(format!("{}/api/v1/stream", app.base)).bearer_auth(credential);
        async move { req.send().await.unwrap() }
    };
    let by_key = open(key["key"].as_str().unwrap().to_owned()).await;
    assert_eq!(by_key.status(), 200);
    let by_token = open(token.clone()).await;
    assert_eq!(by_token.status(), 200);
    let third = open(token.clone()).await;
    assert_eq!(third.status(), 429, "two streams per tenant here");
    assert!(third.headers().contains_key("retry-after"));

    // a revoked key's stream ends within a heartbeat (15 s); the access token expires 3 s
    // after login, and its stream ends then
    let (status, _) = app.delete(&format!("/api/v1/api-keys/{}", key["id"].as_str().unwrap()), &token).await;
    assert_eq!(status, 204);
    let (token_took, _) =
        tokio::join!(ends_within(by_token, Duration::from_secs(10)), ends_within(by_key, Duration::from_secs(20)));
    assert!(token_took <= Duration::from_secs(4), "ended at its expiry, not later: {token_took:?}");
    // their places under the cap are free again
    for _ in 0..2 {
        assert_eq!(open(spare["key"].as_str().unwrap().to_owned()).await.status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_can_require_a_token() {
    let app = TestApp::spawn_with(&["--metrics-token", "scrape-token-0123456789"]).await;
    let scrape = |token: Option<&'static str>| {
        let mut req = app.http.get(format!("{}/metrics", app.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(scrape(None).await, 401);
    assert_eq!(scrape(Some("scrape-token-012345678")).await, 401);
    assert_eq!(scrape(Some("scrape-token-0123456789")).await, 200);
    assert_eq!(app.http.get(format!("{}/health", app.base)).send().await.unwrap().status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_description_matches_the_registered_routes() {
    let app = TestApp::spawn().await;
    let res = app.http.get(format!("{}/openapi.json", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    let documented: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let mut registered = hookrelay::api::route::registered_paths();
    registered.sort();
    let mut documented_sorted = documented.clone();
    documented_sorted.sort();
    assert_eq!(registered, documented_sorted, "every registered path is documented and vice versa");
    let placeholder = "01900000-0000-7000-8000-000000000000";
    for path in &documented {
        let url = format!("{}{}", app.base, path.replace("{id}", placeholder));
        let methods = doc["paths"][path].as_object().unwrap();
        let all = ["get", "post", "put", "patch", "delete"];
        let allow: Vec<String> = all.iter().filter(|m| methods.contains_key(**m)).map(|m| m.to_uppercase()).collect();
        for method in all {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            // no body, no token: documented methods answer anything but 405
            let res = app.http.request(m, &url).header("content-type", "application/json").send().await.unwrap();
            if methods.contains_key(method) {
                assert_ne!(res.status(), 405, "{method} {path} is documented but not routed");
            } else {
                assert_eq!(res.status(), 405, "{method} {path} is routed but not documented");
                let header = res.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
                assert_eq!(header, Some(allow.join(", ")), "{method} {path}: Allow lists the route's methods");
            }
        }
    }
    let docs = app.http.get(format!("{}/docs", app.base)).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.contains("/docs/swagger-ui-bundle.js") && !html.contains("https://"), "offline docs");
    let js = app.http.get(format!("{}/docs/swagger-ui-bundle.js", app.base)).send().await.unwrap();
    assert_eq!(js.status(), 200);
}

/// Many streams share one reader: each recorded batch is read once for all of a
/// process's streams (and a stream reads only to catch up), not once per stream.
#[tokio::test(flavor = "multi_thread")]
async fn streams_share_one_read_per_recorded_batch() {
    const STREAMS: usize = 20;
    const EVENTS: usize = 5;
    let app = TestApp::spawn_with(&["--max-streams", "50"]).await;
    let (token, _) = app.tenant("Acme").await;
    let (other, _) = app.tenant("Globex").await;
    let receiver = Receiver::ok().await;
    let w = app.webhook(&token, json!({"name": "h", "url": receiver.url, "events": ["*"]})).await;
    app.webhook(&other, json!({"name": "h", "url": receiver.url, "events": ["*"]})).await;
    let mut streams = Vec::new();
    for i in 0..STREAMS {
        // half of them filtered to the webhook
        let query = if i % 2 == 0 { String::new() } else { format!("?webhookId={}", w["id"].as_str().unwrap()) };
        streams.push(Sse::open(&app, &query, &token, None).await);
    }
    let reads = || async {
        let (_, text) = app.call(Method::GET, "/metrics", None, None).await;
        metric(text.as_str().unwrap(), "hookrelay_stream_reads_total ")
    };
    // every stream has caught up (its one read) once it has seen a first event
    app.publish(&other, "theirs.first", json!({})).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = reads().await;
    for i in 0..EVENTS {
        let e = app.publish(&token, "mine.event", json!({"i": i})).await;
        for s in &mut streams {
            let (_, data) = s.next(Duration::from_secs(10)).await;
            assert_eq!(data["eventId"], e["id"], "each stream gets each of its tenant's attempts, in order");
        }
        // and another tenant's batch in between, which none of them shows
        app.publish(&other, "theirs.event", json!({"i": i})).await;
        receiver.wait_for(2 + 2 * i + 1, Duration::from_secs(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let read = reads().await - before;
    // one read per stream per batch would be 20 x 10 = 200
    assert!(
        read <= (4 * EVENTS) as f64,
        "{read} reads for {EVENTS} of this tenant's batches and {EVENTS} of another's"
    );
}
