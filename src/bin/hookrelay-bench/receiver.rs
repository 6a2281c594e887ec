//! The benchmark's receiver: answers at once (or with injected faults), verifies every
//! signature, counts unique deliveries and duplicates, and measures end-to-end latency
//! from the publish time carried in the payload (or in a source's request body).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Faults to inject, as fractions of requests (decided per request by a hash of the
/// delivery id and attempt, so that retries of one delivery see independent draws).
#[derive(Clone, Copy, Default)]
pub struct Faults {
    pub error_rate: f64,
    pub timeout_rate: f64,
    pub hang: Duration,
}

#[derive(Default)]
pub struct Tally {
    /// (event id, webhook index) → arrival times of every attempt, and whether each failed
    pub seen: HashMap<(String, usize), Vec<(Instant, Answer)>>,
    pub latencies_us: Vec<u64>,
    pub bad_signatures: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Ok,
    Error,
    Hang,
}

pub struct Receiver {
    pub base: String,
    pub secrets: Arc<Mutex<HashMap<usize, String>>>,
    pub tally: Arc<Mutex<Tally>>,
    pub unique: Arc<AtomicU64>,
    pub requests: Arc<AtomicU64>,
    pub up: Arc<AtomicBool>,
    pub faults: Arc<Mutex<Faults>>,
}

struct State {
    secrets: Arc<Mutex<HashMap<usize, String>>>,
    tally: Arc<Mutex<Tally>>,
    unique: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
    up: Arc<AtomicBool>,
    faults: Arc<Mutex<Faults>>,
}

impl Receiver {
    pub fn start() -> anyhow::Result<Receiver> {
        let r = Receiver {
            base: String::new(),
            secrets: Arc::default(),
            tally: Arc::default(),
            unique: Arc::default(),
            requests: Arc::default(),
            up: Arc::new(AtomicBool::new(true)),
            faults: Arc::default(),
        };
        let state = web::Data::new(State {
            secrets: r.secrets.clone(),
            tally: r.tally.clone(),
            unique: r.unique.clone(),
            requests: r.requests.clone(),
            up: r.up.clone(),
            faults: r.faults.clone(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server =
            HttpServer::new(move || App::new().app_data(state.clone()).route("/hook/{i}", web::post().to(receive)))
                .workers(2)
                .backlog(4096)
                .max_connections(100_000)
                .disable_signals()
                .listen(listener)?
                .run();
        tokio::spawn(server);
        Ok(Receiver { base: format!("http://{addr}/hook"), ..r })
    }

    pub fn url(&self, i: usize) -> String {
        format!("{}/{i}", self.base)
    }
}

fn draw(key: &str, salt: u64) -> f64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    salt.hash(&mut h);
    (h.finish() % 1_000_000) as f64 / 1_000_000.0
}

async fn receive(req: HttpRequest, body: web::Bytes, path: web::Path<usize>, state: web::Data<State>) -> HttpResponse {
    let arrived = Instant::now();
    state.requests.fetch_add(1, Ordering::Relaxed);
    if !state.up.load(Ordering::Relaxed) {
        return HttpResponse::ServiceUnavailable().finish();
    }
    let i = path.into_inner();
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let secret = state.secrets.lock().ok().and_then(|s| s.get(&i).cloned()).unwrap_or_default();
    let signature_ok = {
        let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
            Ok(m) => m,
            Err(_) => return HttpResponse::InternalServerError().finish(),
        };
        mac.update(&body);
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        expected == header("x-webhook-signature")
    };
    let faults = state.faults.lock().map(|f| *f).unwrap_or_default();
    let key = header("x-webhook-delivery");
    let attempt: u64 = header("x-webhook-attempt").parse().unwrap_or(0);
    let roll = draw(&key, attempt);
    let answer = if roll < faults.timeout_rate {
        Answer::Hang
    } else if roll < faults.timeout_rate + faults.error_rate {
        Answer::Error
    } else {
        Answer::Ok
    };
    // an event published through the API carries it in `data`; a source's delivery (the
    // provider's body as it arrived) at the top level
    let published_ns: Option<u128> = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["data"]["t"].as_u64().or_else(|| v["t"].as_u64()))
        .map(u128::from);
    if let Ok(mut tally) = state.tally.lock() {
        if !signature_ok {
            tally.bad_signatures += 1;
        }
        let attempts = tally.seen.entry((header("x-webhook-id"), i)).or_default();
        let first_success = answer == Answer::Ok && !attempts.iter().any(|(_, a)| *a == Answer::Ok);
        attempts.push((arrived, answer));
        if first_success {
            state.unique.fetch_add(1, Ordering::Relaxed);
            if let Some(t) = published_ns {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                tally.latencies_us.push((now.saturating_sub(t) / 1_000) as u64);
            }
        }
    }
    match answer {
        Answer::Ok => HttpResponse::NoContent().finish(),
        Answer::Error => HttpResponse::InternalServerError().finish(),
        Answer::Hang => {
            tokio::time::sleep(faults.hang).await;
            HttpResponse::NoContent().finish()
        }
    }
}
