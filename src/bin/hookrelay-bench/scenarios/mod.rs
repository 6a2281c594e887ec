//! The scenarios of issue 5 and the result table: `run` picks the scenarios, and this
//! module holds what they share (the row, the load generator, starting and stopping the
//! service). One file per family of scenarios:
//!
//! - `delivery`: 1 throughput, 2 fan-out, 3 steady load, 3b publish only, 4 faults, 5 backlog
//! - `floor`: 3c and 3d, the floors under a publish (a request, a commit)
//! - `scale`: 6, 10,000 webhooks and the stats over seeded attempt logs
//! - `tenants`: tenant B's side of the noisy-tenant scenarios, and 7 noisy neighbour,
//!   8 wide flood, 11 idle streams, 12 recover
//! - `unclaimable`: 9 parked backlog, 10 big delete, 13 saturated backlog
//! - `ingest`: 14 a GitHub source's ingest URL (steady and as fast as answered), 15 a
//!   storm of duplicate requests
//! - `relay`: 16 deliveries through `hookrelay listen` (steady, and a backlog drained)

mod delivery;
mod floor;
mod ingest;
mod relay;
mod scale;
mod tenants;
mod unclaimable;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use crate::harness::{fresh_database, quantile, Api, Hookrelay, TICKS_PER_SECOND};
use crate::receiver::{Faults, Receiver};
use crate::Args;
use delivery::{backlog, deliver};
use floor::{floor_api, floor_commit};
use ingest::{dupstorm, ingest, INGEST_STEADY, INGEST_THROUGHPUT};
use relay::relay;
use scale::scale;
use tenants::{flood, neighbour, recover, streams};
use unclaimable::{unclaimable, Harm};

#[derive(Debug, Default, Serialize, Clone)]
pub struct Row {
    pub scenario: String,
    pub events: u64,
    pub expected_deliveries: u64,
    pub delivered: u64,
    pub duplicates: u64,
    pub bad_signatures: u64,
    pub seconds: f64,
    pub deliveries_per_s: f64,
    pub publish_per_s: f64,
    pub publish_p50_ms: f64,
    pub publish_p99_ms: f64,
    pub e2e_p50_ms: f64,
    pub e2e_p95_ms: f64,
    pub e2e_p99_ms: f64,
    pub peak_rss_mib: f64,
    pub postgres_cpu_share: f64,
    /// CPU time of hookrelay's processes and of PostgreSQL (every `postgres` process on the
    /// machine) while the scenario ran, per delivery; 0 where not measured.
    pub cpu_ms_per_delivery: f64,
    pub notes: String,
}

enum Load {
    /// `clients` publishers, each sending its next event when the previous one is answered.
    Closed { clients: usize },
    /// A fixed rate, whatever the answers.
    Open { per_second: u64 },
}

