//! The test harness: databases, a running service per test, an API client, receivers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use clap::Parser;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::{Notify, OnceCell};
use tokio_postgres::NoTls;

use hookrelay::cli::Cli;
use hookrelay::config::Config;
use hookrelay::startup::Service;

/// The server-level URL the scripts export (`scripts/test` starts a private cluster).
pub fn server_url() -> url::Url {
    let raw = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL is not set: run the suite with scripts/test, which starts a private PostgreSQL");
    url::Url::parse(&raw).expect("DATABASE_URL is not a URL")
}

pub fn database_url(name: &str) -> String {
    let mut url = server_url();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

async fn admin() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&database_url("postgres"), NoTls)
        .await
        .expect("connecting to the PostgreSQL server of DATABASE_URL");
    tokio::spawn(connection);
    client
}

/// The migrated template, named after a hash of the migrations so that a changed
/// migration gets a new template.
async fn template() -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            use sha2::{Digest, Sha256};
            let mut hasher = Sha256::new();
            let mut files: Vec<_> = walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"));
            files.sort();
            for f in files {
                hasher.update(f.to_string_lossy().as_bytes());
                hasher.update(std::fs::read(&f).expect("reading a migration"));
            }
            let name = format!("hookrelay_tpl_{}", &hex::encode(hasher.finalize())[..16]);
            let client = admin().await;
            client.execute("SELECT pg_advisory_lock(4242)", &[]).await.expect("advisory lock");
            let exists = client
                .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
                .await
                .expect("looking up the template")
                .is_some();
            if !exists {
                let building = format!("{name}_building");
                client.batch_execute(&format!("DROP DATABASE IF EXISTS {building}")).await.expect("drop");
                client.batch_execute(&format!("CREATE DATABASE {building}")).await.expect("create template");
                hookrelay::db::migrate(&database_url(&building)).await.expect("migrating the template");
                client.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}")).await.expect("rename");
            }
            client.execute("SELECT pg_advisory_unlock(4242)", &[]).await.expect("advisory unlock");
            name
        })
        .await
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("reading migrations/") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A fresh database for one test, dropped when the guard drops.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    pub async fn create() -> TestDb {
        let template = template().await;
        let name = format!("hookrelay_test_{}", uuid::Uuid::new_v4().simple());
        let client = admin().await;
        // CREATE DATABASE … TEMPLATE fails while another clone of it is being made
        client.execute("SELECT pg_advisory_lock(4242)", &[]).await.expect("advisory lock");
        let created = client.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}")).await;
        client.execute("SELECT pg_advisory_unlock(4242)", &[]).await.expect("advisory unlock");
        created.expect("creating the test database");
        TestDb { name }
    }

    pub fn url(&self) -> String {
        database_url(&self.name)
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) =
            tokio_postgres::connect(&self.url(), NoTls).await.expect("connecting to the test db");
        tokio::spawn(connection);
        client
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime: use a thread with its own
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async {
                if let Ok((client, connection)) = tokio_postgres::connect(&database_url("postgres"), NoTls).await {
                    tokio::spawn(connection);
                    let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                }
            });
        })
        .join();
    }
}

