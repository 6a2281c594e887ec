//! `hookrelay listen` (SPEC "Local relay"): a relay webhook's deliveries, forwarded byte
//! for byte to a URL on this machine, without a tunnel. It speaks only outbound HTTP(S)
//! to the API's relay routes (`api::relay`): a long poll takes due deliveries under a
//! lease, each is forwarded (30 s, no redirects) and its local answer reported, and what
//! it has not forwarded when it stops is handed back. It reconnects by itself, with
//! back-off, and says so. Nothing here touches the database: it needs no `DATABASE_URL`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use clap::Args;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How long one take waits for a delivery on the server.
const WAIT_SECS: u64 = 25;
/// A take that has not answered by then is a dead connection (the server answers within
/// `WAIT_SECS`): both sides notice within 60 s.
const TAKE_TIMEOUT: Duration = Duration::from_secs(WAIT_SECS + 15);
/// The local URL's answer timeout (as a dispatcher's attempt).
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);
/// Deliveries taken at once (forwarded one after the other, oldest first).
const AT_ONCE: usize = 50;
/// Reports sent at once, in the background of the forwarding.
const REPORTS_IN_FLIGHT: usize = 32;
/// The longest pause between reconnection attempts.
const MOST_BACKOFF: Duration = Duration::from_secs(30);
/// Tries of an API call answered 429 or 503.
const MOST_TRIES: u32 = 5;
/// How much of a local answer's body is reported.
const REPORTED_BODY: usize = 4096;

#[derive(Debug, Clone, Args)]
pub struct ListenArgs {
    /// The local URL each delivery is forwarded to, e.g. http://localhost:8000/webhook.
    #[arg(long)]
    pub forward_to: String,
    /// Event filters of the relay webhook this run creates or reuses (comma-separated).
    #[arg(long, default_value = "*")]
    pub events: String,
    /// Listen to this relay webhook instead of this machine's own.
    #[arg(long)]
    pub webhook: Option<String>,
    /// The hookrelay API.
    #[arg(long, env = "HOOKRELAY_API_URL", default_value = "http://127.0.0.1:8080")]
    pub api_url: String,
    /// A tenant access token or an API key of scope `all`.
    #[arg(long, env = "HOOKRELAY_API_KEY", hide_env_values = true)]
    pub api_key: String,
    /// Print the webhook's signing secret alone and exit.
    #[arg(long)]
    pub print_secret: bool,
}

/// The relay webhook a run listens to.
struct Relay {
    id: String,
    name: String,
    secret: String,
}

pub async fn run(args: ListenArgs) -> anyhow::Result<()> {
    let forward_to = reqwest::Url::parse(&args.forward_to).map_err(|e| {
        anyhow!("--forward-to {:?} is not a URL ({e}): give e.g. http://localhost:8000/webhook", args.forward_to)
    })?;
    let api = Api::new(&args.api_url, &args.api_key)?;
    let host = hostname();
    let relay = match &args.webhook {
        Some(id) => api.existing(id).await?,
        None => api.own(&host, &args.events).await?,
    };
    if args.print_secret {
        println!("{}", relay.secret);
        return Ok(());
    }
    println!("Listening to relay webhook {} ({}), forwarding to {forward_to}", relay.id, relay.name);
    println!("Its signing secret (verify X-Webhook-Signature with it): {}", relay.secret);
    let stop = CancellationToken::new();
    let on_signal = stop.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        on_signal.cancel();
    });
    let listener =
        Listener { api: Arc::new(api), relay, host, forward_to, id: Uuid::now_v7(), forwarder: forwarder()? };
    listener.listen(stop).await
}

/// Reports a forwarded delivery's answer, recorded as its attempt.
async fn report_outcome(api: Arc<Api>, relay: String, id: String, report: Value) {
    let path = format!("/api/v1/relay/webhooks/{relay}/deliveries/{id}/outcome");
    if let Err(err) = api.call(reqwest::Method::POST, &path, Some(report)).await {
        // its lease expires and it is handed out again: at least once
        println!("{} could not report delivery {id} ({err:#}); it will be handed out again", now());
    }
}

