//! hookrelay's benchmark: starts hookrelay on a fresh database of the given PostgreSQL
//! server, a fast receiver and a load generator, runs the scenarios of issue 5 and prints
//! one table (also written as JSON). Run it through `scripts/bench`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark that fails should stop loudly

mod harness;
mod receiver;
mod scenarios;

use clap::Parser;

/// The same allocator as hookrelay's: the receiver and the load generator share the two
/// cores with hookrelay and PostgreSQL, and should take as little of them as they can.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Clone)]
#[command(about = "hookrelay benchmark")]
pub struct Args {
    /// Scenarios to run: throughput, fanout, latency, publish, floor, faults, backlog, scale,
    /// neighbour, flood, parked, delete, streams, recover, saturated, ingest, dupstorm, relay, or all.
    #[arg(default_value = "all")]
    pub scenarios: Vec<String>,
    /// The hookrelay binary to benchmark.
    #[arg(long, default_value = "target/release/hookrelay")]
    pub hookrelay: String,
    /// Server-level PostgreSQL URL; each scenario gets a fresh database on it.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Multiplies every event count, and the steady-load scenario's 60 s (e.g. 0.01 for a
    /// smoke run, 10 for ten minutes of steady load).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Where the JSON results go.
    #[arg(long, default_value = ".bench/results.json")]
    pub out: String,
    /// Extra hookrelay processes running only the dispatcher role.
    #[arg(long, default_value_t = 0)]
    pub extra_dispatchers: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(scenarios::run(args))
}
