//! Relay webhooks and `hookrelay listen` (SPEC "Local relay"), with the real binary as the
//! CLI, a real server and real receivers: `kind` and its rules, the listener forwarding
//! byte for byte with both signatures passing, the backlog of an offline listener drained
//! oldest first, retries on the webhook's schedule, a killed listener's leases expiring
//! and its deliveries handed out again, Ctrl-C handing leases back, and who may listen.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::delivery::{standard_signatures, x_signature_ok};
use crate::helpers::{Receiver, Reply, TestApp};

/// A `hookrelay listen` child; killed when dropped. Its stdout lines are collected.
struct Listening {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Listening {
    fn start(app: &TestApp, token: &str, forward_to: &str, extra: &[&str]) -> Listening {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hookrelay"))
            .arg("listen")
            .args(["--forward-to", forward_to])
            .args(extra)
            .env("HOOKRELAY_API_URL", &app.base)
            .env("HOOKRELAY_API_KEY", token)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawning hookrelay listen");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("stdout");
        let kept = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        Listening { child, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits for a line containing `text`.
    async fn wait_line(&self, text: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(line) = self.lines().into_iter().find(|l| l.contains(text)) {
                return line;
            }
            assert!(Instant::now() < deadline, "no line with {text:?} in {within:?}: {:?}", self.lines());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The secret of the relay webhook `listen` uses, printed by `--print-secret`.
fn printed_secret(app: &TestApp, token: &str, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hookrelay"))
        .args(["listen", "--forward-to", "http://127.0.0.1:9/none", "--print-secret"])
        .args(extra)
        .env("HOOKRELAY_API_URL", &app.base)
        .env("HOOKRELAY_API_KEY", token)
        .env_remove("DATABASE_URL")
        .output()
        .expect("running hookrelay listen --print-secret");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(secret.starts_with("whsec_") && !secret.contains('\n'), "the secret alone: {secret:?}");
    secret
}

/// The first `n` requests `receiver` answered, once it has answered them.
async fn answered(receiver: &Receiver, n: usize) -> Vec<crate::helpers::Received> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while receiver.received().len() < n {
        assert!(Instant::now() < deadline, "{} of {n} answered", receiver.received().len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    receiver.received()
}

/// The machine's relay webhook that `listen` made.
async fn own_relay(app: &TestApp, token: &str) -> Value {
    let (_, page) = app.get("/api/v1/webhooks?limit=100", token).await;
    page["data"].as_array().unwrap().iter().find(|w| w["kind"] == "relay").cloned().expect("a relay webhook")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_webhook_has_no_url_its_kind_cannot_change_and_only_full_credentials_listen() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let (status, problem) = app
        .post(
            "/api/v1/webhooks",
            &token,
            json!({"name": "r", "kind": "relay", "url": "https://example.com/h", "events": ["*"]}),
        )
        .await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("url")), "{problem}");
    let (status, problem) = app.post("/api/v1/webhooks", &token, json!({"name": "h", "events": ["*"]})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("url")), "{problem}");
    let (status, problem) =
        app.post("/api/v1/webhooks", &token, json!({"name": "x", "kind": "ftp", "events": ["*"]})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("kind")), "{problem}");
    let (status, relay) =
        app.post("/api/v1/webhooks", &token, json!({"name": "r", "kind": "relay", "events": ["*"]})).await;
    assert_eq!(status, 201, "{relay}");
    assert_eq!((&relay["kind"], &relay["url"]), (&json!("relay"), &Value::Null));
    assert!(relay["secret"].as_str().unwrap().starts_with("whsec_"));
    let id = relay["id"].as_str().unwrap();
    let (status, problem) = app.patch(&format!("/api/v1/webhooks/{id}"), &token, json!({"kind": "http"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("kind")), "{problem}");
    let (status, problem) =
        app.patch(&format!("/api/v1/webhooks/{id}"), &token, json!({"url": "https://example.com/h"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("url")), "{problem}");
    let (status, same) =
        app.patch(&format!("/api/v1/webhooks/{id}"), &token, json!({"kind": "relay", "name": "r2"})).await;
    assert_eq!((status, same["name"].as_str()), (200, Some("r2")), "{same}");

    let http = app.webhook(&token, json!({"name": "h", "url": "https://example.com/h", "events": ["*"]})).await;
    assert_eq!((&http["kind"], &http["url"]), (&json!("http"), &json!("https://example.com/h")));
    let take = json!({"listenerId": uuid::Uuid::now_v7(), "host": "laptop", "wait": 0});
    let (status, _) =
        app.post(&format!("/api/v1/relay/webhooks/{}/take", http["id"].as_str().unwrap()), &token, take.clone()).await;
    assert_eq!(status, 409, "an http webhook has no listeners");
    let (other, _) = app.tenant("Other").await;
    assert_eq!(app.post(&format!("/api/v1/relay/webhooks/{id}/take"), &other, take.clone()).await.0, 404);
    let (_, key) = app.post("/api/v1/api-keys", &token, json!({"name": "pub", "scope": "publish"})).await;
    let key = key["key"].as_str().unwrap();
    assert_eq!(app.post(&format!("/api/v1/relay/webhooks/{id}/take"), key, take.clone()).await.0, 403);
    let (status, taken) = app.post(&format!("/api/v1/relay/webhooks/{id}/take"), &token, take).await;
    assert_eq!((status, taken["data"].as_array().map(Vec::len)), (200, Some(0)), "{taken}");
    let (_, relay_status) = app.get(&format!("/api/v1/relay/webhooks/{id}"), &token).await;
    assert_eq!(relay_status["connected"], true, "{relay_status}");
    assert_eq!(relay_status["listeners"][0]["host"], "laptop");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_listener_forwards_each_delivery_as_sent_and_an_offline_backlog_drains_oldest_first() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let local = Receiver::ok().await;
    let secret = printed_secret(&app, &token, &["--events", "order.*"]);
    let relay = own_relay(&app, &token).await;
    assert_eq!(relay["events"], json!(["order.*"]));
    assert!(relay["name"].as_str().unwrap().starts_with("hookrelay listen on "));

    // published while nobody listens: they wait, neither attempted nor failed
    let mut ids = Vec::new();
    for n in 0..5 {
        let e = app
            .publish(&token, "order.created", json!({"n": n, "text": "héllo 👋", "big": 12345678901234567890u64}))
            .await;
        ids.push(e["id"].as_str().unwrap().to_owned());
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for id in &ids {
        let d = &app.deliveries_of(&token, id).await[0];
        assert_eq!((d["status"].as_str(), d["attemptCount"].as_i64()), (Some("pending"), Some(0)), "{d}");
    }
    assert!(local.received().is_empty());

    let listening = Listening::start(&app, &token, &local.url, &["--events", "order.*"]);
    listening.wait_line("Listening to relay webhook", Duration::from_secs(10)).await;
    let printed = listening.wait_line("signing secret", Duration::from_secs(5)).await;
    assert!(printed.ends_with(&secret), "the same webhook and secret on the next run: {printed}");
    local.wait_arrivals(5, Duration::from_secs(15)).await;
    let received = answered(&local, 5).await;
    let order: Vec<i64> = received
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["data"]["n"].as_i64().unwrap())
        .collect();
    assert_eq!(order, vec![0, 1, 2, 3, 4], "the backlog drains oldest first");
    for r in &received {
        assert!(x_signature_ok(r, &secret, "x-webhook-signature"), "X-Webhook-Signature verifies");
        assert!(standard_signatures(r, &secret).0, "the Standard Webhooks signature verifies");
        let age = chrono::Utc::now().timestamp() - r.header("webhook-timestamp").parse::<i64>().unwrap();
        assert!((0..60).contains(&age), "signed at hand-over");
        assert_eq!(r.header("x-webhook-event"), "order.created");
        assert!(String::from_utf8_lossy(&r.body).contains("12345678901234567890"), "the exact bytes");
    }
    // a delivery published while it listens arrives at once, and each is one attempt
    let started = Instant::now();
    let live = app.publish(&token, "order.paid", json!({"n": 5})).await;
    local.wait_arrivals(6, Duration::from_secs(5)).await;
    assert!(started.elapsed() < Duration::from_secs(3), "woken, not polled: {:?}", started.elapsed());
    let d = app
        .wait_delivery(
            &token,
            app.deliveries_of(&token, live["id"].as_str().unwrap()).await[0]["id"].as_str().unwrap(),
            Duration::from_secs(5),
            |d| d["status"] == "succeeded",
        )
        .await;
    let (_, logs) = app.get(&format!("/api/v1/webhooks/{}/logs", relay["id"].as_str().unwrap()), &token).await;
    let log = logs["data"].as_array().unwrap().iter().find(|l| l["deliveryId"] == d["id"]).cloned().unwrap();
    assert_eq!((log["requestUrl"].as_str(), log["responseStatus"].as_i64()), (Some(local.url.as_str()), Some(200)));
    listening.wait_line(&format!("order.paid {} -> 200", d["id"].as_str().unwrap()), Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_local_handler_is_retried_on_the_webhooks_schedule() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    // the first answer fails, the second succeeds
    let local = Receiver::start(|n| Reply::status(if n == 0 { 500 } else { 200 })).await;
    let (_, relay) = app
        .post("/api/v1/webhooks", &token, json!({"name": "r", "kind": "relay", "events": ["*"], "retrySchedule": [1]}))
        .await;
    let id = relay["id"].as_str().unwrap();
    let _listening = Listening::start(&app, &token, &local.url, &["--webhook", id]);
    let e = app.publish(&token, "order.created", json!({})).await;
    let delivery = app.deliveries_of(&token, e["id"].as_str().unwrap()).await[0]["id"].as_str().unwrap().to_owned();
    let d = app.wait_delivery(&token, &delivery, Duration::from_secs(15), |d| d["status"] == "succeeded").await;
    assert_eq!(d["attemptCount"], 2, "{d}");
    let arrivals = local.wait_arrivals(2, Duration::from_secs(1)).await;
    let gap = arrivals[1].at - arrivals[0].at;
    assert!(gap >= Duration::from_millis(900) && gap < Duration::from_secs(4), "retried after 1 s: {gap:?}");
    let (_, logs) = app.get(&format!("/api/v1/webhooks/{id}/logs?status=failed"), &token).await;
    assert_eq!(logs["data"][0]["errorKind"], "http_status", "{logs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_listeners_deliveries_come_again_and_ctrl_c_hands_leases_back() {
    let app = TestApp::spawn_with(&["--attempt-timeout", "1s", "--lease", "4s"]).await;
    let (token, _) = app.tenant("Acme").await;
    // the local handler hangs: what the listener took stays leased to it
    let hanging = Receiver::start(|_| Reply::delayed(200, Duration::from_secs(60))).await;
    let (_, relay) = app.post("/api/v1/webhooks", &token, json!({"name": "r", "kind": "relay", "events": ["*"]})).await;
    let id = relay["id"].as_str().unwrap();
    let e = app.publish(&token, "order.created", json!({"n": 1})).await;
    let delivery = app.deliveries_of(&token, e["id"].as_str().unwrap()).await[0]["id"].as_str().unwrap().to_owned();

    let killed = Listening::start(&app, &token, &hanging.url, &["--webhook", id]);
    hanging.wait_arrivals(1, Duration::from_secs(10)).await;
    killed.signal("-KILL");
    let killed_at = Instant::now();
    let local = Receiver::ok().await;
    let second = Listening::start(&app, &token, &local.url, &["--webhook", id]);
    local.wait_arrivals(1, Duration::from_secs(15)).await;
    assert!(killed_at.elapsed() >= Duration::from_secs(2), "handed out again only once its lease expired");
    app.wait_delivery(&token, &delivery, Duration::from_secs(5), |d| d["status"] == "succeeded").await;
    drop(second);

    // Ctrl-C while a forward hangs: the lease is handed back, not left to expire
    let e = app.publish(&token, "order.created", json!({"n": 2})).await;
    let delivery = app.deliveries_of(&token, e["id"].as_str().unwrap()).await[0]["id"].as_str().unwrap().to_owned();
    let interrupted = Listening::start(&app, &token, &hanging.url, &["--webhook", id]);
    hanging.wait_arrivals(2, Duration::from_secs(10)).await;
    let listeners = |status: Value| status["listeners"].as_array().unwrap().len();
    // (the killed listeners count as connected until 60 s without a poll)
    let before = listeners(app.get(&format!("/api/v1/relay/webhooks/{id}"), &token).await.1);
    interrupted.signal("-INT");
    interrupted.wait_line("handed back 1", Duration::from_secs(5)).await;
    interrupted.wait_line("stopped", Duration::from_secs(5)).await;
    let after = listeners(app.get(&format!("/api/v1/relay/webhooks/{id}"), &token).await.1);
    assert_eq!(after, before - 1, "it said goodbye");
    let handed_back = Instant::now();
    let local = Receiver::ok().await;
    let _third = Listening::start(&app, &token, &local.url, &["--webhook", id]);
    local.wait_arrivals(1, Duration::from_secs(10)).await;
    assert!(
        handed_back.elapsed() < Duration::from_secs(3),
        "taken at once, not after the lease: {:?}",
        handed_back.elapsed()
    );
    app.wait_delivery(&token, &delivery, Duration::from_secs(5), |d| d["status"] == "succeeded").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deliveries_no_listener_takes_within_the_hold_fail_as_relay_offline() {
    let app = TestApp::spawn_with(&["--relay-hold", "2s"]).await;
    let (token, _) = app.tenant("Acme").await;
    let (_, relay) = app.post("/api/v1/webhooks", &token, json!({"name": "r", "kind": "relay", "events": ["*"]})).await;
    let id = relay["id"].as_str().unwrap();
    let e = app.publish(&token, "order.created", json!({})).await;
    let delivery = app.deliveries_of(&token, e["id"].as_str().unwrap()).await[0]["id"].as_str().unwrap().to_owned();
    let d = app.wait_delivery(&token, &delivery, Duration::from_secs(10), |d| d["status"] != "pending").await;
    assert_eq!((d["status"].as_str(), d["attemptCount"].as_i64()), (Some("failed"), Some(1)), "{d}");
    let (_, logs) = app.get(&format!("/api/v1/webhooks/{id}/logs"), &token).await;
    assert_eq!(logs["data"][0]["errorKind"], "relay_offline", "{logs}");
    assert!(logs["data"][0]["errorMessage"].as_str().unwrap().contains("HOOKRELAY_RELAY_HOLD"));
    let (_, stats) = app.get(&format!("/api/v1/webhooks/{id}/stats"), &token).await;
    assert_eq!(stats["errorsByKind"]["relay_offline"], 1, "{stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_meta_sources_request_reaches_the_laptop_with_metas_signature_intact() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let (status, source) = app
        .post(
            "/api/v1/sources",
            &token,
            json!({"name": "WhatsApp", "provider": "meta", "config": {"appSecret": "app-secret-relay-0123", "verifyToken": "vt"}}),
        )
        .await;
    assert_eq!(status, 201, "{source}");
    let local = Receiver::ok().await;
    let secret = printed_secret(&app, &token, &["--events", "meta.*"]);
    let _listening = Listening::start(&app, &token, &local.url, &["--events", "meta.*"]);
    let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"text":"héllo 👋"}}]}]}"#;
    let signature = format!("sha256={}", crate::sources::hmac_hex(b"app-secret-relay-0123", body.as_bytes()));
    let res = app
        .http
        .post(source["ingestUrl"].as_str().unwrap())
        .header("content-type", "application/json")
        .header("x-hub-signature-256", &signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    local.wait_arrivals(1, Duration::from_secs(10)).await;
    let r = &answered(&local, 1).await[0];
    assert_eq!(r.body, body.as_bytes(), "the raw body");
    assert_eq!(r.header("x-hub-signature-256"), signature, "Meta's header, which verifies with the app secret");
    assert_eq!(
        r.header("x-hub-signature-256"),
        format!("sha256={}", crate::sources::hmac_hex(b"app-secret-relay-0123", &r.body))
    );
    assert!(x_signature_ok(r, &secret, "x-webhook-signature"), "and hookrelay's own");
    assert_eq!(r.header("x-webhook-event"), "meta.whatsapp_business_account.messages");
}

/// An HTTP server that is down until `start`: answers 200 to each request, counting them.
struct LateServer {
    port: u16,
    count: Arc<std::sync::atomic::AtomicUsize>,
}

impl LateServer {
    fn reserve() -> LateServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        LateServer { port, count: Arc::default() }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    async fn start(&self) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        let count = self.count.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let count = count.clone();
                tokio::spawn(async move {
                    let mut read = Vec::new();
                    let mut buf = [0u8; 4096];
                    // the head, then as many body bytes as it announces
                    loop {
                        let Ok(n) = socket.read(&mut buf).await else { return };
                        if n == 0 {
                            return;
                        }
                        read.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&read).to_lowercase();
                        if let Some(end) = text.find("\r\n\r\n") {
                            let length = text
                                .lines()
                                .find_map(|l| {
                                    l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))
                                })
                                .unwrap_or(0);
                            if read.len() >= end + 4 + length {
                                break;
                            }
                        }
                    }
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let _ =
                        socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                });
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_server_that_is_down_fails_with_connect_and_gets_the_delivery_once_it_is_up() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let (_, relay) = app
        .post(
            "/api/v1/webhooks",
            &token,
            json!({"name": "r", "kind": "relay", "events": ["*"], "retrySchedule": [1, 1, 1, 1, 1]}),
        )
        .await;
    let id = relay["id"].as_str().unwrap();
    let server = LateServer::reserve();
    let _listening = Listening::start(&app, &token, &server.url(), &["--webhook", id]);
    let e = app.publish(&token, "order.created", json!({})).await;
    let delivery = app.deliveries_of(&token, e["id"].as_str().unwrap()).await[0]["id"].as_str().unwrap().to_owned();
    app.wait_delivery(&token, &delivery, Duration::from_secs(10), |d| d["attemptCount"].as_i64() >= Some(2)).await;
    let (_, logs) = app.get(&format!("/api/v1/webhooks/{id}/logs?status=failed"), &token).await;
    assert_eq!(logs["data"][0]["errorKind"], "connect", "{logs}");
    server.start().await;
    let d = app.wait_delivery(&token, &delivery, Duration::from_secs(10), |d| d["status"] == "succeeded").await;
    assert_eq!(server.count.load(std::sync::atomic::Ordering::SeqCst), 1, "{d}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_listeners_share_a_relay_webhook_and_a_second_api_process_wakes_them() {
    let app = TestApp::spawn().await;
    let other = TestApp::spawn_on(app.db.clone(), &[]).await;
    let (token, _) = app.tenant("Acme").await;
    let (_, relay) = app.post("/api/v1/webhooks", &token, json!({"name": "r", "kind": "relay", "events": ["*"]})).await;
    let id = relay["id"].as_str().unwrap();
    let local = Receiver::ok().await;
    let first = Listening::start(&app, &token, &local.url, &["--webhook", id]);
    let second = Listening::start(&app, &token, &local.url, &["--webhook", id]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get(&format!("/api/v1/relay/webhooks/{id}"), &token).await.1["listeners"].as_array().unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "both listeners connected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // published through the other API process: the listeners wait on the first
    let started = Instant::now();
    for n in 0..30 {
        other.publish(&token, "order.created", json!({"n": n})).await;
    }
    local.wait_arrivals(30, Duration::from_secs(10)).await;
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "woken, not left to the end of a poll: {:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ids: std::collections::HashSet<String> =
        local.received().iter().map(|r| r.header("x-webhook-id").to_owned()).collect();
    assert_eq!((local.received().len(), ids.len()), (30, 30), "each delivery went to one listener, once");
    let forwarded = |l: &Listening| l.lines().iter().filter(|line| line.contains(" -> 200")).count();
    assert_eq!(forwarded(&first) + forwarded(&second), 30);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_webhooks_rate_limit_holds_its_listener_back() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let (_, relay) = app
        .post(
            "/api/v1/webhooks",
            &token,
            json!({"name": "r", "kind": "relay", "events": ["*"], "rateLimitPerMinute": 2}),
        )
        .await;
    let id = relay["id"].as_str().unwrap();
    for n in 0..4 {
        app.publish(&token, "order.created", json!({"n": n})).await;
    }
    let local = Receiver::ok().await;
    let _listening = Listening::start(&app, &token, &local.url, &["--webhook", id]);
    local.wait_arrivals(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(local.arrivals().len(), 2, "two a minute: the others wait, neither attempted nor failed");
    let (_, pending) = app.get("/api/v1/deliveries?status=pending", &token).await;
    assert_eq!(pending["data"].as_array().unwrap().len(), 2, "{pending}");
}