struct Setup {
    name: &'static str,
    webhooks: usize,
    events: u64,
    load: Load,
    faults: Faults,
    env: Vec<(&'static str, String)>,
    retry_schedule: serde_json::Value,
}

impl Setup {
    /// A scenario without faults, on the default schedule.
    fn plain(name: &'static str, webhooks: usize, events: u64, load: Load) -> Setup {
        Setup {
            name,
            webhooks,
            events,
            load,
            faults: Faults::default(),
            env: vec![],
            retry_schedule: serde_json::Value::Null,
        }
    }
}

/// Every scenario, in the order `all` runs them.
const ALL: [&str; 18] = [
    "throughput",
    "fanout",
    "latency",
    "publish",
    "floor",
    "faults",
    "backlog",
    "scale",
    "neighbour",
    "flood",
    "parked",
    "delete",
    "streams",
    "recover",
    "saturated",
    "ingest",
    "dupstorm",
    "relay",
];

pub async fn run(args: Args) -> anyhow::Result<()> {
    let wanted: Vec<&str> = if args.scenarios.iter().any(|s| s == "all") {
        ALL.to_vec()
    } else {
        args.scenarios.iter().map(String::as_str).collect()
    };
    let mut rows = Vec::new();
    for name in wanted {
        eprintln!("== scenario {name}");
        run_scenario(&args, name, &mut rows).await?;
    }
    ingest::compare(&mut rows);
    print_table(&rows);
    write_results(&args, &rows)
}

/// Runs the scenario called `name` and adds its rows to `rows`, printing each as it comes.
async fn run_scenario(args: &Args, name: &str, rows: &mut Vec<Row>) -> anyhow::Result<()> {
    let scaled = |n: f64| ((n * args.scale).round() as u64).max(10);
    let row = match name {
        "throughput" => {
            deliver(args, Setup::plain("1 throughput", 1, scaled(50_000.0), Load::Closed { clients: 32 })).await?
        }
        "fanout" => {
            deliver(args, Setup::plain("2 fan-out x10", 10, scaled(10_000.0), Load::Closed { clients: 32 })).await?
        }
        "latency" => {
            let seconds = (60.0 * args.scale).max(5.0);
            let events = (200.0 * seconds) as u64;
            deliver(args, Setup::plain("3 steady 200/s", 1, events, Load::Open { per_second: 200 })).await?
        }
        "publish" => {
            // scenario 3 without its webhook: what the publish path alone costs
            let seconds = (60.0 * args.scale).max(5.0);
            let events = (200.0 * seconds) as u64;
            deliver(args, Setup::plain("3b publish only 200/s", 0, events, Load::Open { per_second: 200 })).await?
        }
        "floor" => {
            let seconds = (60.0 * args.scale).max(5.0);
            record(rows, floor_api(args, seconds).await?);
            floor_commit(args, seconds).await?
        }
        "faults" => {
            deliver(
                args,
                Setup {
                    faults: Faults { error_rate: 0.20, timeout_rate: 0.05, hang: Duration::from_millis(1500) },
                    env: vec![("HOOKRELAY_ATTEMPT_TIMEOUT", "1s".into()), ("HOOKRELAY_LEASE", "10s".into())],
                    retry_schedule: json!([1, 2, 3, 3, 3, 3, 3, 3]),
                    ..Setup::plain("4 faults 20%/5%", 1, scaled(5_000.0), Load::Closed { clients: 8 })
                },
            )
            .await?
        }
        "backlog" => backlog(args, scaled(100_000.0)).await?,
        "scale" => scale(args, scaled(2_000.0), scaled(5_000_000.0)).await?,
        "neighbour" => neighbour(args, (60.0 * args.scale).max(10.0)).await?,
        "flood" => flood(args, (60.0 * args.scale).max(10.0)).await?,
        "parked" => unclaimable(args, (60.0 * args.scale).max(10.0), scaled(500_000.0), Harm::Inactive).await?,
        "delete" => unclaimable(args, (60.0 * args.scale).max(10.0), scaled(500_000.0), Harm::Delete).await?,
        "streams" => streams(args, (60.0 * args.scale).max(10.0)).await?,
        "recover" => recover(args, (60.0 * args.scale).max(10.0), scaled(1_000_000.0)).await?,
        "saturated" => unclaimable(args, (60.0 * args.scale).max(10.0), scaled(500_000.0), Harm::Saturated).await?,
        "ingest" => {
            // scenario 3's steady rate, then scenario 1's 32 clients, through a source
            let seconds = (60.0 * args.scale).max(5.0);
            let events = (200.0 * seconds) as u64;
            record(rows, ingest(args, INGEST_STEADY, events, Load::Open { per_second: 200 }).await?);
            ingest(args, INGEST_THROUGHPUT, scaled(50_000.0), Load::Closed { clients: 32 }).await?
        }
        "dupstorm" => dupstorm(args, 100, 20).await?,
        "relay" => {
            // scenario 3's steady rate through a listener, then 10,000 waiting for one
            let seconds = (60.0 * args.scale).max(5.0);
            let (steady, backlog) = relay(args, (200.0 * seconds) as u64, scaled(10_000.0)).await?;
            record(rows, steady);
            backlog
        }
        other => anyhow::bail!("unknown scenario {other:?}; use {}", ALL.join(", ")),
    };
    record(rows, row);
    Ok(())
}

/// Prints a finished scenario's row and keeps it for the table.
fn record(rows: &mut Vec<Row>, row: Row) {
    print_row(&row);
    rows.push(row);
}

/// Writes the JSON results (the machine, the scale and every row) to `args.out`.
fn write_results(args: &Args, rows: &[Row]) -> anyhow::Result<()> {
    if let Some(dir) = std::path::Path::new(&args.out).parent() {
        std::fs::create_dir_all(dir)?;
    }
    let machine =
        format!("{} cores, {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), cpu_model());
    std::fs::write(
        &args.out,
        serde_json::to_string_pretty(&json!({"machine": machine, "scale": args.scale, "results": rows}))?,
    )?;
    eprintln!("results written to {}", args.out);
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn ms(d: &[f64], q: f64) -> f64 {
    (quantile(d, q) * 1000.0).round() / 1000.0
}

/// Publishes with `load` until `events` are accepted; returns sorted latencies (ms) and
/// the time publishing took.
async fn publish_all(api: &Api, event: &str, events: u64, load: &Load) -> (Vec<f64>, Duration) {
    let (api, event) = (api.clone(), Arc::<str>::from(event));
    drive(events, load, move |seq| {
        let (api, event) = (api.clone(), event.clone());
        async move { api.publish(&event, seq).await }
    })
    .await
}

/// Calls `send` for every number below `events` with `load`; returns the sorted latencies
/// (ms) of the calls that succeeded and the time it took. A failed call is printed.
async fn drive<F, Fut>(events: u64, load: &Load, send: F) -> (Vec<f64>, Duration)
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<Duration>> + Send + 'static,
{
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    match load {
        Load::Closed { clients } => {
            for _ in 0..*clients {
                let (send, next) = (send.clone(), next.clone());
                tasks.spawn(async move {
                    let mut lat = Vec::new();
                    loop {
                        let seq = next.fetch_add(1, Ordering::Relaxed);
                        if seq >= events {
                            return lat;
                        }
                        match send(seq).await {
                            Ok(d) => lat.push(d.as_secs_f64() * 1000.0),
                            Err(e) => eprintln!("request failed: {e:#}"),
                        }
                    }
                });
            }
        }
        Load::Open { per_second } => {
            let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / per_second));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            for seq in 0..events {
                tick.tick().await;
                let call = send(seq);
                tasks.spawn(async move {
                    match call.await {
                        Ok(d) => vec![d.as_secs_f64() * 1000.0],
                        Err(e) => {
                            eprintln!("request failed: {e:#}");
                            vec![]
                        }
                    }
                });
            }
        }
    }
    let mut all = Vec::new();
    while let Some(Ok(lat)) = tasks.join_next().await {
        all.extend(lat);
    }
    let took = started.elapsed();
    all.sort_by(f64::total_cmp);
    (all, took)
}

async fn wait_delivered(receiver: &Receiver, expected: u64, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while receiver.unique.load(Ordering::Relaxed) < expected {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

async fn start_service(
    args: &Args,
    name: &str,
    env: &[(&str, String)],
) -> anyhow::Result<(String, Hookrelay, Vec<Hookrelay>)> {
    let db = fresh_database(&args.database_url, name).await?;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let main = Hookrelay::start(&args.hookrelay, &db, "all", &env)?;
    main.wait_ready().await?;
    let mut extra = Vec::new();
    for _ in 0..args.extra_dispatchers {
        let d = Hookrelay::start(&args.hookrelay, &db, "dispatcher", &env)?;
        d.wait_ready().await?;
        extra.push(d);
    }
    Ok((db, main, extra))
}

/// Stops what `start_service` started: the main process, then the extra dispatchers.
fn stop_service(main: Hookrelay, extra: Vec<Hookrelay>) {
    main.stop();
    for d in extra {
        d.stop();
    }
}

/// Gives `receiver` the secret of `webhook` (as the API answered its creation), so that it
/// verifies the signatures of the deliveries to its endpoint `index`.
fn register_secret(receiver: &Receiver, index: usize, webhook: &serde_json::Value) {
    if let Ok(mut secrets) = receiver.secrets.lock() {
        secrets.insert(index, webhook["secret"].as_str().unwrap_or_default().to_owned());
    }
}

/// End-to-end latencies as the receiver tallies them (µs), sorted and in ms.
fn sorted_ms(mut us: Vec<u64>) -> Vec<f64> {
    us.sort_unstable();
    us.iter().map(|us| *us as f64 / 1000.0).collect()
}

/// CPU milliseconds per item, to 0.01 ms.
fn cpu_ms_per(ticks: u64, items: u64) -> f64 {
    if items == 0 {
        return 0.0;
    }
    (ticks as f64 / TICKS_PER_SECOND * 1000.0 / items as f64 * 100.0).round() / 100.0
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 1000.0).round() / 1000.0
    }
}

fn print_row(r: &Row) {
    eprintln!("{}", serde_json::to_string(r).unwrap_or_default());
}

fn print_table(rows: &[Row]) {
    println!(
        "| scenario | events | deliveries | dup | deliveries/s | publish/s | publish p50/p99 ms | e2e p50/p95/p99 ms | peak RSS MiB | PG CPU | CPU ms/delivery | notes |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {}/{} | {} | {:.0} | {:.0} | {:.2} / {:.2} | {:.2} / {:.2} / {:.2} | {:.1} | {:.0}% | {:.2} | {} |",
            r.scenario,
            r.events,
            r.delivered,
            r.expected_deliveries,
            r.duplicates,
            r.deliveries_per_s,
            r.publish_per_s,
            r.publish_p50_ms,
            r.publish_p99_ms,
            r.e2e_p50_ms,
            r.e2e_p95_ms,
            r.e2e_p99_ms,
            r.peak_rss_mib,
            r.postgres_cpu_share * 100.0,
            r.cpu_ms_per_delivery,
            r.notes
        );
    }
}