/// Settings for a test service: private targets allowed, a small pool, any free port.
pub fn test_config(db: &TestDb, extra: &[&str]) -> Config {
    let mut args = vec![
        "hookrelay".to_owned(),
        "--database-url".into(),
        db.url(),
        "--bind".into(),
        "127.0.0.1:0".into(),
        "--pool-size".into(),
        "6".into(),
        "--poll-interval".into(),
        "200ms".into(),
        "--metrics-refresh".into(),
        "200ms".into(),
    ];
    if !extra.contains(&"--allow-private-targets") {
        args.extend(["--allow-private-targets".into(), "true".into()]);
    }
    // tests make bursts of requests; the rate limit tests set their own
    for limit in ["--tenant-publish-rate", "--tenant-api-rate"] {
        if !extra.contains(&limit) {
            args.extend([limit.into(), "0".into()]);
        }
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let cli = Cli::try_parse_from(args).expect("test settings");
    Config::from_settings(&cli.settings).expect("test config")
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub service: Option<Service>,
    pub db: Arc<TestDb>,
}

impl TestApp {
    /// A service with API and dispatcher on a fresh database.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    pub async fn spawn_with(extra: &[&str]) -> TestApp {
        let db = Arc::new(TestDb::create().await);
        TestApp::spawn_on(db, extra).await
    }

    /// Another service on an existing database (e.g. a second process's role).
    pub async fn spawn_on(db: Arc<TestDb>, extra: &[&str]) -> TestApp {
        let config = test_config(&db, extra);
        let service = Service::start(config).await.expect("starting the service");
        let base = format!("http://{}", service.addr);
        TestApp { base, http: reqwest::Client::new(), service: Some(service), db }
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request failed");
        let status = res.status().as_u16();
        let text = res.text().await.expect("reading the response");
        let value =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Registers a tenant and logs in: (access token, tenant id).
    pub async fn tenant(&self, name: &str) -> (String, String) {
        let email = format!("{}-{}@example.com", name.to_lowercase(), uuid::Uuid::new_v4().simple());
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({"email": email, "password": "correct horse battery", "organization": name})),
            )
            .await;
        assert_eq!(status, 201, "register: {body}");
        let tenant_id = body["tenant"]["id"].as_str().expect("tenant id").to_owned();
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": "correct horse battery"})),
            )
            .await;
        assert_eq!(status, 200, "login: {body}");
        (body["accessToken"].as_str().expect("token").to_owned(), tenant_id)
    }

    /// Creates a webhook and returns it (with its secret).
    pub async fn webhook(&self, token: &str, body: Value) -> Value {
        let (status, created) = self.post("/api/v1/webhooks", token, body).await;
        assert_eq!(status, 201, "create webhook: {created}");
        created
    }

    pub async fn publish(&self, token: &str, event: &str, data: Value) -> Value {
        let (status, body) = self.post("/api/v1/events", token, json!({"event": event, "data": data})).await;
        assert_eq!(status, 202, "publish: {body}");
        body
    }

    /// Polls a delivery until `done` holds for it, or panics after `within`.
    pub async fn wait_delivery(&self, token: &str, id: &str, within: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let (status, d) = self.get(&format!("/api/v1/deliveries/{id}"), token).await;
            assert_eq!(status, 200, "{d}");
            if done(&d) {
                return d;
            }
            assert!(Instant::now() < deadline, "delivery did not reach the expected state in {within:?}: {d}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The deliveries of an event.
    pub async fn deliveries_of(&self, token: &str, event_id: &str) -> Vec<Value> {
        let (status, page) = self.get(&format!("/api/v1/deliveries?eventId={event_id}"), token).await;
        assert_eq!(status, 200, "{page}");
        page["data"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(service) = &self.service {
            service.shutdown.cancel();
        }
    }
}

/// What a receiver answers to its n-th request (0-based).
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    pub retry_after: Option<RetryAfter>,
}

/// A `Retry-After` header for a reply.
#[derive(Clone, Copy, Debug)]
pub enum RetryAfter {
    /// sent as written
    Raw(&'static str),
    /// an HTTP date this many seconds after the reply
    DateIn(u64),
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply { status, delay: Duration::ZERO, retry_after: None }
    }

    pub fn delayed(status: u16, delay: Duration) -> Reply {
        Reply { status, delay, retry_after: None }
    }

    pub fn retry_after(status: u16, retry_after: RetryAfter) -> Reply {
        Reply { status, delay: Duration::ZERO, retry_after: Some(retry_after) }
    }
}

#[derive(Clone, Debug)]
pub struct Received {
    pub at: Instant,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str).unwrap_or("")
    }
}

type Behaviour = Arc<dyn Fn(usize) -> Reply + Send + Sync>;

/// A request as it arrived: its number (0-based) and the requests in flight then,
/// itself included.
#[derive(Clone, Copy, Debug)]
pub struct Arrival {
    pub n: usize,
    pub at: Instant,
    pub in_flight: usize,
}

struct ReceiverState {
    behaviour: Behaviour,
    arrivals: Mutex<Vec<Arrival>>,
    /// the body of every answer; by default "reply <n>"
    body: Option<Vec<u8>>,
    received: Mutex<Vec<Received>>,
    count: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    notify: Notify,
}

