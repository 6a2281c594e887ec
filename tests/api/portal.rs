//! Consumer portal sessions: a token limited to one consumer's webhooks, 403 elsewhere,
//! 404 for anyone else's ids, refused once expired, never taken for an access token.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Receiver, TestApp};
use crate::observability::Sse;

async fn session(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, s) = app.post("/api/v1/portal-sessions", token, body).await;
    assert_eq!(status, 201, "{s}");
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn a_portal_session_sees_and_changes_only_its_consumers_webhooks() {
    let app = TestApp::spawn_with(&["--public-url", "https://hooks.example.com/"]).await;
    let (token, _) = app.tenant("Acme").await;
    let (other_token, _) = app.tenant("Globex").await;
    let receiver = Receiver::ok().await;
    let hook = |name: &str, consumer: Value| json!({"name": name, "url": receiver.url, "events": ["order.*"], "consumerId": consumer, "retrySchedule": []});
    let mine = app.webhook(&token, hook("mine", json!("cus_1"))).await;
    let theirs = app.webhook(&token, hook("theirs", json!("cus_2"))).await;
    let tenant_wide = app.webhook(&token, hook("tenant-wide", Value::Null)).await;
    let foreign = app.webhook(&other_token, hook("foreign", json!("cus_1"))).await;

    let before = chrono::Utc::now().timestamp();
    let s = session(&app, &token, json!({"consumerId": "cus_1", "expiresIn": 600})).await;
    let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "{s}");
    assert_eq!(s["consumerId"], "cus_1");
    let portal = s["token"].as_str().unwrap().to_owned();
    assert_eq!(s["url"], format!("https://hooks.example.com/portal#token={portal}"));
    let expires = chrono::DateTime::parse_from_rfc3339(s["expiresAt"].as_str().unwrap()).unwrap().timestamp();
    assert!((before + 599..=before + 602).contains(&expires), "{s}");
    // the page names whose portal it is from the token's claims (display only)
    use base64::Engine;
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(portal.split('.').nth(1).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&claims).unwrap();
    assert_eq!((claims["tenant_name"].as_str(), claims["cid"].as_str()), (Some("Acme"), Some("cus_1")), "{claims}");

    // its own webhooks only
    let (status, page) = app.get("/api/v1/webhooks?consumerId=cus_2", &portal).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = page["data"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![mine["id"].as_str().unwrap()], "{page}");
    for other in [&theirs, &tenant_wide, &foreign] {
        let id = other["id"].as_str().unwrap();
        for (method, path) in [
            (Method::GET, format!("/api/v1/webhooks/{id}")),
            (Method::PATCH, format!("/api/v1/webhooks/{id}")),
            (Method::GET, format!("/api/v1/webhooks/{id}/secret")),
            (Method::POST, format!("/api/v1/webhooks/{id}/rotate-secret")),
            (Method::POST, format!("/api/v1/webhooks/{id}/test")),
            (Method::GET, format!("/api/v1/webhooks/{id}/logs")),
            (Method::GET, format!("/api/v1/webhooks/{id}/stats")),
            (Method::DELETE, format!("/api/v1/webhooks/{id}")),
        ] {
            let body = (method == Method::PATCH).then(|| json!({"name": "taken"}));
            let (status, answer) = app.call(method.clone(), &path, Some(&portal), body).await;
            assert_eq!(status, 404, "{method} {path}: {answer}");
        }
    }
    let (_, still) = app.get(&format!("/api/v1/webhooks/{}", theirs["id"].as_str().unwrap()), &token).await;
    assert_eq!(still["name"], "theirs", "nothing changed");

    // create takes the session's consumerId; another one is refused and nothing is stored
    let (status, created) = app
        .post("/api/v1/webhooks", &portal, json!({"name": "added", "url": receiver.url, "events": ["order.*"]}))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["consumerId"], "cus_1");
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    for bad in [json!("cus_2"), Value::Null] {
        let body = json!({"name": "sneaky", "url": receiver.url, "events": ["order.*"], "consumerId": bad});
        let (status, err) = app.post("/api/v1/webhooks", &portal, body).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["errors"][0]["field"], "consumerId", "{err}");
        let path = format!("/api/v1/webhooks/{}", mine["id"].as_str().unwrap());
        let (status, err) = app.patch(&path, &portal, json!({"consumerId": bad, "name": "renamed"})).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["errors"][0]["field"], "consumerId", "{err}");
    }
    let (_, page) = app.get("/api/v1/webhooks", &token).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 4, "only the one create stored: {page}");
    let mine_id = mine["id"].as_str().unwrap();
    let (status, patched) =
        app.patch(&format!("/api/v1/webhooks/{mine_id}"), &portal, json!({"name": "renamed"})).await;
    assert_eq!((status, patched["name"].as_str()), (200, Some("renamed")));

    // its test events, deliveries, logs and stream; not the other consumer's
    let mut stream = Sse::open(&app, "", &portal, None).await;
    let (status, test) = app.post(&format!("/api/v1/webhooks/{mine_id}/test"), &portal, json!({})).await;
    assert_eq!(status, 202, "{test}");
    let (_, published) =
        app.post("/api/v1/events", &token, json!({"event": "order.created", "data": {}, "consumerId": "cus_2"})).await;
    receiver.wait_for(3, Duration::from_secs(10)).await;
    let (_, first) = stream.next(Duration::from_secs(10)).await;
    assert_eq!(first["webhookId"], mine_id, "{first}");
    app.post(&format!("/api/v1/webhooks/{mine_id}/test"), &portal, json!({})).await;
    let (_, second) = stream.next(Duration::from_secs(10)).await;
    assert_eq!(second["webhookId"], mine_id, "the other consumers' attempts in between are not shown: {second}");
    let other_id = theirs["id"].as_str().unwrap();
    let (status, _) = app.get(&format!("/api/v1/stream?webhookId={other_id}"), &portal).await;
    assert_eq!(status, 404);
    // to a tenant, a filter naming another tenant's webhook simply matches nothing (SPEC)
    let foreign_id = foreign["id"].as_str().unwrap();
    drop(Sse::open(&app, &format!("?webhookId={foreign_id}"), &token, None).await);
    let (status, page) = app.get("/api/v1/deliveries", &portal).await;
    assert_eq!(status, 200);
    let listed = page["data"].as_array().unwrap();
    assert!(!listed.is_empty() && listed.iter().all(|d| d["webhookId"] == mine_id), "{page}");
    let (_, all) = app.get(&format!("/api/v1/deliveries?eventId={}", published["id"].as_str().unwrap()), &token).await;
    let elsewhere = all["data"].as_array().unwrap().iter().find(|d| d["webhookId"] != mine_id).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = app.get(&format!("/api/v1/deliveries/{elsewhere}"), &portal).await;
    assert_eq!(status, 404, "another consumer's delivery");
    let (status, _) = app.post(&format!("/api/v1/deliveries/{elsewhere}/retry"), &portal, json!({})).await;
    assert_eq!(status, 404);
    let (status, _) = app.get(&format!("/api/v1/webhooks/{mine_id}/logs"), &portal).await;
    assert_eq!(status, 200);
    let since = (chrono::Utc::now() - chrono::TimeDelta::hours(1)).to_rfc3339();
    let (status, recovery) =
        app.post(&format!("/api/v1/webhooks/{mine_id}/recover"), &portal, json!({"since": since})).await;
    assert_eq!(status, 202, "{recovery}");

    // every other route is forbidden
    for (method, path) in [
        (Method::POST, "/api/v1/events"),
        (Method::GET, "/api/v1/events"),
        (Method::GET, "/api/v1/api-keys"),
        (Method::POST, "/api/v1/api-keys"),
        (Method::POST, "/api/v1/portal-sessions"),
        (Method::GET, "/api/v1/stats"),
    ] {
        let (status, err) = app.call(method.clone(), path, Some(&portal), Some(json!({}))).await;
        assert_eq!(status, 403, "{method} {path}: {err}");
        assert_eq!(err["type"], "forbidden", "{err}");
    }
    let (status, _) = app.get(&format!("/api/v1/events/{}", published["id"].as_str().unwrap()), &portal).await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn portal_tokens_expire_and_are_never_access_tokens_nor_the_reverse() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    // bad input changes nothing
    for (bad, field) in [
        (json!({}), "consumerId"),
        (json!({"consumerId": "has space"}), "consumerId"),
        (json!({"consumerId": "cus_1", "expiresIn": 0}), "expiresIn"),
        (json!({"consumerId": "cus_1", "expiresIn": 86_401}), "expiresIn"),
    ] {
        let (status, err) = app.post("/api/v1/portal-sessions", &token, bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {err}");
        assert_eq!(err["errors"][0]["field"], field, "{bad}: {err}");
    }
    let s = session(&app, &token, json!({"consumerId": "cus_1"})).await;
    let default_expiry = chrono::DateTime::parse_from_rfc3339(s["expiresAt"].as_str().unwrap()).unwrap().timestamp();
    assert!((default_expiry - chrono::Utc::now().timestamp() - 3_600).abs() <= 2, "default 1 h: {s}");

    // a publish-scope key cannot open one; an all-scope key can
    let (_, publish_key) = app.post("/api/v1/api-keys", &token, json!({"name": "p", "scope": "publish"})).await;
    let (status, _) =
        app.post("/api/v1/portal-sessions", publish_key["key"].as_str().unwrap(), json!({"consumerId": "c"})).await;
    assert_eq!(status, 403);
    let (_, all_key) = app.post("/api/v1/api-keys", &token, json!({"name": "a"})).await;
    session(&app, all_key["key"].as_str().unwrap(), json!({"consumerId": "c"})).await;

    // a token that claims the portal audience is not an access token, nor the reverse:
    // verified separately in the unit tests; here, the portal token on a tenant-only route
    let portal = s["token"].as_str().unwrap();
    let (status, _) = app.get("/api/v1/api-keys", portal).await;
    assert_eq!(status, 403);

    let short = session(&app, &token, json!({"consumerId": "cus_1", "expiresIn": 1})).await;
    let short = short["token"].as_str().unwrap();
    let (status, _) = app.get("/api/v1/webhooks", short).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, err) = app.get("/api/v1/webhooks", short).await;
    assert_eq!(status, 401, "refused once expired: {err}");
}
