//! Corners of the contract that outside checks found: bodies that are not objects, a
//! `Last-Event-ID` that is not a log row's id, and rows a revoked key's stream must not
//! send.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{Receiver, TestApp};
use crate::observability::Sse;

/// Sends `body` as JSON text to `path`: (status, answer).
async fn send_raw(app: &TestApp, method: reqwest::Method, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut req = app
        .http
        .request(method, format!("{}{path}", app.base))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_is_not_a_json_object_is_422_on_every_route_with_a_body_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    let w = app.webhook(&token, json!({"name": "kept", "url": receiver.url, "events": ["a.b"]})).await;
    let id = w["id"].as_str().unwrap();
    let (_, before) = app.get(&format!("/api/v1/webhooks/{id}"), &token).await;
    let routes: Vec<(reqwest::Method, String, Option<&str>)> = vec![
        (reqwest::Method::PATCH, format!("/api/v1/webhooks/{id}"), Some(&token)),
        (reqwest::Method::POST, "/api/v1/webhooks".into(), Some(&token)),
        (reqwest::Method::POST, format!("/api/v1/webhooks/{id}/test"), Some(&token)),
        (reqwest::Method::POST, format!("/api/v1/webhooks/{id}/rotate-secret"), Some(&token)),
        (reqwest::Method::POST, format!("/api/v1/webhooks/{id}/recover"), Some(&token)),
        (reqwest::Method::POST, "/api/v1/events".into(), Some(&token)),
        (reqwest::Method::POST, "/api/v1/api-keys".into(), Some(&token)),
        (reqwest::Method::POST, "/api/v1/portal-sessions".into(), Some(&token)),
        (reqwest::Method::POST, "/api/v1/auth/register".into(), None),
        (reqwest::Method::POST, "/api/v1/auth/login".into(), None),
    ];
    for (method, path, token) in &routes {
        for body in ["[]", "[{}]", "null", "\"x\"", "1", "true"] {
            let (status, answer) = send_raw(&app, method.clone(), path, *token, body).await;
            assert_eq!(status, 422, "{method} {path} with {body}: {answer}");
            assert_eq!(answer["type"], "validation_failed", "{method} {path} with {body}");
            assert_eq!(answer["errors"][0]["field"], "", "{method} {path} with {body}: the body itself fails");
        }
        // not JSON at all stays a 400
        let (status, _) = send_raw(&app, method.clone(), path, *token, "[1,").await;
        assert_eq!(status, 400, "{method} {path} with malformed JSON");
    }
    let (_, after) = app.get(&format!("/api/v1/webhooks/{id}"), &token).await;
    assert_eq!(after, before, "nothing changed");
    let (_, events) = app.get("/api/v1/events", &token).await;
    assert_eq!(events["data"].as_array().unwrap().len(), 0, "nothing published");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_last_event_id_that_is_not_a_log_rows_id_means_live_rows_only_as_documented() {
    let app = TestApp::spawn().await;
    let doc: Value = app.http.get(format!("{}/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    let params = doc["paths"]["/api/v1/stream"]["get"]["parameters"].as_array().unwrap();
    let header = params.iter().find(|p| p["name"] == "Last-Event-ID").unwrap();
    assert!(header["schema"].get("format").is_none(), "any value is accepted, so none is described: {header}");

    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    app.webhook(&token, json!({"name": "h", "url": receiver.url, "events": ["*"]})).await;
    let old = app.publish(&token, "before.stream", json!({})).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let d = &app.deliveries_of(&token, old["id"].as_str().unwrap()).await[0];
    app.wait_delivery(&token, d["id"].as_str().unwrap(), Duration::from_secs(10), |d| d["status"] == "succeeded").await;
    for last_event_id in ["", "not-a-uuid", "01900000-0000-7000-8000-000000000000"] {
        let mut stream = Sse::open(&app, "", &token, Some(last_event_id)).await;
        let live = app.publish(&token, "during.stream", json!({})).await;
        let (_, row) = stream.next(Duration::from_secs(10)).await;
        assert_eq!(row["eventId"], live["id"], "Last-Event-ID {last_event_id:?}: live rows only, not the old one");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_keys_stream_sends_no_row_recorded_after_the_revocation_and_ends() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    app.webhook(&token, json!({"name": "h", "url": receiver.url, "events": ["*"]})).await;
    let (_, key) = app.post("/api/v1/api-keys", &token, json!({"name": "streamer"})).await;
    let mut stream = Sse::open(&app, "", key["key"].as_str().unwrap(), None).await;
    let first = app.publish(&token, "before.revocation", json!({})).await;
    assert_eq!(stream.next(Duration::from_secs(10)).await.1["eventId"], first["id"], "the stream works");

    let (status, _) = app.delete(&format!("/api/v1/api-keys/{}", key["id"].as_str().unwrap()), &token).await;
    assert_eq!(status, 204);
    let revoked = Instant::now();
    // SPEC: nothing recorded more than 1 s after the revocation is sent
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..3 {
        app.publish(&token, "after.revocation", json!({})).await;
    }
    receiver.wait_for(4, Duration::from_secs(10)).await;
    let rest = stream.rest(Duration::from_secs(20)).await;
    assert!(!rest.contains("event: attempt"), "rows recorded after the revocation were sent: {rest}");
    // and it ends within one heartbeat (15 s) of the revocation
    assert!(revoked.elapsed() < Duration::from_secs(17), "ended {:?} after the revocation", revoked.elapsed());
}
