//! Inbound sources end to end: the sources API, the ingest URL's answers, handshakes,
//! signatures on the exact bytes, dedupe under concurrency, the secret overlap, the
//! request log and tenant isolation. The providers' schemes themselves are unit-tested
//! against their published vectors in `src/inbound/`.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{Receiver, TestApp};

pub(crate) fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

async fn source(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = app.post("/api/v1/sources", token, body).await;
    assert_eq!(status, 201, "create source: {created}");
    created
}

/// Sends `body` to a source's ingest URL with `headers`: (status, content type, body).
async fn ingest(
    app: &TestApp,
    url: &str,
    method: Method,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, String, String) {
    let mut req = app.http.request(method, url).body(body.to_vec());
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let content_type = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, res.text().await.unwrap())
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

const WHATSAPP: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"from":"15551234567","text":{"body":"héllo 👋"}}]}}]}]}"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_meta_source_answers_its_handshake_and_delivers_verified_requests_byte_for_byte() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    app.webhook(&token, json!({"name": "meta", "url": receiver.url, "events": ["meta.*"]})).await;
    let s = source(
        &app,
        &token,
        json!({"name": "WhatsApp", "provider": "meta", "config": {"appSecret": "app-secret-0123456789", "verifyToken": "my-verify-token"}}),
    )
    .await;
    assert_eq!(s["config"]["appSecret"], "****6789", "secrets are write-only: {s}");
    let url = s["ingestUrl"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/in/", app.base)), "{url}");

    // the verify-token handshake, answered by hookrelay itself
    let hello = format!("{url}?hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=1158201444");
    let (status, content_type, body) = ingest(&app, &hello, Method::GET, &[], b"").await;
    assert_eq!((status, body.as_str()), (200, "1158201444"));
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let wrong = format!("{url}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444");
    assert_eq!(ingest(&app, &wrong, Method::GET, &[], b"").await.0, 403);

    // a signed request: accepted, published as meta.<object>.<field>, delivered as it arrived
    let signature = format!("sha256={}", hmac_hex(b"app-secret-0123456789", WHATSAPP.as_bytes()));
    let headers = [("x-hub-signature-256", signature.clone()), ("content-type", "application/json".to_owned())];
    let (status, _, answer) = ingest(&app, &url, Method::POST, &headers, WHATSAPP.as_bytes()).await;
    assert_eq!(status, 200, "{answer}");
    let answer = json_of(&answer);
    assert_eq!(answer["status"], "accepted");
    let got = &receiver.wait_for(1, Duration::from_secs(10)).await[0];
    assert_eq!(got.body, WHATSAPP.as_bytes(), "the exact bytes");
    assert_eq!(got.header("x-webhook-event"), "meta.whatsapp_business_account.messages");
    assert_eq!(got.header("x-webhook-source"), s["id"].as_str().unwrap());
    assert_eq!(got.header("x-hub-signature-256"), signature, "the provider's own check still passes");

    // the event reads its source and request; data is the body as JSON
    let (_, events) = app.get("/api/v1/events", &token).await;
    let event = &events["data"][0];
    assert_eq!(event["sourceId"], s["id"]);
    assert_eq!(event["inboundRequestId"], answer["id"]);
    assert_eq!(event["data"], json_of(WHATSAPP));

    // one byte changed, no signature, a malformed one: 401 naming the check
    let tampered = WHATSAPP.replace("15551234567", "15551234568");
    let (status, _, problem) = ingest(&app, &url, Method::POST, &headers, tampered.as_bytes()).await;
    assert_eq!((status, json_of(&problem)["detail"].as_str()), (401, Some("signature_mismatch")), "{problem}");
    let (status, _, problem) = ingest(&app, &url, Method::POST, &[], WHATSAPP.as_bytes()).await;
    assert_eq!((status, json_of(&problem)["detail"].as_str()), (401, Some("missing_signature")), "{problem}");
    assert!(!problem.contains(&signature[7..]), "never the expected value");

    // the request log: newest first, with verdicts; signature values masked
    let path = format!("/api/v1/sources/{}/requests", s["id"].as_str().unwrap());
    let (status, log) = app.get(&path, &token).await;
    assert_eq!(status, 200, "{log}");
    let statuses: Vec<&str> = log["data"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["rejected", "rejected", "accepted", "rejected", "handshake"]);
    assert_eq!(log["data"][3]["check"], "wrong_credentials", "a wrong verify token");
    assert_eq!(log["data"][0]["check"], "missing_signature");
    assert_eq!(log["data"][1]["check"], "signature_mismatch");
    assert_eq!(log["data"][2]["matched"], "current");
    assert_eq!(log["data"][2]["eventId"], event["id"]);
    assert_eq!(log["data"][2]["headers"]["x-hub-signature-256"], "****");
    assert!(log["data"][3]["query"].as_str().unwrap().contains("hub.verify_token=****"), "{}", log["data"][3]);
    let (_, only_rejected) = app.get(&format!("{path}?status=rejected"), &token).await;
    assert_eq!(only_rejected["data"].as_array().unwrap().len(), 3);
    let rid = log["data"][2]["id"].as_str().unwrap();
    let (status, one) = app.get(&format!("{path}/{rid}"), &token).await;
    assert_eq!((status, &one["body"]), (200, &json!(WHATSAPP)));

    // the dry run checks a pasted request and stores nothing
    let verify = format!("/api/v1/sources/{}/verify", s["id"].as_str().unwrap());
    let pasted = json!({"headers": {"X-Hub-Signature-256": signature}, "body": WHATSAPP});
    let (status, verdict) = app.post(&verify, &token, pasted).await;
    assert_eq!(status, 200, "{verdict}");
    assert_eq!(
        verdict,
        json!({"status": "accepted", "check": null, "matched": "current",
        "eventType": "meta.whatsapp_business_account.messages", "dedupeKey": verdict["dedupeKey"]})
    );
    let (_, after) = app.get(&path, &token).await;
    assert_eq!(after["data"].as_array().unwrap().len(), 5, "the dry run stored nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_copies_of_one_request_at_once_publish_one_event() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let s = source(
        &app,
        &token,
        json!({"name": "Stripe", "provider": "stripe", "config": {"signingSecret": "whsec_test_0123456789abcdef"}}),
    )
    .await;
    let url = s["ingestUrl"].as_str().unwrap().to_owned();
    let body = r#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"amount":12345678901234567890}}}"#;
    let t = chrono::Utc::now().timestamp();
    let signature = format!("t={t},v1={}", hmac_hex(b"whsec_test_0123456789abcdef", format!("{t}.{body}").as_bytes()));
    let sends = (0..20).map(|_| {
        let (app, url, signature) = (&app, url.clone(), signature.clone());
        async move { ingest(app, &url, Method::POST, &[("stripe-signature", signature)], body.as_bytes()).await }
    });
    let answers: Vec<Value> = futures_util::future::join_all(sends)
        .await
        .into_iter()
        .map(|(status, _, text)| {
            assert_eq!(status, 200, "{text}");
            json_of(&text)
        })
        .collect();
    let accepted: Vec<&Value> = answers.iter().filter(|a| a["status"] == "accepted").collect();
    assert_eq!(accepted.len(), 1, "{answers:?}");
    assert!(answers.iter().all(|a| a["id"] == accepted[0]["id"]), "every copy answers the first request's id");
    let (_, events) = app.get("/api/v1/events?event=stripe.payment_intent.succeeded", &token).await;
    assert_eq!(events["data"].as_array().unwrap().len(), 1, "one event");
    assert_eq!(events["data"][0]["data"]["data"]["object"]["amount"].to_string(), "12345678901234567890");

    // a stale timestamp with a valid signature
    let old = t - 400;
    let stale = format!("t={old},v1={}", hmac_hex(b"whsec_test_0123456789abcdef", format!("{old}.{body}").as_bytes()));
    let (status, _, problem) = ingest(&app, &url, Method::POST, &[("stripe-signature", stale)], body.as_bytes()).await;
    assert_eq!((status, json_of(&problem)["detail"].as_str()), (401, Some("timestamp_out_of_window")));
}

