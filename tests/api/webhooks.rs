//! The webhooks API: lifecycle, validation, edge statuses, pagination, isolation.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::TestApp;

const WEBHOOK_FIELDS: [&str; 18] = [
    "active",
    "consumerId",
    "createdAt",
    "description",
    "disabledAt",
    "disabledReason",
    "events",
    "headers",
    "health",
    "id",
    "kind",
    "maxConcurrency",
    "name",
    "pausedUntil",
    "rateLimitPerMinute",
    "retrySchedule",
    "updatedAt",
    "url",
];

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn with_secret_fields() -> Vec<String> {
    let mut k: Vec<String> = WEBHOOK_FIELDS.iter().map(|s| s.to_string()).collect();
    k.extend(["previousSecretExpiresAt".to_owned(), "secret".to_owned()]);
    k.sort();
    k
}

fn is_timestamp(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 24 && s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn webhook_lifecycle() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;

    let created = app
        .webhook(
            &token,
            json!({"name": "My First Webhook", "url": "https://example.com/hook",
            "events": ["message.new", "conversation.*"]}),
        )
        .await;
    assert_eq!(keys(&created), with_secret_fields());
    assert_eq!(created["name"], "My First Webhook");
    assert_eq!(created["url"], "https://example.com/hook");
    assert_eq!(created["kind"], "http", "the default kind");
    assert_eq!(created["events"], json!(["message.new", "conversation.*"]));
    assert_eq!(created["consumerId"], Value::Null);
    assert_eq!(created["description"], Value::Null);
    assert_eq!(created["headers"], json!({}));
    assert_eq!(created["active"], true);
    assert_eq!((&created["disabledReason"], &created["disabledAt"]), (&Value::Null, &Value::Null));
    assert_eq!(created["rateLimitPerMinute"], 100);
    assert_eq!(created["maxConcurrency"], 10);
    assert_eq!(created["retrySchedule"], Value::Null);
    assert_eq!(created["previousSecretExpiresAt"], Value::Null);
    assert!(is_timestamp(&created["createdAt"]) && is_timestamp(&created["updatedAt"]));
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &secret[6..]).unwrap().len(), 32);
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/webhooks/{id}");

    let (status, list) = app.get("/api/v1/webhooks", &token).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(keys(&list["data"][0]), WEBHOOK_FIELDS.to_vec(), "no secret in lists");
    assert_eq!(list["nextCursor"], Value::Null);

    let (status, got) = app.get(&path, &token).await;
    assert_eq!(status, 200);
    assert_eq!(keys(&got), WEBHOOK_FIELDS.to_vec(), "no secret in the plain GET");

    let (status, patched) = app
        .patch(
            &path,
            &token,
            json!({"description": "orders", "active": false, "rateLimitPerMinute": null,
            "retrySchedule": [1, 2], "headers": {"X-Custom": "v"}}),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["description"], "orders");
    assert_eq!(patched["active"], false);
    assert_eq!(patched["disabledReason"], "manual", "made inactive by its owner");
    assert!(is_timestamp(&patched["disabledAt"]), "{patched}");
    assert_eq!(patched["pausedUntil"], Value::Null);
    assert_eq!(patched["rateLimitPerMinute"], Value::Null);
    assert_eq!(patched["retrySchedule"], json!([1, 2]));
    assert_eq!(patched["headers"], json!({"X-Custom": "v"}));
    assert_eq!(patched["name"], "My First Webhook", "fields not sent are unchanged");
    assert_eq!(patched["events"], created["events"]);
    assert_eq!(patched["createdAt"], created["createdAt"]);

    let (_, again) = app.patch(&path, &token, json!({"active": false})).await;
    assert_eq!(again["disabledAt"], patched["disabledAt"], "still since it was first made inactive");
    let (_, enabled) = app.patch(&path, &token, json!({"active": true})).await;
    assert_eq!(
        (&enabled["active"], &enabled["disabledReason"], &enabled["disabledAt"]),
        (&json!(true), &Value::Null, &Value::Null)
    );

    let (status, rotated) = app.post(&format!("{path}/rotate-secret"), &token, json!({})).await;
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(keys(&rotated), with_secret_fields());
    assert_ne!(rotated["secret"], created["secret"]);
    let overlap = chrono::DateTime::parse_from_rfc3339(rotated["previousSecretExpiresAt"].as_str().unwrap()).unwrap();
    let hours = (overlap.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((23.9..=24.0).contains(&hours), "overlap of 24 h, got {hours}");

    let (status, shown) = app.get(&format!("{path}/secret"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(shown["secret"], rotated["secret"]);

    // a caller-supplied secret, plain form
    let (status, own) =
        app.post(&format!("{path}/rotate-secret"), &token, json!({"secret": "my-own-secret-0123456789"})).await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["secret"], "my-own-secret-0123456789");
    let (status, err) = app.post(&format!("{path}/rotate-secret"), &token, json!({"secret": "short"})).await;
    assert_eq!((status, err["errors"][0]["field"].as_str()), (422, Some("secret")));

    let (status, body) = app.delete(&path, &token).await;
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(app.get(&path, &token).await.0, 404);
    assert_eq!(app.delete(&path, &token).await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_validation_rule_is_a_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let base = json!({"name": "n", "url": "https://example.com/h", "events": ["a.b"]});
    let with = |patch: Value| {
        let mut b = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let long = "x".repeat(2100);
    let cases: Vec<(Value, &str)> = vec![
        (with(json!({"name": ""})), "name"),
        (with(json!({"name": "x".repeat(101)})), "name"),
        (with(json!({"description": "x".repeat(1001)})), "description"),
        (with(json!({"url": "ftp://example.com/h"})), "url"),
        (with(json!({"url": "not a url"})), "url"),
        (with(json!({"url": format!("https://example.com/{long}")})), "url"),
        (with(json!({"url": "https://user:pw@example.com/h"})), "url"),
        (with(json!({"url": "https://example.com/a\u{2003}b"})), "url"),
        (with(json!({"events": []})), "events"),
        (with(json!({"events": (0..51).map(|i| format!("e{i}")).collect::<Vec<_>>()})), "events"),
        (with(json!({"events": ["ok.event", "Bad.Event"]})), "events[1]"),
        (with(json!({"events": ["message.*.new"]})), "events[0]"),
        (with(json!({"events": "x"})), "events"),
        (with(json!({"headers": {"Host": "a"}})), "headers.Host"),
        (with(json!({"headers": {"content-length": "1"}})), "headers.content-length"),
        (with(json!({"headers": {"Content-Type": "text/plain"}})), "headers.Content-Type"),
        (with(json!({"headers": {"Transfer-Encoding": "chunked"}})), "headers.Transfer-Encoding"),
        (with(json!({"headers": {"Connection": "close"}})), "headers.Connection"),
        (with(json!({"headers": {"User-Agent": "me"}})), "headers.User-Agent"),
        (with(json!({"headers": {"X-Webhook-Id": "x"}})), "headers.X-Webhook-Id"),
        (with(json!({"headers": {"webhook-signature": "x"}})), "headers.webhook-signature"),
        (with(json!({"headers": {"Bad Name": "x"}})), "headers.Bad Name"),
        (with(json!({"headers": {"X-A": "line\r\nbreak"}})), "headers.X-A"),
        (with(json!({"headers": {"X-A": "v".repeat(1025)}})), "headers.X-A"),
        (
            with(
                json!({"headers": (0..21).map(|i| (format!("X-H{i}"), json!("v"))).collect::<serde_json::Map<_, _>>()}),
            ),
            "headers",
        ),
        (with(json!({"retrySchedule": [0]})), "retrySchedule[0]"),
        (with(json!({"retrySchedule": [86_401]})), "retrySchedule[0]"),
        (with(json!({"retrySchedule": vec![1; 21]})), "retrySchedule"),
        (with(json!({"maxConcurrency": 0})), "maxConcurrency"),
        (with(json!({"maxConcurrency": 101})), "maxConcurrency"),
        (with(json!({"rateLimitPerMinute": 0})), "rateLimitPerMinute"),
        (with(json!({"rateLimitPerMinute": 100_001})), "rateLimitPerMinute"),
        (with(json!({"consumerId": "bad id"})), "consumerId"),
        (with(json!({"secret": "whsec_!!!"})), "secret"),
        (with(json!({"secret": "whsec_AAAA"})), "secret"),
        (with(json!({"secret": "short"})), "secret"),
        (with(json!({"active": "yes"})), "active"),
        (with(json!({"name": "nul\u{0}byte"})), "name"),
        (with(json!({"headers": {"X-A": "a\u{0}b"}})), "headers.X-A"),
        (json!({"url": "https://example.com/h", "events": ["a"]}), "name"),
    ];
    for (body, field) in cases {
        let (status, err) = app.post("/api/v1/webhooks", &token, body.clone()).await;
        assert_eq!(status, 422, "{field}: {err}");
        assert_eq!(err["type"], "validation_failed");
        assert_eq!(err["status"], 422);
        let fields: Vec<&str> = err["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
        assert!(fields.contains(&field), "expected {field}, got {fields:?}");
    }
    let (_, list) = app.get("/api/v1/webhooks", &token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0, "nothing stored");

    // forbidden targets (private targets are allowed in this app, so test the mode that refuses them)
    let strict = TestApp::spawn_on(app.db.clone(), &["--allow-private-targets", "false"]).await;
    for url in [
        "http://127.0.0.1/h",
        "http://2130706433/h",
        "http://0x7f000001/h",
        "http://0177.0.0.1/h",
        "http://127.1/h",
        "http://10.0.0.1/h",
        "http://169.254.169.254/latest",
        "http://[::1]/h",
        "http://[::ffff:127.0.0.1]/h",
        "http://[::ffff:0:7f00:1]/h",
        "http://[64:ff9b:1::7f00:1]/h",
        "http://[fec0::1]/h",
        "http://localhost:8080/h",
        "http://192.168.1.1/h",
        "http://100.64.0.1/h",
    ] {
        let (status, err) = strict.post("/api/v1/webhooks", &token, with(json!({"url": url}))).await;
        assert_eq!((status, err["errors"][0]["field"].as_str()), (422, Some("url")), "{url}: {err}");
    }
    let (status, _) = strict.post("/api/v1/webhooks", &token, with(json!({"url": "http://8.8.8.8/h"}))).await;
    assert_eq!(status, 201, "a public literal address is fine");

    let production = TestApp::spawn_on(
        app.db.clone(),
        &[
            "--mode",
            "production",
            "--jwt-secret",
            "a-production-secret-of-at-least-32-bytes",
            "--encryption-key",
            hookrelay::secrets::DEV_ENCRYPTION_KEY,
        ],
    )
    .await;
    let (ptoken, _) = production.tenant("Prod").await;
    let (status, err) =
        production.post("/api/v1/webhooks", &ptoken, with(json!({"url": "http://example.com/h"}))).await;
    assert_eq!((status, err["errors"][0]["field"].as_str()), (422, Some("url")), "https only in production");
}

#[tokio::test(flavor = "multi_thread")]
async fn edge_statuses_are_problem_json() {
    let app = TestApp::spawn_with(&["--body-limit", "1024"]).await;
    let (token, _) = app.tenant("Acme").await;
    let url = format!("{}/api/v1/webhooks", app.base);

    let res = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(res.json::<Value>().await.unwrap()["type"], "bad_request");

    let big = json!({"name": "n", "url": "https://example.com/h", "events": ["a"], "description": "x".repeat(2000)});
    let res = app.http.post(&url).bearer_auth(&token).json(&big).send().await.unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(res.json::<Value>().await.unwrap()["type"], "payload_too_large");

    let res =
        app.http.post(&url).bearer_auth(&token).header("content-type", "text/plain").body("{}").send().await.unwrap();
    assert_eq!(res.status(), 415);
    assert_eq!(res.json::<Value>().await.unwrap()["type"], "unsupported_media_type");

    let (status, body) = app.call(Method::PUT, "/api/v1/webhooks", Some(&token), None).await;
    assert_eq!((status, body["type"].as_str()), (405, Some("method_not_allowed")));

    let (status, body) = app.get("/api/v1/webhooks/not-a-uuid", &token).await;
    assert_eq!((status, body["type"].as_str()), (404, Some("not_found")));
    let (status, body) = app.get("/api/v1/nothing-here", &token).await;
    assert_eq!((status, body["type"].as_str()), (404, Some("not_found")));

    for query in ["limit=0", "limit=201", "limit=abc", "cursor=%%%", "cursor=AAAA", "consumerId=a%00b"] {
        let (status, body) = app.get(&format!("/api/v1/webhooks?{query}"), &token).await;
        let param = query.split('=').next().unwrap();
        assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some(param)), "{query}: {body}");
    }
    // unknown fields are ignored
    let (status, _) = app
        .post(
            "/api/v1/webhooks",
            &token,
            json!({"name": "n", "url": "https://example.com/h", "events": ["a"], "colour": "red"}),
        )
        .await;
    assert_eq!(status, 201);
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_page_newest_first_and_filter_by_consumer() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let consumer = if i % 2 == 0 { json!("cus_1") } else { Value::Null };
        let w = app
            .webhook(&token, json!({"name": format!("w{i}"), "url": "https://example.com/h", "events": ["a"], "consumerId": consumer}))
            .await;
        ids.push(w["id"].as_str().unwrap().to_owned());
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut path = "/api/v1/webhooks?limit=2".to_owned();
    loop {
        let (status, page) = app.get(&path, &token).await;
        assert_eq!(status, 200);
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(data.iter().map(|w| w["id"].as_str().unwrap().to_owned()));
        match page["nextCursor"].as_str() {
            Some(c) => path = format!("/api/v1/webhooks?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every webhook once, newest first");
    let (_, page) = app.get("/api/v1/webhooks?consumerId=cus_1", &token).await;
    let names: Vec<&str> = page["data"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["w4", "w2", "w0"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn tenants_cannot_see_or_touch_each_others_webhooks() {
    let app = TestApp::spawn().await;
    let (a, _) = app.tenant("A").await;
    let (b, _) = app.tenant("B").await;
    let w = app.webhook(&a, json!({"name": "a", "url": "https://example.com/h", "events": ["*"]})).await;
    app.webhook(&b, json!({"name": "b", "url": "https://example.com/h", "events": ["*"]})).await;
    let id = w["id"].as_str().unwrap();
    let path = format!("/api/v1/webhooks/{id}");
    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, path.clone(), None),
        (Method::PATCH, path.clone(), Some(json!({"name": "stolen"}))),
        (Method::GET, format!("{path}/secret"), None),
        (Method::POST, format!("{path}/rotate-secret"), Some(json!({}))),
        (Method::POST, format!("{path}/test"), Some(json!({}))),
        (Method::DELETE, path.clone(), None),
    ];
    for (method, route, body) in routes {
        let (status, err) = app.call(method.clone(), &route, Some(&b), body).await;
        assert_eq!(status, 404, "{method} {route}: {err}");
        assert_eq!(err["type"], "not_found");
    }
    let (_, list) = app.get("/api/v1/webhooks", &b).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["name"], "b");
    let (status, still) = app.get(&path, &a).await;
    assert_eq!((status, still["name"].as_str()), (200, Some("a")), "untouched by B");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_holds_at_most_the_configured_number_of_webhooks() {
    let app = TestApp::spawn_with(&["--max-webhooks", "2"]).await;
    let (token, _) = app.tenant("Acme").await;
    let body = json!({"name": "n", "url": "https://example.com/h", "events": ["a"]});
    app.webhook(&token, body.clone()).await;
    app.webhook(&token, body.clone()).await;
    let (status, err) = app.post("/api/v1/webhooks", &token, body).await;
    assert_eq!((status, err["type"].as_str()), (409, Some("conflict")));
    assert!(err["detail"].as_str().unwrap().contains('2'), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let res = app.http.get(format!("{}/health", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app.http.get(format!("{}/ready", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["migrations"], "applied");
    // a database that is unreachable makes the service not ready
    let db = app.db.client().await;
    db.batch_execute("DELETE FROM __diesel_schema_migrations").await.unwrap();
    let res = app.http.get(format!("{}/ready", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 503);
}

/// What the OpenAPI description calls valid is accepted: a whole number written with a
/// fraction, unknown fields (NUL characters in them too); NUL in a field that is read
/// stays a 422 naming it.
#[tokio::test(flavor = "multi_thread")]
async fn whole_numbers_and_unknown_fields_are_taken_as_json_schema_reads_them() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let body = json!({"name": "h", "url": "http://127.0.0.1:9/", "events": ["*"], "maxConcurrency": 5.0,
        "retrySchedule": [1.0, 2], "unknown\u{0}key": "x\u{0}y"});
    let (status, created) = app.post("/api/v1/webhooks", &token, body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!((created["maxConcurrency"].as_i64(), &created["retrySchedule"]), (Some(5), &json!([1, 2])));
    let (status, err) = app
        .post(
            "/api/v1/webhooks",
            &token,
            json!({"name": "a\u{0}b", "url": "http://127.0.0.1:9/", "events": ["*"], "maxConcurrency": 2.5}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    let fields: Vec<&str> = err["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields == ["name"] || fields == ["maxConcurrency"], "{fields:?}");
    let (status, _) = app.get("/api/v1/webhooks?cursor=", &token).await;
    assert_eq!(status, 422, "an empty cursor is not a cursor (the description's pattern says so)");
}
