//! Processes, databases, the API client and the measurements shared by all scenarios.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio_postgres::NoTls;

/// A hookrelay process of the benchmark, with its peak memory read from /proc.
pub struct Hookrelay {
    pub child: Child,
    pub base: String,
}

impl Hookrelay {
    pub fn start(
        binary: &str,
        database_url: &str,
        role: &str,
        extra_env: &[(&str, &str)],
    ) -> anyhow::Result<Hookrelay> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut cmd = Command::new(binary);
        cmd.arg("serve")
            .env("DATABASE_URL", database_url)
            .env("HOOKRELAY_BIND", format!("127.0.0.1:{port}"))
            .env("HOOKRELAY_ROLE", role)
            .env("HOOKRELAY_ALLOW_PRIVATE_TARGETS", "true")
            // the load generator is one tenant publishing far beyond the default per-tenant
            // limits (1,000 publishes/s, 100 other requests/s): they are off here
            .env("HOOKRELAY_TENANT_PUBLISH_RATE", "0")
            .env("HOOKRELAY_TENANT_API_RATE", "0")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let child = cmd.spawn()?;
        Ok(Hookrelay { child, base: format!("http://127.0.0.1:{port}") })
    }

    pub async fn wait_ready(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}/ready", self.base)).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("hookrelay did not become ready at {}", self.base)
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// CPU time used so far, in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        process_cpu_ticks(self.child.id())
    }

    /// Peak resident memory so far (VmHWM), in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        self.status_kib("VmHWM:") as f64 / 1024.0
    }

    pub fn stop(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(40);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Samples the RSS of some processes every 200 ms; keeps the maximum.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    max: Arc<Mutex<f64>>,
}

impl RssSampler {
    pub fn start(pids: Vec<u32>) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let max = Arc::new(Mutex::new(0.0f64));
        let (s, m) = (stop.clone(), max.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let total: f64 = pids
                    .iter()
                    .map(|pid| {
                        std::fs::read_to_string(format!("/proc/{pid}/status"))
                            .unwrap_or_default()
                            .lines()
                            .find(|l| l.starts_with("VmRSS:"))
                            .and_then(|l| l.split_whitespace().nth(1))
                            .and_then(|v| v.parse::<f64>().ok())
                            .unwrap_or(0.0)
                            / 1024.0
                    })
                    .sum();
                if let Ok(mut m) = m.lock() {
                    *m = m.max(total);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        RssSampler { stop, max }
    }

    pub fn finish(self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        self.max.lock().map(|m| *m).unwrap_or(0.0)
    }
}

/// CPU time (user + system, in clock ticks) of every process named `postgres` now
/// running: it falls when backends exit, so a difference of two readings saturates.
pub fn postgres_cpu_ticks() -> u64 {
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    for entry in entries.flatten() {
        let path = entry.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim() == "postgres" {
            total += stat_ticks(&path);
        }
    }
    total
}

/// CPU time (user + system, in clock ticks) of one process.
pub fn process_cpu_ticks(pid: u32) -> u64 {
    stat_ticks(&std::path::Path::new("/proc").join(pid.to_string()))
}

/// Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux).
pub const TICKS_PER_SECOND: f64 = 100.0;

fn stat_ticks(proc_dir: &std::path::Path) -> u64 {
    let stat = std::fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
    // fields after the command name (which may hold spaces) start at ") "
    let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else { return 0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    utime + stime
}

pub fn total_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    stat.lines().next().map(|l| l.split_whitespace().skip(1).filter_map(|v| v.parse::<u64>().ok()).sum()).unwrap_or(0)
}

/// The databases of this run are named `hookrelay_bench_<start>_<pid>_<scenario>`, so that
/// two runs on one server (another session's, the test suite's smoke run) never drop each
/// other's databases mid-scenario.
fn run_prefix() -> &'static str {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PREFIX.get_or_init(|| {
        let start =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        format!("hookrelay_bench_{start}_{}_", std::process::id())
    })
}

/// Runs older than this whose databases are still there were killed: their databases are
/// dropped if no one uses them.
const LEFTOVER_AFTER_SECS: u64 = 3600;

