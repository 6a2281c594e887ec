//! PostgreSQL going away: the API answers 503 `service_unavailable` with `Retry-After`
//! (never 500) while it is unreachable, and recovers by itself when it is back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hookrelay::startup::Service;
use reqwest::Method;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{server_url, test_config, TestApp, TestDb};

/// A TCP relay to the test server that can be cut: cutting drops every relayed connection
/// and refuses new ones, as a stopped or unreachable server would.
struct Relay {
    port: u16,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (o, l) = (open.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !o.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                l.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        });
        Relay { port, open, links }
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_database_is_503_with_retry_after_and_the_service_recovers() {
    let db = Arc::new(TestDb::create().await);
    let server = server_url();
    let relay = Relay::start(format!("{}:{}", server.host_str().unwrap(), server.port().unwrap_or(5432))).await;
    let mut url = url::Url::parse(&db.url()).unwrap();
    url.set_port(Some(relay.port)).unwrap();
    let mut config = test_config(&db, &[]);
    config.database_url = url.to_string().into();
    let service = Service::start(config).await.expect("starting the service");
    let app = TestApp {
        base: format!("http://{}", service.addr),
        http: reqwest::Client::new(),
        service: Some(service),
        db: db.clone(),
    };
    let (token, _) = app.tenant("Acme").await;
    app.webhook(&token, json!({"name": "h", "url": "http://127.0.0.1:9/", "events": ["*"]})).await;
    app.publish(&token, "before.outage", json!({})).await;
    let (status, source) =
        app.post("/api/v1/sources", &token, json!({"name": "s", "provider": "none", "eventType": "in.coming"})).await;
    assert_eq!(status, 201, "{source}");
    let ingest = source["ingestUrl"].as_str().unwrap().strip_prefix(&app.base).unwrap().to_owned();

    relay.cut();
    let register = json!({"email": "x@example.com", "password": "correct horse battery", "organization": "X"});
    let calls = [
        (Method::POST, "/api/v1/events", Some(json!({"event": "during.outage", "data": {}}))),
        (Method::GET, "/api/v1/webhooks", None),
        (Method::GET, "/api/v1/deliveries", None),
        (Method::POST, "/api/v1/auth/register", Some(register)),
        // a provider's request: never a 2xx without the durable write
        (Method::POST, ingest.as_str(), Some(json!({"n": 1}))),
    ];
    for (method, path, body) in calls {
        let mut req = app.http.request(method.clone(), format!("{}{path}", app.base)).bearer_auth(&token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 503, "{method} {path}");
        let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry_after >= 1, "{method} {path}: Retry-After {retry_after}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let problem: serde_json::Value = res.json().await.unwrap();
        assert_eq!(problem["type"], "service_unavailable", "{method} {path}: {problem}");
        assert_eq!(problem["status"], 503);
    }
    let (status, _) = app.call(Method::GET, "/ready", None, None).await;
    assert_eq!(status, 503);

    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = app.post("/api/v1/events", &token, json!({"event": "after.outage", "data": {}})).await;
        if status == 202 {
            break;
        }
        assert_eq!(status, 503, "while reconnecting: {body}");
        assert!(Instant::now() < deadline, "the service did not recover: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, events) = app.get("/api/v1/events", &token).await;
    assert_eq!(status, 200);
    let types: Vec<&str> = events["data"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert!(!types.contains(&"during.outage"), "nothing is accepted while the database is away: {types:?}");
    assert!(types.contains(&"before.outage") && types.contains(&"after.outage"), "{types:?}");
}
