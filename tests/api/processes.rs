//! The real binary as child processes: kill -9 mid-flight, several dispatchers, SIGTERM.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::helpers::{Receiver, Reply, TestApp, TestDb};

/// A child process that is killed when the test lets go of it, so that a test that fails
/// midway leaves no `hookrelay serve` running against its dropped database.
struct Spawned(Child);

impl std::ops::Deref for Spawned {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Spawned {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // a child that has exited already makes these no-ops
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `hookrelay serve --role dispatcher` on the test database.
fn dispatcher(db: &TestDb, lease: &str) -> Spawned {
    let child = Command::new(env!("CARGO_BIN_EXE_hookrelay"))
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("HOOKRELAY_ROLE", "dispatcher")
        .env("HOOKRELAY_BIND", "127.0.0.1:0")
        .env("HOOKRELAY_ALLOW_PRIVATE_TARGETS", "true")
        .env("HOOKRELAY_ATTEMPT_TIMEOUT", "2s")
        .env("HOOKRELAY_LEASE", lease)
        .env("HOOKRELAY_POLL_INTERVAL", "200ms")
        .env("HOOKRELAY_POOL_SIZE", "4")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning the hookrelay binary");
    Spawned(child)
}

fn unique_ids(receiver: &Receiver) -> HashSet<String> {
    receiver.received().iter().map(|r| r.header("x-webhook-id").to_owned()).collect()
}

async fn wait_unique(receiver: &Receiver, n: usize, within: Duration) {
    let deadline = std::time::Instant::now() + within;
    while unique_ids(receiver).len() < n {
        assert!(std::time::Instant::now() < deadline, "only {} of {n} events delivered", unique_ids(receiver).len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_is_lost_when_a_dispatcher_is_killed_mid_flight() {
    let api = TestApp::spawn_with(&["--role", "api"]).await;
    let (token, _) = api.tenant("Acme").await;
    let receiver =
        Receiver::start(|_| Reply { status: 200, delay: Duration::from_millis(40), retry_after: None }).await;
    api.webhook(
        &token,
        json!({"name": "slow", "url": receiver.url, "events": ["*"], "maxConcurrency": 20, "rateLimitPerMinute": null}),
    )
    .await;
    let total = 300;
    for i in 0..total {
        api.publish(&token, "load.item", json!({"i": i})).await;
    }
    let mut first = dispatcher(&api.db, "3s");
    receiver.wait_for(40, Duration::from_secs(30)).await;
    first.kill().expect("kill -9");
    first.wait().expect("reaping");
    let before = unique_ids(&receiver).len();
    assert!(before < total, "killed mid-flight ({before} of {total} delivered)");

    let mut second = dispatcher(&api.db, "3s");
    wait_unique(&receiver, total, Duration::from_secs(60)).await;
    // the receiver answered; the outcomes are recorded a moment later
    let db = api.db.client().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let row = db
            .query_one("SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) FROM deliveries", &[])
            .await
            .unwrap();
        let (succeeded, all): (i64, i64) = (row.get(0), row.get(1));
        assert_eq!(all, total as i64);
        if succeeded == all {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "only {succeeded} of {all} deliveries recorded as succeeded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().ok();
    second.wait().ok();
    let duplicates = receiver.received().len() - total;
    eprintln!("kill -9 test: {before} delivered before the kill, {duplicates} duplicates after restart");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_dispatcher_processes_share_the_work() {
    let api = TestApp::spawn_with(&["--role", "api"]).await;
    let (token, _) = api.tenant("Acme").await;
    let receiver =
        Receiver::start(|_| Reply { status: 200, delay: Duration::from_millis(10), retry_after: None }).await;
    api.webhook(
        &token,
        json!({"name": "a", "url": receiver.url, "events": ["*"], "maxConcurrency": 4, "rateLimitPerMinute": null}),
    )
    .await;
    let mut a = dispatcher(&api.db, "10s");
    let mut b = dispatcher(&api.db, "10s");
    let total = 200;
    for i in 0..total {
        api.publish(&token, "load.item", json!({"i": i})).await;
    }
    wait_unique(&receiver, total, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.max_in_flight() <= 4, "maxConcurrency holds across processes: {}", receiver.max_in_flight());
    assert_eq!(receiver.received().len(), total, "no lease expired, so no duplicates");
    for child in [&mut a, &mut b] {
        child.kill().ok();
        child.wait().ok();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_in_flight_attempts_finish() {
    let api = TestApp::spawn_with(&["--role", "api"]).await;
    let (token, _) = api.tenant("Acme").await;
    let receiver =
        Receiver::start(|_| Reply { status: 200, delay: Duration::from_millis(1500), retry_after: None }).await;
    api.webhook(&token, json!({"name": "a", "url": receiver.url, "events": ["*"]})).await;
    let e = api.publish(&token, "a.b", json!({})).await;
    let mut child = dispatcher(&api.db, "30s");
    // wait until the attempt is in flight, then ask the process to stop
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while receiver.max_in_flight() == 0 {
        assert!(std::time::Instant::now() < deadline, "the attempt never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "clean exit: {exit:?}");
    let d = &api.deliveries_of(&token, e["id"].as_str().unwrap()).await[0];
    assert_eq!(d["status"], "succeeded", "the in-flight attempt finished and was recorded");
}

/// A smoke run of the benchmark tool (a few hundred events), so that it keeps working.
/// Speed is not asserted here: only that every event arrived, once, correctly signed.
#[tokio::test(flavor = "multi_thread")]
async fn the_benchmark_runs_end_to_end() {
    let out = std::env::temp_dir().join(format!("hookrelay-bench-smoke-{}.json", uuid::Uuid::new_v4().simple()));
    let server = crate::helpers::database_url("postgres");
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookrelay-bench"))
        .args(["throughput", "fanout", "scale", "--scale", "0.004"])
        .arg("--hookrelay")
        .arg(env!("CARGO_BIN_EXE_hookrelay"))
        .arg("--database-url")
        .arg(&server)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("running hookrelay-bench");
    let stderr = String::from_utf8_lossy(&run.stderr);
    let tail: String =
        stderr.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
    assert!(run.status.success(), "hookrelay-bench failed: {:?}; its last words:\n{tail}", run.status);
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let _ = std::fs::remove_file(&out);
    let rows = results["results"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for row in rows {
        assert_eq!(row["delivered"], row["expected_deliveries"], "{row}");
        assert_eq!(row["bad_signatures"], 0, "{row}");
        assert_eq!(row["duplicates"], 0, "{row}");
    }
}

/// With `RUST_LOG=debug` (even naming the driver), the database driver would log every
/// statement's bound values, a webhook's signing secret among them. No secret may reach
/// the log.
#[tokio::test(flavor = "multi_thread")]
async fn a_debug_log_never_holds_a_signing_secret() {
    let db = std::sync::Arc::new(TestDb::create().await);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log_path = std::env::temp_dir().join(format!("hookrelay-debug-{}.log", uuid::Uuid::new_v4().simple()));
    let mut child = Spawned(
        Command::new(env!("CARGO_BIN_EXE_hookrelay"))
            .arg("serve")
            .env("DATABASE_URL", db.url())
            .env("HOOKRELAY_BIND", format!("127.0.0.1:{port}"))
            .env("HOOKRELAY_ALLOW_PRIVATE_TARGETS", "true")
            .env("RUST_LOG", "debug,tokio_postgres=trace,tokio_postgres::query=trace")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .expect("spawning the hookrelay binary"),
    );
    let app = TestApp { base: format!("http://127.0.0.1:{port}"), http: reqwest::Client::new(), service: None, db };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while app.http.get(format!("{}/ready", app.base)).send().await.map(|r| r.status().as_u16()).ok() != Some(200) {
        assert!(std::time::Instant::now() < deadline, "hookrelay did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    let secret = "plain-secret-that-must-stay-out-of-logs";
    let rotated = "rotated-secret-that-must-stay-out-of-logs";
    let webhook =
        app.webhook(&token, json!({"name": "h", "url": receiver.url, "events": ["a.*"], "secret": secret})).await;
    app.publish(&token, "a.x", json!({})).await;
    receiver.wait_for(1, Duration::from_secs(20)).await;
    let path = format!("/api/v1/webhooks/{}/rotate-secret", webhook["id"].as_str().unwrap());
    assert_eq!(app.post(&path, &token, json!({"secret": rotated})).await.0, 200);
    app.publish(&token, "a.x", json!({})).await;
    receiver.wait_for(2, Duration::from_secs(20)).await;
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(log.contains("DEBUG"), "the process did log at debug level");
    for s in [secret, rotated] {
        // as text, and as the driver renders a bound parameter: its bytes in decimal
        let bytes = s.bytes().map(|b| b.to_string()).collect::<Vec<_>>().join(", ");
        assert!(!log.contains(s) && !log.contains(&bytes), "the log holds a signing secret: {s}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recovery_killed_midway_goes_on_after_restart_and_requeues_each_delivery_once() {
    let api = TestApp::spawn_with(&["--role", "api"]).await;
    let (token, _) = api.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    // one attempt a minute: the recovered deliveries wait their turn, as the limits say
    let hook = api
        .webhook(&token, json!({"name": "bulk", "url": receiver.url, "events": ["bulk.*"], "rateLimitPerMinute": 1}))
        .await;
    let id = hook["id"].as_str().unwrap();
    let since = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    let event = api.publish(&token, "bulk.thing", json!({})).await;
    let total: i64 = 60_000;
    let db = api.db.client().await;
    db.execute(
        "INSERT INTO deliveries (id, tenant_id, event_id, webhook_id, event_type, status, attempt_count, series_attempts, \
           created_at, updated_at) \
         SELECT hookrelay_uuid_v7(), w.tenant_id, $2::text::uuid, w.id, 'bulk.thing', 'failed', 4, 4, now(), now() \
         FROM webhooks w, generate_series(1, $3::bigint) WHERE w.id = $1::text::uuid",
        &[&id, &event["id"].as_str().unwrap(), &total],
    )
    .await
    .unwrap();
    let (status, recovery) =
        api.post(&format!("/api/v1/webhooks/{id}/recover"), &token, json!({"since": since.to_rfc3339()})).await;
    assert_eq!(status, 202, "{recovery}");
    let rid = recovery["id"].as_str().unwrap().to_owned();
    let progress = format!("SELECT deliveries::bigint FROM recoveries WHERE id = '{rid}'");

    let mut first = dispatcher(&api.db, "10s");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let before: i64 = loop {
        let n: i64 = db.query_one(&progress, &[]).await.unwrap().get(0);
        if n > 0 {
            break n;
        }
        assert!(std::time::Instant::now() < deadline, "the recovery never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    first.kill().expect("kill -9");
    first.wait().expect("reaping");
    let at_kill: i64 = db.query_one(&progress, &[]).await.unwrap().get(0);
    assert!(at_kill < total, "killed midway ({at_kill} of {total} re-queued)");

    let mut second = dispatcher(&api.db, "10s");
    let done = format!("SELECT count(*) FROM recoveries WHERE id = '{rid}' AND status = 'done'");
    crate::helpers::wait_count(&db, &done, 1, Duration::from_secs(120)).await;
    second.kill().ok();
    second.wait().ok();
    let (status, r) = api.get(&format!("/api/v1/webhooks/{id}/recoveries/{rid}"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(r["deliveries"], total, "each failed delivery counted once: {r}");
    let row = db
        .query_one(
            "SELECT count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE series_attempts = 0 AND attempt_count = 4), \
               count(*) FROM deliveries WHERE webhook_id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap();
    let (failed, requeued, all): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(failed, 0, "none left behind");
    assert!(requeued >= total - 2, "a new series for each ({requeued}); at most a couple attempted since");
    assert_eq!(all, total + 1);
    eprintln!("recovery kill -9 test: {before} re-queued when seen, {at_kill} at the kill, of {total}");
}

/// Wake-ups sent on the dispatchers' channel, as a LISTEN connection of the test's own
/// sees them.
async fn wake_ups(db: &TestDb) -> (tokio_postgres::Client, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use futures_util::StreamExt;
    let (client, mut connection) =
        tokio_postgres::connect(&db.url(), tokio_postgres::NoTls).await.expect("connecting to the test db");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let tokio_postgres::AsyncMessage::Notification(n) = message {
                let _ = tx.send(n.payload().to_owned());
            }
        }
    });
    client.batch_execute("LISTEN hookrelay_work").await.unwrap();
    (client, rx)
}

#[tokio::test(flavor = "multi_thread")]
async fn publishes_notify_only_while_a_dispatcher_of_another_process_is_alive() {
    // one process with both roles: its own dispatcher is woken directly, nothing is sent
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    app.webhook(&token, json!({"name": "w", "url": receiver.url, "events": ["a.*"]})).await;
    let (_listening, mut woken) = wake_ups(&app.db).await;
    for i in 0..5 {
        app.publish(&token, "a.thing", json!({"i": i})).await;
    }
    receiver.wait_for(5, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(woken.try_recv().is_err(), "no NOTIFY while no other process dispatches");

    // a dispatcher process registers itself; once the API has looked again (every 2 s),
    // each burst of publishes wakes it, unless this process's dispatcher claimed all of the
    // burst's deliveries behind their publish. A publish with an idempotency key is never
    // followed by such a claim, so that it is work for whichever dispatcher claims first.
    let mut other = dispatcher(&app.db, "10s");
    let db = app.db.client().await;
    crate::helpers::wait_count(&db, "SELECT count(*) FROM dispatchers", 2, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let published = app
        .http
        .post(format!("{}/api/v1/events", app.base))
        .bearer_auth(&token)
        .header("Idempotency-Key", "after")
        .json(&json!({"event": "a.thing", "data": {"i": "after"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(published.status().as_u16(), 202);
    let payload = tokio::time::timeout(Duration::from_secs(5), woken.recv())
        .await
        .expect("a NOTIFY for the other process's dispatcher")
        .expect("the LISTEN connection is open");
    assert!(!payload.is_empty(), "the wake-up names its sender");

    // stopped with SIGTERM, it deletes its row
    let pid = other.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    let _ = other.wait();
    crate::helpers::wait_count(&db, "SELECT count(*) FROM dispatchers", 1, Duration::from_secs(10)).await;
}

/// `hookrelay serve` (API and dispatcher) on `port`, ready.
async fn server(db: &TestDb, port: u16) -> Spawned {
    let child = Spawned(
        Command::new(env!("CARGO_BIN_EXE_hookrelay"))
            .arg("serve")
            .env("DATABASE_URL", db.url())
            .env("HOOKRELAY_BIND", format!("127.0.0.1:{port}"))
            .env("HOOKRELAY_ALLOW_PRIVATE_TARGETS", "true")
            .env("HOOKRELAY_POLL_INTERVAL", "200ms")
            .env("HOOKRELAY_LEASE", "5s")
            .env("HOOKRELAY_ATTEMPT_TIMEOUT", "2s")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawning the hookrelay binary"),
    );
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while http.get(format!("http://127.0.0.1:{port}/ready")).send().await.map(|r| r.status().as_u16()).ok() != Some(200)
    {
        assert!(std::time::Instant::now() < deadline, "hookrelay did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

/// kill -9 of the server while a provider sends: every request answered 200 is delivered
/// (its event was committed before the answer), whatever the kill cut short.
#[tokio::test(flavor = "multi_thread")]
async fn every_ingest_request_answered_200_is_delivered_across_a_kill_9() {
    let db = std::sync::Arc::new(TestDb::create().await);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut first = server(&db, port).await;
    let app = TestApp { base: format!("http://127.0.0.1:{port}"), http: reqwest::Client::new(), service: None, db };
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    app.webhook(&token, json!({"name": "gh", "url": receiver.url, "events": ["github.*"], "rateLimitPerMinute": null}))
        .await;
    let (status, s) = app
        .post(
            "/api/v1/sources",
            &token,
            json!({"name": "GitHub", "provider": "github", "config": {"secret": "kill-9-secret"}}),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    let url = s["ingestUrl"].as_str().unwrap().to_owned();
    let send = |n: usize| {
        let body = format!(r#"{{"n":{n}}}"#);
        let sig = format!("sha256={}", crate::sources::hmac_hex(b"kill-9-secret", body.as_bytes()));
        let req = app
            .http
            .post(&url)
            .header("x-hub-signature-256", sig)
            .header("x-github-event", "push")
            .header("x-github-delivery", format!("delivery-{n}"))
            .body(body);
        async move { req.send().await.map(|r| r.status().as_u16()).unwrap_or(0) }
    };
    // eight senders at a time; the kill lands while they are sending
    let sending = async {
        let mut answered = Vec::new();
        for batch in (0..400).collect::<Vec<_>>().chunks(8) {
            let statuses = futures_util::future::join_all(batch.iter().map(|&n| send(n))).await;
            answered
                .extend(batch.iter().zip(statuses).filter(|(_, s)| *s == 200).map(|(n, _)| format!("delivery-{n}")));
        }
        answered
    };
    let killing = async {
        tokio::time::sleep(Duration::from_millis(600)).await;
        first.kill().expect("kill -9");
        first.wait().expect("reaping");
    };
    let (answered, ()) = tokio::join!(sending, killing);
    assert!(!answered.is_empty() && answered.len() < 400, "the kill fell mid-stream ({} answered 200)", answered.len());

    let _second = server(&app.db, port).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let got: HashSet<String> =
            receiver.received().iter().map(|r| r.header("x-github-delivery").to_owned()).collect();
        let missing: Vec<&String> = answered.iter().filter(|d| !got.contains(*d)).collect();
        if missing.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "answered 200 but never delivered: {missing:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("ingest kill -9 test: {} of 400 answered 200 before the kill, all delivered", answered.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn health_check_answers_for_the_server_on_its_bind_address() {
    let app = TestApp::spawn().await;
    let check = |bind: String| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_hookrelay"))
            .arg("health-check")
            .env("HOOKRELAY_BIND", bind)
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
    };
    let up = check(app.base.trim_start_matches("http://").to_owned()).await.unwrap();
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let down = check(closed.to_string()).await.unwrap();
    assert!(!down.status.success(), "nothing listens on {closed}");
    assert!(String::from_utf8_lossy(&down.stderr).contains("/health"), "{}", String::from_utf8_lossy(&down.stderr));
}