/// A fresh database for scenario `scenario`. The databases of this run's earlier scenarios
/// are dropped first, and dirty buffers flushed, so that their autovacuum and checkpoint
/// work does not run during this scenario's measurements; so are other runs' databases
/// left over from more than an hour ago, unless something is connected to them.
pub async fn fresh_database(server_url: &str, scenario: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(server_url)?;
    url.set_path("/postgres");
    let (client, conn) = tokio_postgres::connect(url.as_str(), NoTls).await?;
    tokio::spawn(conn);
    let prefix = run_prefix();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let earlier =
        client.query("SELECT datname FROM pg_database WHERE datname LIKE 'hookrelay\\_bench\\_%'", &[]).await?;
    for db in earlier {
        let db: String = db.get(0);
        if db.starts_with(prefix) {
            client.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await?;
            continue;
        }
        // `hookrelay_bench_<start>_…` (or a name of before the prefix: start 0)
        let start = db
            .strip_prefix("hookrelay_bench_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        if start + LEFTOVER_AFTER_SECS < now {
            // no FORCE: a database someone uses stays
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {db}")).await;
        }
    }
    let name = format!("{prefix}{scenario}");
    client.batch_execute(&format!("CREATE DATABASE {name}")).await?;
    // CHECKPOINT needs superuser (or pg_checkpoint): without it, the scenario just runs
    if let Err(err) = client.batch_execute("CHECKPOINT").await {
        eprintln!("CHECKPOINT before the scenario failed ({err}); measuring anyway");
    }
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

pub async fn sql(database_url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, conn) = tokio_postgres::connect(database_url, NoTls).await?;
    tokio::spawn(conn);
    Ok(client)
}

/// The API as a tenant sees it.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
}

impl Api {
    pub async fn sign_up(base: &str) -> anyhow::Result<Api> {
        let http = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
        let email = format!("bench-{}@example.com", uuid::Uuid::new_v4().simple());
        let creds = json!({"email": email, "password": "benchmark-password", "organization": "Bench"});
        http.post(format!("{base}/api/v1/auth/register")).json(&creds).send().await?.error_for_status()?;
        let login: Value = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&creds)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = login["accessToken"].as_str().unwrap_or_default().to_owned();
        Ok(Api { base: base.to_owned(), token, http })
    }

    pub async fn webhook(&self, body: Value) -> anyhow::Result<Value> {
        let res = self
            .http
            .post(format!("{}/api/v1/webhooks", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = res.status();
        let value: Value = res.json().await?;
        anyhow::ensure!(status.as_u16() == 201, "creating a webhook: {status} {value}");
        Ok(value)
    }

    /// Publishes one event carrying its publish time; returns the request latency.
    pub async fn publish(&self, event: &str, seq: u64) -> anyhow::Result<Duration> {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos() as u64;
        let started = Instant::now();
        let res = self
            .http
            .post(format!("{}/api/v1/events", self.base))
            .bearer_auth(&self.token)
            .json(&json!({"event": event, "data": {"t": t, "seq": seq}}))
            .send()
            .await?;
        anyhow::ensure!(res.status().as_u16() == 202, "publish answered {}", res.status());
        res.bytes().await?;
        Ok(started.elapsed())
    }

    /// POSTs `body`; the answer's status and JSON.
    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<(u16, Value)> {
        let res = self.http.post(format!("{}{path}", self.base)).bearer_auth(&self.token).json(&body).send().await?;
        Ok((res.status().as_u16(), res.json().await?))
    }

    /// GETs `path`; the answer's status and JSON.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<(u16, Value)> {
        let res = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await?;
        Ok((res.status().as_u16(), res.json().await?))
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<(u16, Duration)> {
        self.call(reqwest::Method::GET, path).await
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<(u16, Duration)> {
        self.call(reqwest::Method::DELETE, path).await
    }

    async fn call(&self, method: reqwest::Method, path: &str) -> anyhow::Result<(u16, Duration)> {
        let started = Instant::now();
        let res = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token).send().await?;
        let status = res.status().as_u16();
        res.bytes().await?;
        Ok((status, started.elapsed()))
    }
}

/// The value at quantile `q` of sorted samples.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
