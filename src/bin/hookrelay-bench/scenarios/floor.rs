//! Scenarios 3c and 3d: the floors under a publish at scenario 3's rate — what hookrelay
//! spends on a request that does no work, and what PostgreSQL spends on one commit.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{cpu_ms_per, ms, share, start_service, Row};
use crate::harness::{fresh_database, postgres_cpu_ticks, sql, total_cpu_ticks, Api};
use crate::Args;

/// Scenario 3c: what hookrelay spends on a request that does no work (`GET /health`, no
/// database) at scenario 3's rate, one at a time: the floor under every publish. The CPU
/// column is hookrelay's alone, per request.
pub(super) async fn floor_api(args: &Args, seconds: f64) -> anyhow::Result<Row> {
    let (_db, hookrelay, _extra) = start_service(args, "floorapi", &[]).await?;
    let api = Api::sign_up(&hookrelay.base).await?;
    let requests = (200.0 * seconds) as u64;
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    let mut took = Vec::with_capacity(requests as usize);
    let (pg0, cpu0, own0) = (postgres_cpu_ticks(), total_cpu_ticks(), hookrelay.cpu_ticks());
    let started = Instant::now();
    for _ in 0..requests {
        tick.tick().await;
        let (status, t) = api.get("/health").await?;
        anyhow::ensure!(status == 200, "GET /health answered {status}");
        took.push(t.as_secs_f64() * 1000.0);
    }
    let elapsed = started.elapsed();
    let (pg1, cpu1, own1) = (postgres_cpu_ticks(), total_cpu_ticks(), hookrelay.cpu_ticks());
    let peak = hookrelay.peak_rss_mib();
    hookrelay.stop();
    let mut row = floor_row("3c floor: GET /health 200/s", took, elapsed, own1 - own0);
    row.peak_rss_mib = peak;
    row.postgres_cpu_share = share(pg1.saturating_sub(pg0), cpu1 - cpu0);
    row.notes = "hookrelay's CPU ms per request; requests in the publish columns".into();
    Ok(row)
}

/// Scenario 3d: what PostgreSQL spends on the least a durable publish needs, one
/// single-row INSERT committed on its own, at scenario 3's rate over one connection (the
/// benchmark's, without TLS). The CPU column is PostgreSQL's alone, per commit.
pub(super) async fn floor_commit(args: &Args, seconds: f64) -> anyhow::Result<Row> {
    let db = fresh_database(&args.database_url, "floorpg").await?;
    let client = sql(&db).await?;
    client
        .batch_execute(
            "CREATE TABLE floor (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), body text NOT NULL, \
             at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    let insert = client.prepare("INSERT INTO floor (body) VALUES ($1)").await?;
    let body = json!({"event": "bench.event", "data": {"t": 0, "seq": 0}}).to_string();
    let commits = (200.0 * seconds) as u64;
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    let mut took = Vec::with_capacity(commits as usize);
    let (pg0, cpu0) = (postgres_cpu_ticks(), total_cpu_ticks());
    let started = Instant::now();
    for _ in 0..commits {
        tick.tick().await;
        let t = Instant::now();
        client.execute(&insert, &[&body]).await?;
        took.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let elapsed = started.elapsed();
    let (pg1, cpu1) = (postgres_cpu_ticks(), total_cpu_ticks());
    let mut row = floor_row("3d floor: one-row INSERT 200/s", took, elapsed, pg1.saturating_sub(pg0));
    row.postgres_cpu_share = share(pg1.saturating_sub(pg0), cpu1 - cpu0);
    row.notes = "PostgreSQL's CPU ms per commit, no TLS; commits in the publish columns".into();
    Ok(row)
}

/// A floor scenario's row: its operations (latencies in ms) in the publish columns, and
/// `ticks` of CPU per operation in the CPU column.
fn floor_row(scenario: &str, mut took: Vec<f64>, elapsed: Duration, ticks: u64) -> Row {
    took.sort_by(f64::total_cmp);
    let n = took.len() as u64;
    Row {
        scenario: scenario.into(),
        events: n,
        seconds: elapsed.as_secs_f64(),
        publish_per_s: n as f64 / elapsed.as_secs_f64(),
        publish_p50_ms: ms(&took, 0.5),
        publish_p99_ms: ms(&took, 0.99),
        cpu_ms_per_delivery: cpu_ms_per(ticks, n),
        ..Row::default()
    }
}