/// The API's relay routes, with the run's credential.
struct Api {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Api {
    fn new(base: &str, key: &str) -> anyhow::Result<Api> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("hookrelay-listen/", env!("CARGO_PKG_VERSION")))
            .timeout(TAKE_TIMEOUT)
            .build()?;
        Ok(Api { base: base.trim_end_matches('/').to_owned(), key: key.to_owned(), http })
    }

    /// One API call; a 429 or 503 is tried again after its `Retry-After` (a listener's
    /// reports count against the tenant's API rate, and a report given up is a delivery
    /// handed out again).
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut tries = 0;
        let res = loop {
            tries += 1;
            let mut req = self.http.request(method.clone(), format!("{}{path}", self.base)).bearer_auth(&self.key);
            if let Some(body) = &body {
                req = req.json(body);
            }
            let res = req.send().await.with_context(|| format!("{method} {}{path}", self.base))?;
            let busy = matches!(res.status().as_u16(), 429 | 503);
            if !busy || tries >= MOST_TRIES {
                break res;
            }
            let wait = res
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(1)
                .clamp(1, 10);
            tokio::time::sleep(Duration::from_secs(wait)).await;
        };
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        if !status.is_success() {
            let detail = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|p| p["detail"].as_str().or(p["title"].as_str()).map(str::to_owned))
                .unwrap_or(text);
            bail!("{method} {path} answered {status}: {detail}");
        }
        Ok(if text.is_empty() { Value::Null } else { serde_json::from_str(&text)? })
    }

    /// The relay webhook `id`, with its secret.
    async fn existing(&self, id: &str) -> anyhow::Result<Relay> {
        let w = self.call(reqwest::Method::GET, &format!("/api/v1/webhooks/{id}/secret"), None).await?;
        if w["kind"] != "relay" {
            bail!(
                "webhook {id} is not a relay webhook (its kind is {}): create one with \"kind\": \"relay\"",
                w["kind"]
            );
        }
        Ok(relay_of(&w))
    }

    /// This machine's relay webhook, made on its first run and reused after, its events
    /// set to `events`.
    async fn own(&self, host: &str, events: &str) -> anyhow::Result<Relay> {
        let name = format!("hookrelay listen on {host}");
        let events: Vec<&str> = events.split(',').map(str::trim).filter(|e| !e.is_empty()).collect();
        let mut cursor = String::new();
        loop {
            let page = self.call(reqwest::Method::GET, &format!("/api/v1/webhooks?limit=100{cursor}"), None).await?;
            let found =
                page["data"].as_array().into_iter().flatten().find(|w| w["kind"] == "relay" && w["name"] == name);
            if let Some(w) = found {
                let id = w["id"].as_str().unwrap_or_default().to_owned();
                if w["events"] != json!(events) {
                    let body = json!({"events": events});
                    self.call(reqwest::Method::PATCH, &format!("/api/v1/webhooks/{id}"), Some(body)).await?;
                }
                return self.existing(&id).await;
            }
            match page["nextCursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        let body = json!({"name": name, "kind": "relay", "events": events, "description": "made by hookrelay listen"});
        let w = self.call(reqwest::Method::POST, "/api/v1/webhooks", Some(body)).await?;
        Ok(relay_of(&w))
    }
}

fn relay_of(w: &Value) -> Relay {
    let s = |k: &str| w[k].as_str().unwrap_or_default().to_owned();
    Relay { id: s("id"), name: s("name"), secret: s("secret") }
}

struct Listener {
    api: Arc<Api>,
    relay: Relay,
    host: String,
    forward_to: reqwest::Url,
    /// This run's id: the server counts it connected while it polls.
    id: Uuid,
    forwarder: reqwest::Client,
}

impl Listener {
    async fn listen(self, stop: CancellationToken) -> anyhow::Result<()> {
        let path = format!("/api/v1/relay/webhooks/{}", self.relay.id);
        let mut backoff = Duration::from_secs(1);
        let mut lost = false;
        let mut reports = tokio::task::JoinSet::new();
        while !stop.is_cancelled() {
            let body = json!({"listenerId": self.id, "host": self.host, "wait": WAIT_SECS, "max": AT_ONCE});
            let take = format!("{path}/take");
            let taken = tokio::select! {
                taken = self.api.call(reqwest::Method::POST, &take, Some(body)) => taken,
                _ = stop.cancelled() => break,
            };
            let handed = match taken {
                Ok(answer) => {
                    if lost {
                        println!("{} reconnected", now());
                        lost = false;
                    }
                    backoff = Duration::from_secs(1);
                    answer["data"].as_array().cloned().unwrap_or_default()
                }
                Err(err) => {
                    lost = true;
                    println!("{} connection lost ({err:#}); reconnecting in {}s", now(), backoff.as_secs());
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.cancelled() => break,
                    }
                    backoff = (backoff * 2).min(MOST_BACKOFF);
                    continue;
                }
            };
            // one at a time, in the order handed over (oldest first); the reports go in
            // the background, so the next delivery and the next take do not wait for them
            let mut unforwarded = Vec::new();
            for d in &handed {
                match self.forward_one(d, &stop).await {
                    Some(report) => {
                        while reports.len() >= REPORTS_IN_FLIGHT {
                            reports.join_next().await;
                        }
                        let id = d["deliveryId"].as_str().unwrap_or_default().to_owned();
                        reports.spawn(report_outcome(self.api.clone(), self.relay.id.clone(), id, report));
                    }
                    None => unforwarded.push(d),
                }
            }
            if !unforwarded.is_empty() {
                self.hand_back(&path, &unforwarded).await;
            }
        }
        // what was forwarded is reported before the goodbye
        while reports.join_next().await.is_some() {}
        // goodbye: the dashboard shows the listener gone at once
        let _ = self.api.call(reqwest::Method::DELETE, &format!("{path}/listeners/{}", self.id), None).await;
        println!("{} stopped", now());
        Ok(())
    }

    /// Forwards one delivery and prints its line: the report to send, or `None` when the
    /// run stopped first (the delivery is then handed back).
    async fn forward_one(&self, d: &Value, stop: &CancellationToken) -> Option<Value> {
        if stop.is_cancelled() {
            return None;
        }
        let answer = tokio::select! {
            answer = self.forward(d) => answer,
            _ = stop.cancelled() => return None,
        };
        let mut report = json!({
            "leaseId": d["leaseId"],
            "url": self.forward_to.as_str(),
            "durationMs": answer.duration.as_millis() as u64,
        });
        let line = match &answer.result {
            Ok((status, headers, body)) => {
                report["status"] = json!(status);
                report["headers"] = Value::Object(headers.clone());
                report["body"] = json!(body);
                format!("{status}")
            }
            Err((kind, message)) => {
                report["errorKind"] = json!(kind);
                report["errorMessage"] = json!(message);
                format!("{kind} ({message})")
            }
        };
        println!(
            "{} {} {} -> {line} in {} ms",
            now(),
            d["eventType"].as_str().unwrap_or_default(),
            d["deliveryId"].as_str().unwrap_or_default(),
            answer.duration.as_millis()
        );
        Some(report)
    }

    /// Sends the delivery's exact request to the local URL.
    async fn forward(&self, d: &Value) -> Forwarded {
        let started = Instant::now();
        let mut req = self.forwarder.post(self.forward_to.clone());
        for pair in d["headers"].as_array().into_iter().flatten() {
            let (Some(name), Some(value)) = (pair[0].as_str(), pair[1].as_str()) else { continue };
            // the client writes these for the request it sends
            if !matches!(name, "host" | "content-length") {
                req = req.header(name, value);
            }
        }
        let body = d["body"].as_str().unwrap_or_default().as_bytes().to_vec();
        let result = match req.body(body).send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let mut headers = serde_json::Map::new();
                for (name, value) in res.headers() {
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    headers.insert(name.as_str().to_owned(), Value::String(value));
                }
                let bytes = res.bytes().await.unwrap_or_default();
                let body = String::from_utf8_lossy(&bytes[..bytes.len().min(REPORTED_BODY)]).into_owned();
                Ok((status, headers, body))
            }
            Err(err) => Err(classify(&err)),
        };
        Forwarded { result, duration: started.elapsed() }
    }

    /// Hands back the leases of deliveries this run took but did not report.
    async fn hand_back(&self, path: &str, unreported: &[&Value]) {
        let mut by_lease: std::collections::HashMap<&str, Vec<&Value>> = std::collections::HashMap::new();
        for d in unreported {
            by_lease.entry(d["leaseId"].as_str().unwrap_or_default()).or_default().push(&d["deliveryId"]);
        }
        for (lease, ids) in by_lease {
            let body = json!({"leaseId": lease, "deliveryIds": ids});
            match self.api.call(reqwest::Method::POST, &format!("{path}/release"), Some(body)).await {
                Ok(_) => println!("{} handed back {} deliveries not forwarded", now(), ids.len()),
                Err(err) => println!("{} could not hand back deliveries ({err:#}); their leases expire", now()),
            }
        }
    }
}

/// A local answer: status, headers, the first 4 KiB of its body.
type Answer = (u16, serde_json::Map<String, Value>, String);

/// A local answer, or why there was none (an error kind as SPEC names it, and the error).
struct Forwarded {
    result: Result<Answer, (&'static str, String)>,
    duration: Duration,
}

/// The client that forwards: no redirects (a redirect is the answer), 30 s.
fn forwarder() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(FORWARD_TIMEOUT).build()?)
}

/// The error kind of a failed forward, as SPEC names them.
fn classify(err: &reqwest::Error) -> (&'static str, String) {
    let mut chain = format!("{err}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        chain.push_str(&format!(": {s}"));
        source = s.source();
    }
    let lower = chain.to_lowercase();
    let kind = if err.is_timeout() {
        "timeout"
    } else if lower.contains("dns") || lower.contains("failed to lookup") {
        "dns"
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        "tls"
    } else if err.is_connect() {
        "connect"
    } else {
        "other"
    };
    (kind, chain)
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "this machine".to_owned())
}

fn now() -> String {
    chrono::Utc::now().format("%H:%M:%S%.3f").to_string()
}