/// A real HTTP server on 127.0.0.1 that records every request.
pub struct Receiver {
    pub url: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    pub async fn start(behaviour: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Receiver {
        Receiver::serve(Arc::new(behaviour), None).await
    }

    /// Answers every request with `body`.
    pub async fn start_with_body(
        behaviour: impl Fn(usize) -> Reply + Send + Sync + 'static,
        body: Vec<u8>,
    ) -> Receiver {
        Receiver::serve(Arc::new(behaviour), Some(body)).await
    }

    async fn serve(behaviour: Behaviour, body: Option<Vec<u8>>) -> Receiver {
        let state = Arc::new(ReceiverState {
            behaviour,
            arrivals: Mutex::new(Vec::new()),
            body,
            received: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            notify: Notify::new(),
        });
        let shared = web::Data::from(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a receiver");
        let addr = listener.local_addr().expect("receiver address");
        let server = HttpServer::new(move || App::new().app_data(shared.clone()).default_service(web::to(receive)))
            .workers(2)
            .disable_signals()
            .shutdown_timeout(0)
            .listen(listener)
            .expect("receiver listen")
            .run();
        tokio::spawn(server);
        Receiver { url: format!("http://{addr}/hook"), state }
    }

    /// Always answers `status` at once.
    pub async fn ok() -> Receiver {
        Receiver::start(|_| Reply::status(200)).await
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("lock").clone()
    }

    /// Every request at its arrival, hung ones included.
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.state.arrivals.lock().expect("lock").clone()
    }

    /// Waits until at least `n` requests arrived (answered or not); panics after `within`.
    pub async fn wait_arrivals(&self, n: usize, within: Duration) -> Vec<Arrival> {
        self.wait_until(n, within, "arrive", Receiver::arrivals).await
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` requests arrived; panics after `within`.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        self.wait_until(n, within, "be answered", Receiver::received).await
    }

    /// Waits until `list` holds at least `n` items, woken by each request.
    async fn wait_until<T>(&self, n: usize, within: Duration, what: &str, list: fn(&Receiver) -> Vec<T>) -> Vec<T> {
        let deadline = Instant::now() + within;
        loop {
            let notified = self.state.notify.notified();
            let got = list(self);
            if got.len() >= n {
                return got;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "receiver saw {} of {n} requests {what} in {within:?}", got.len());
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), notified).await;
        }
    }
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<ReceiverState>) -> HttpResponse {
    let arrived = Instant::now();
    let n = state.count.fetch_add(1, Ordering::SeqCst);
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    // leaves the count even when the sender hangs up and the handler is dropped mid-delay
    let _leaving = InFlight(&state.in_flight);
    state.arrivals.lock().expect("lock").push(Arrival { n, at: arrived, in_flight: now });
    state.notify.notify_waiters();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let reply = (state.behaviour)(n);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    state.received.lock().expect("lock").push(Received { at: arrived, headers, body: body.to_vec() });
    state.notify.notify_waiters();
    let mut res = HttpResponse::build(actix_web::http::StatusCode::from_u16(reply.status).expect("status"));
    if (300..400).contains(&reply.status) {
        res.insert_header(("Location", "http://127.0.0.1:9/elsewhere"));
    }
    match reply.retry_after {
        Some(RetryAfter::Raw(value)) => {
            res.insert_header(("Retry-After", value));
        }
        Some(RetryAfter::DateIn(secs)) => {
            let at = chrono::Utc::now() + chrono::Duration::seconds(secs as i64);
            res.insert_header(("Retry-After", at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()));
        }
        None => {}
    }
    match &state.body {
        Some(body) => res.body(body.clone()),
        None => res.body(format!("reply {n}")),
    }
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Polls `sql` (one bigint) until it returns `want`, or panics after `within`.
pub async fn wait_count(db: &tokio_postgres::Client, sql: &str, want: i64, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let got: i64 = db.query_one(sql, &[]).await.unwrap().get(0);
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "`{sql}` gave {got}, not {want}, within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