/// Signs a Stripe request as Stripe does, at `t`.
fn stripe_signed(secret: &[u8], t: i64, body: &str) -> String {
    format!("t={t},v1={}", hmac_hex(secret, format!("{t}.{body}").as_bytes()))
}

/// Many distinct requests and their copies at once: the writers batch them, so copies of
/// one request meet in one batch, in batches written at the same time, and after the
/// first's commit. Each dedupe key publishes once, every copy answers the first request's
/// id, and the request log holds every copy as a duplicate of the first's event.
#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_requests_and_their_copies_publishes_each_once() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let secret = "whsec_test_burst_0123456789";
    let s = source(&app, &token, json!({"name": "Stripe", "provider": "stripe", "config": {"signingSecret": secret}}))
        .await;
    let url = s["ingestUrl"].as_str().unwrap().to_owned();
    let started = chrono::Utc::now();
    let t = started.timestamp();
    let (keys, copies) = (40, 5);
    let bodies: Vec<String> = (0..keys)
        .map(|k| format!(r#"{{"id":"evt_burst_{k}","type":"charge.succeeded","data":{{"k":{k}}}}}"#))
        .collect();
    // the copies of the first half's keys are sent one after the other (so that they
    // meet in one batch), those of the second half spread over the burst
    let adjacent = (0..keys / 2).flat_map(|k| std::iter::repeat_n(k, copies));
    let spread = (0..copies).flat_map(|_| keys / 2..keys);
    let sends = adjacent.chain(spread).map(|k| {
        let (app, url, body) = (&app, url.clone(), bodies[k].clone());
        let signature = stripe_signed(secret.as_bytes(), t, &body);
        async move {
            let (status, _, text) =
                ingest(app, &url, Method::POST, &[("stripe-signature", signature)], body.as_bytes()).await;
            assert_eq!(status, 200, "{text}");
            (k, json_of(&text))
        }
    });
    let answers = futures_util::future::join_all(sends).await;
    let mut first_of = std::collections::HashMap::new();
    for (k, answer) in answers.iter().filter(|(_, a)| a["status"] == "accepted") {
        assert!(first_of.insert(*k, answer["id"].clone()).is_none(), "key {k} accepted twice: {answers:?}");
    }
    assert_eq!(first_of.len(), keys, "every key accepted once");
    for (k, answer) in &answers {
        assert_eq!(answer["id"], first_of[k], "a copy of key {k} answers its first request's id");
    }
    let (_, events) = app.get("/api/v1/events?event=stripe.charge.succeeded&limit=100", &token).await;
    assert_eq!(events["data"].as_array().unwrap().len(), keys, "one event per key");

    let id = s["id"].as_str().unwrap();
    let (mut logged, mut cursor) = (Vec::new(), String::new());
    loop {
        let (status, page) = app.get(&format!("/api/v1/sources/{id}/requests?limit=100{cursor}"), &token).await;
        assert_eq!(status, 200, "{page}");
        logged.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["nextCursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(logged.len(), keys * copies, "every request is in the log");
    let event_of: std::collections::HashMap<&str, &Value> = logged
        .iter()
        .filter(|r| r["status"] == "accepted")
        .map(|r| (r["dedupeKey"].as_str().unwrap(), &r["eventId"]))
        .collect();
    assert_eq!(event_of.len(), keys);
    let duplicates: Vec<&Value> = logged.iter().filter(|r| r["status"] == "duplicate").collect();
    assert_eq!(duplicates.len(), keys * (copies - 1));
    for d in duplicates {
        assert_eq!(
            &d["eventId"],
            event_of[d["dedupeKey"].as_str().unwrap()],
            "a duplicate names the first's event: {d}"
        );
    }

    // `since` and `until` bound the log by the time each request was received
    let at = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let ended = chrono::Utc::now();
    let first = |query: String| {
        let (app, token) = (&app, &token);
        async move {
            let (status, page) = app.get(&format!("/api/v1/sources/{id}/requests?limit=1{query}"), token).await;
            assert_eq!(status, 200, "{page}");
            page["data"].as_array().unwrap().first().map(|r| r["id"].clone())
        }
    };
    let ms = chrono::Duration::milliseconds;
    assert!(first(format!("&since={}", at(started - ms(5)))).await.is_some());
    assert_eq!(first(format!("&since={}", at(ended + ms(1000)))).await, None, "none after the burst");
    assert_eq!(first(format!("&until={}", at(started - ms(5)))).await, None, "none before it");
    assert!(first(format!("&until={}", at(ended + ms(1000)))).await.is_some());
    let newest = &logged[0];
    let received: chrono::DateTime<chrono::Utc> = newest["receivedAt"].as_str().unwrap().parse().unwrap();
    assert_ne!(first(format!("&until={}", at(received))).await.as_ref(), Some(&newest["id"]), "until is exclusive");
    assert_eq!(first(format!("&since={}", at(received))).await.as_ref(), Some(&newest["id"]), "since is inclusive");
}

/// A dedupe key answers `duplicate` for 72 hours, and is taken again after.
#[tokio::test(flavor = "multi_thread")]
async fn a_dedupe_key_older_than_the_window_is_accepted_again() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let secret = "whsec_test_window_0123456789";
    let s = source(&app, &token, json!({"name": "Stripe", "provider": "stripe", "config": {"signingSecret": secret}}))
        .await;
    let url = s["ingestUrl"].as_str().unwrap().to_owned();
    let body = r#"{"id":"evt_window","type":"invoice.paid","data":{}}"#;
    let send = || {
        let signature = stripe_signed(secret.as_bytes(), chrono::Utc::now().timestamp(), body);
        let (app, url) = (&app, url.clone());
        async move {
            let (status, _, text) =
                ingest(app, &url, Method::POST, &[("stripe-signature", signature)], body.as_bytes()).await;
            assert_eq!(status, 200, "{text}");
            json_of(&text)
        }
    };
    let first = send().await;
    assert_eq!(first["status"], "accepted");
    let again = send().await;
    assert_eq!((&again["status"], &again["id"]), (&json!("duplicate"), &first["id"]));
    let db = app.db.client().await;
    let moved = db
        .execute(
            "UPDATE inbound_dedupe SET created_at = created_at - interval '73 hours' WHERE dedupe_key = 'evt_window'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(moved, 1);
    let later = send().await;
    assert_eq!(later["status"], "accepted", "{later}");
    assert_ne!(later["id"], first["id"]);
    let (_, events) = app.get("/api/v1/events?event=stripe.invoice.paid", &token).await;
    assert_eq!(events["data"].as_array().unwrap().len(), 2, "published again once the window has passed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_secret_keeps_verifying_for_the_overlap_then_stops() {
    let app = TestApp::spawn_with(&["--source-secret-overlap", "2s"]).await;
    let (token, _) = app.tenant("Acme").await;
    let s = source(
        &app,
        &token,
        json!({"name": "GitHub", "provider": "github", "config": {"secret": "old-secret-0123456789"}}),
    )
    .await;
    let id = s["id"].as_str().unwrap();
    let url = s["ingestUrl"].as_str().unwrap().to_owned();
    let (status, patched) = app
        .patch(&format!("/api/v1/sources/{id}"), &token, json!({"config": {"secret": "new-secret-0123456789"}}))
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["config"]["secret"], "****6789");
    // a source read back and sent again carries its mask: never taken for a new secret
    let (status, problem) =
        app.patch(&format!("/api/v1/sources/{id}"), &token, json!({"config": patched["config"]})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("config.secret")), "{problem}");
    let send = |secret: &'static str, delivery: &'static str| {
        let body = r#"{"action":"opened","number":1}"#;
        let headers = [
            ("x-hub-signature-256", format!("sha256={}", hmac_hex(secret.as_bytes(), body.as_bytes()))),
            ("x-github-event", "pull_request".to_owned()),
            ("x-github-delivery", delivery.to_owned()),
        ];
        let (app, url) = (&app, url.clone());
        async move { ingest(app, &url, Method::POST, &headers, body.as_bytes()).await }
    };
    assert_eq!(send("new-secret-0123456789", "d1").await.0, 200);
    assert_eq!(send("old-secret-0123456789", "d2").await.0, 200, "the previous secret still verifies");
    let (_, log) = app.get(&format!("/api/v1/sources/{id}/requests"), &token).await;
    assert_eq!(log["data"][0]["matched"], "previous");
    assert_eq!(log["data"][1]["matched"], "current");
    assert_eq!(log["data"][0]["dedupeKey"], "d2");
    let (_, events) = app.get("/api/v1/events?event=github.pull_request.opened", &token).await;
    assert_eq!(events["data"].as_array().unwrap().len(), 2);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, _, problem) = send("old-secret-0123456789", "d3").await;
    assert_eq!((status, json_of(&problem)["detail"].as_str()), (401, Some("signature_mismatch")));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ingest_url_answers_as_spec_says_for_every_kind_of_wrong_request() {
    let app = TestApp::spawn_with(&["--ingest-body-limit", "1024", "--tenant-publish-rate", "1"]).await;
    let (token, _) = app.tenant("Acme").await;
    let s = source(
        &app,
        &token,
        json!({"name": "Stripe", "provider": "stripe", "config": {"signingSecret": "whsec_abcdefghijklmnop"}}),
    )
    .await;
    let id = s["id"].as_str().unwrap();
    let url = s["ingestUrl"].as_str().unwrap().to_owned();
    assert_eq!(ingest(&app, &format!("{}/in/unknown-token", app.base), Method::POST, &[], b"{}").await.0, 404);
    let res = app.http.get(&url).send().await.unwrap();
    assert_eq!((res.status().as_u16(), res.headers()["allow"].to_str().unwrap()), (405, "POST"));
    let res = app.http.put(&url).send().await.unwrap();
    assert_eq!((res.status().as_u16(), res.headers()["allow"].to_str().unwrap()), (405, "POST"));
    let big = vec![b'x'; 2048];
    assert_eq!(ingest(&app, &url, Method::POST, &[], &big).await.0, 413);
    let (status, _) = app.patch(&format!("/api/v1/sources/{id}"), &token, json!({"active": false})).await;
    assert_eq!(status, 200);
    let (status, _, problem) = ingest(&app, &url, Method::POST, &[], b"{}").await;
    assert_eq!((status, json_of(&problem)["type"].as_str()), (410, Some("gone")));

    // a rotated URL: the new one works, the old one keeps working for 48 h
    app.patch(&format!("/api/v1/sources/{id}"), &token, json!({"active": true})).await;
    let (status, rotated) = app.post(&format!("/api/v1/sources/{id}/rotate-url"), &token, json!({})).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["ingestUrl"], s["ingestUrl"]);
    assert!(rotated["previousIngestUrlExpiresAt"].is_string());
    for u in [&url, rotated["ingestUrl"].as_str().unwrap()] {
        let (status, _, problem) = ingest(&app, u, Method::POST, &[], b"{}").await;
        assert_eq!((status, json_of(&problem)["detail"].as_str()), (401, Some("missing_signature")), "{u}");
    }
    // over the tenant's publish rate (1/s, a burst of 2): 429 with Retry-After, and logged
    let hooks = source(&app, &token, json!({"name": "n", "provider": "none", "eventType": "in.coming"})).await;
    let mut limited = None;
    for _ in 0..6 {
        let res = app.http.post(hooks["ingestUrl"].as_str().unwrap()).body("{}").send().await.unwrap();
        if res.status() == 429 {
            limited = Some(res);
            break;
        }
        assert_eq!(res.status(), 200);
    }
    let limited = limited.expect("a 429 within six requests at once");
    assert!(limited.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    let (_, log) =
        app.get(&format!("/api/v1/sources/{}/requests?status=rejected", hooks["id"].as_str().unwrap()), &token).await;
    assert_eq!(log["data"].as_array().unwrap().len(), 1, "the 429 is in the request log: {log}");

    // deleted: its URL is unknown
    assert_eq!(app.delete(&format!("/api/v1/sources/{id}"), &token).await.0, 204);
    assert_eq!(ingest(&app, &url, Method::POST, &[], b"{}").await.0, 404);
    assert_eq!(app.get(&format!("/api/v1/sources/{id}"), &token).await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn sources_belong_to_their_tenant_and_need_a_full_credential() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let (other, _) = app.tenant("Other").await;
    let receiver = Receiver::ok().await;
    let theirs = Receiver::ok().await;
    app.webhook(&token, json!({"name": "mine", "url": receiver.url, "events": ["*"]})).await;
    app.webhook(&other, json!({"name": "theirs", "url": theirs.url, "events": ["*"]})).await;
    let s = source(&app, &token, json!({"name": "Hooks", "provider": "none", "eventType": "order.created"})).await;
    let id = s["id"].as_str().unwrap();
    for path in [format!("/api/v1/sources/{id}"), format!("/api/v1/sources/{id}/requests")] {
        assert_eq!(app.get(&path, &other).await.0, 404, "{path}");
    }
    assert_eq!(app.patch(&format!("/api/v1/sources/{id}"), &other, json!({"name": "x"})).await.0, 404);
    assert_eq!(app.delete(&format!("/api/v1/sources/{id}"), &other).await.0, 404);
    let (_, listed) = app.get("/api/v1/sources", &other).await;
    assert_eq!(listed["data"], json!([]));

    // its URL publishes to its own tenant only
    let (status, _, _) = ingest(&app, s["ingestUrl"].as_str().unwrap(), Method::POST, &[], b"{\"n\":1}").await;
    assert_eq!(status, 200);
    let got = &receiver.wait_for(1, Duration::from_secs(10)).await[0];
    assert_eq!(got.header("x-webhook-event"), "order.created");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(theirs.received().is_empty(), "nothing reached the other tenant");

    let (_, key) = app.post("/api/v1/api-keys", &token, json!({"name": "pub", "scope": "publish"})).await;
    let key = key["key"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/sources", key).await.0, 403);
    assert_eq!(
        app.post("/api/v1/sources", key, json!({"name": "x", "provider": "none", "eventType": "a.b"})).await.0,
        403
    );

    // validation names the field, and a generated header value is shown once
    let (status, problem) = app.post("/api/v1/sources", &token, json!({"name": "x", "provider": "nope"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("provider")));
    let (status, problem) =
        app.post("/api/v1/sources", &token, json!({"name": "x", "provider": "hmac", "config": {}})).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"eventType") && fields.contains(&"config.secret"), "{fields:?}");
    let unipile = source(&app, &token, json!({"name": "Unipile", "provider": "unipile"})).await;
    let value = unipile["config"]["headerValue"].as_str().unwrap().to_owned();
    assert!(!value.starts_with("****") && value.len() >= 32, "shown whole once: {value}");
    assert_eq!(unipile["config"]["headerName"], "X-Hookrelay-Token");
    let (_, again) = app.get(&format!("/api/v1/sources/{}", unipile["id"].as_str().unwrap()), &token).await;
    assert!(again["config"]["headerValue"].as_str().unwrap().starts_with("****"));
    let url = unipile["ingestUrl"].as_str().unwrap();
    let (status, _, answer) =
        ingest(&app, url, Method::POST, &[("x-hookrelay-token", value)], br#"{"event":"message_received"}"#).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_and_linkedin_handshakes_are_answered_and_not_published() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let slack = source(
        &app,
        &token,
        json!({"name": "Slack", "provider": "slack", "config": {"signingSecret": "slack-signing-secret-01"}}),
    )
    .await;
    let body =
        r#"{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let ts = chrono::Utc::now().timestamp().to_string();
    let sig = format!("v0={}", hmac_hex(b"slack-signing-secret-01", format!("v0:{ts}:{body}").as_bytes()));
    let headers = [("x-slack-signature", sig), ("x-slack-request-timestamp", ts)];
    let (status, _, answer) =
        ingest(&app, slack["ingestUrl"].as_str().unwrap(), Method::POST, &headers, body.as_bytes()).await;
    assert_eq!((status, answer.as_str()), (200, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"));

    let linkedin = source(
        &app,
        &token,
        json!({"name": "LinkedIn", "provider": "linkedin", "config": {"clientSecret": "li-client-secret-0001"}}),
    )
    .await;
    let url = format!("{}?challengeCode=890e4665-4dfe-4ab1-b689-ed553bceeed3", linkedin["ingestUrl"].as_str().unwrap());
    let (status, content_type, answer) = ingest(&app, &url, Method::GET, &[], b"").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("application/json"));
    let expected = hmac_hex(b"li-client-secret-0001", b"890e4665-4dfe-4ab1-b689-ed553bceeed3");
    assert_eq!(
        json_of(&answer),
        json!({"challengeCode": "890e4665-4dfe-4ab1-b689-ed553bceeed3", "challengeResponse": expected})
    );
    let (_, events) = app.get("/api/v1/events", &token).await;
    assert_eq!(events["data"], json!([]), "handshakes publish nothing");
}

/// A provider's headers for a request to the given URL with the given body.
type Sign = Box<dyn Fn(&str, &[u8]) -> Vec<(&'static str, String)>>;

/// One provider's signed request, as the provider would send it.
struct Signed {
    provider: &'static str,
    config: Value,
    event_type: Option<&'static str>,
    /// a query string to add to the ingest URL (Twilio signs the URL)
    query: &'static str,
    content_type: &'static str,
    body: String,
    /// the provider's headers, given the URL the request goes to
    headers: Sign,
    /// the header that carries the signature, forwarded to subscribers as it came
    signature_header: &'static str,
    expected_type: &'static str,
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

macro_rules! hmac_bytes {
    ($digest:ty, $key:expr, $msg:expr) => {{
        let mut mac = Hmac::<$digest>::new_from_slice($key).unwrap();
        mac.update($msg);
        mac.finalize().into_bytes().to_vec()
    }};
}

fn the_other_providers() -> Vec<Signed> {
    let now = chrono::Utc::now().timestamp().to_string();
    let std_key = [7u8; 32];
    let std_secret = format!("whsec_{}", b64(&std_key));
    vec![
        Signed {
            provider: "viber",
            config: json!({"authToken": "viber-auth-token-0001"}),
            event_type: None,
            query: "",
            content_type: "application/json",
            body: r#"{"event":"message","timestamp":1457764197627,"message_token":4912661846655238145,"message":{"type":"text","text":"héllo 👋"}}"#.into(),
            headers: Box::new(|_, body| vec![("x-viber-content-signature", hmac_hex(b"viber-auth-token-0001", body))]),
            signature_header: "x-viber-content-signature",
            expected_type: "viber.message",
        },
        Signed {
            provider: "shopify",
            config: json!({"secret": "shopify-secret-0001"}),
            event_type: None,
            query: "",
            content_type: "application/json",
            body: r#"{"id":820982911946154508,"email":"jon@example.com"}"#.into(),
            headers: Box::new(|_, body| {
                vec![
                    ("x-shopify-hmac-sha256", b64(&hmac_bytes!(Sha256, b"shopify-secret-0001", body))),
                    ("x-shopify-topic", "orders/create".into()),
                    ("x-shopify-webhook-id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043".into()),
                ]
            }),
            signature_header: "x-shopify-hmac-sha256",
            expected_type: "shopify.orders.create",
        },
        Signed {
            provider: "twilio",
            config: json!({"authToken": "twilio-auth-token-01"}),
            event_type: None,
            query: "account=a1",
            content_type: "application/x-www-form-urlencoded",
            body: "MessageSid=SM123&From=%2B15551234567&Body=h%C3%A9llo+%F0%9F%91%8B".into(),
            headers: Box::new(|url, _| {
                // the URL, then each parameter's name and value (decoded), sorted by name
                let params = [("Body", "héllo 👋"), ("From", "+15551234567"), ("MessageSid", "SM123")];
                let mut data = url.to_owned();
                for (k, v) in params {
                    data.push_str(k);
                    data.push_str(v);
                }
                vec![("x-twilio-signature", b64(&hmac_bytes!(sha1::Sha1, b"twilio-auth-token-01", data.as_bytes())))]
            }),
            signature_header: "x-twilio-signature",
            expected_type: "twilio.message",
        },
        Signed {
            provider: "standard-webhooks",
            config: json!({"secret": std_secret}),
            event_type: None,
            query: "",
            content_type: "application/json",
            body: r#"{"type":"invoice.paid","data":{"amount":1}}"#.into(),
            headers: Box::new(move |_, body| {
                let (id, ts) = ("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", now.clone());
                let mut signed = format!("{id}.{ts}.").into_bytes();
                signed.extend_from_slice(body);
                let sig = format!("v1,{}", b64(&hmac_bytes!(Sha256, &std_key, &signed)));
                vec![("webhook-id", id.to_owned()), ("webhook-timestamp", ts), ("webhook-signature", sig)]
            }),
            // hookrelay's own `webhook-signature` replaces the sender's
            signature_header: "",
            expected_type: "invoice.paid",
        },
        Signed {
            provider: "hmac",
            config: json!({"secret": "generic-secret-0001", "header": "X-Signature", "algorithm": "sha512", "encoding": "hex", "prefix": "sha512="}),
            event_type: Some("crm.contact.updated"),
            query: "",
            content_type: "application/json",
            body: r#"{"contact":41}"#.into(),
            headers: Box::new(|_, body| {
                vec![("x-signature", format!("sha512={}", hex::encode(hmac_bytes!(sha2::Sha512, b"generic-secret-0001", body))))]
            }),
            signature_header: "x-signature",
            expected_type: "crm.contact.updated",
        },
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_other_provider_is_verified_on_the_exact_bytes_and_delivered_as_it_arrived() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    app.webhook(&token, json!({"name": "all", "url": receiver.url, "events": ["*"], "rateLimitPerMinute": null})).await;
    for (n, p) in the_other_providers().into_iter().enumerate() {
        let mut create = json!({"name": p.provider, "provider": p.provider, "config": p.config});
        if let Some(t) = p.event_type {
            create["eventType"] = json!(t);
        }
        let s = source(&app, &token, create).await;
        let url = match p.query {
            "" => s["ingestUrl"].as_str().unwrap().to_owned(),
            q => format!("{}?{q}", s["ingestUrl"].as_str().unwrap()),
        };
        let mut headers = (p.headers)(&url, p.body.as_bytes());
        headers.push(("content-type", p.content_type.to_owned()));
        let (status, _, answer) = ingest(&app, &url, Method::POST, &headers, p.body.as_bytes()).await;
        assert_eq!((status, json_of(&answer)["status"].as_str()), (200, Some("accepted")), "{}: {answer}", p.provider);
        let got = receiver.wait_for(n + 1, Duration::from_secs(10)).await[n].clone();
        assert_eq!(got.body, p.body.as_bytes(), "{}: the exact bytes", p.provider);
        assert_eq!(got.header("content-type"), p.content_type, "{}", p.provider);
        assert_eq!(got.header("x-webhook-event"), p.expected_type, "{}", p.provider);
        assert_eq!(got.header("x-webhook-source"), s["id"].as_str().unwrap(), "{}", p.provider);
        if !p.signature_header.is_empty() {
            let sent = &headers.iter().find(|(h, _)| *h == p.signature_header).unwrap().1;
            assert_eq!(got.header(p.signature_header), sent.as_str(), "{}: the provider's signature", p.provider);
        }
        // one byte changed: 401 naming the check
        let tampered = p.body.replacen('1', "2", 1);
        let (status, _, problem) = ingest(&app, &url, Method::POST, &headers, tampered.as_bytes()).await;
        assert_eq!((status, json_of(&problem)["detail"].as_str()), (401, Some("signature_mismatch")), "{}", p.provider);
    }
}
