//! Scenario 16: deliveries through `hookrelay listen` (SPEC "Local relay") — a relay
//! webhook whose one listener, the real binary, forwards to the receiver: a steady
//! 200 events/s (end-to-end latency, CPU per delivery with the listener's own), then a
//! backlog published while no listener runs, drained once one starts.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{cpu_ms_per, ms, publish_all, register_secret, share, sorted_ms, start_service, stop_service};
use super::{wait_delivered, Load, Row};
use crate::harness::{postgres_cpu_ticks, process_cpu_ticks, total_cpu_ticks, Api, Hookrelay};
use crate::receiver::Receiver;
use crate::Args;

pub(super) const RELAY_STEADY: &str = "16 relay 200/s";
pub(super) const RELAY_BACKLOG: &str = "16 relay backlog";

/// A running `hookrelay listen`.
struct Listener(Child);

impl Listener {
    fn start(args: &Args, api: &Api, webhook: &str, forward_to: &str) -> anyhow::Result<Listener> {
        let child = Command::new(&args.hookrelay)
            .args(["listen", "--webhook", webhook, "--forward-to", forward_to])
            .env("HOOKRELAY_API_URL", &api.base)
            .env("HOOKRELAY_API_KEY", &api.token)
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        Ok(Listener(child))
    }

    fn cpu_ticks(&self) -> u64 {
        process_cpu_ticks(self.0.id())
    }

    /// Ctrl-C, as a developer stops it: it hands back what it holds.
    fn stop(mut self) {
        let _ = Command::new("kill").args(["-INT", &self.0.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until the relay webhook `id` has a listener.
async fn connected(api: &Api, id: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let (_, status) = api.get_json(&format!("/api/v1/relay/webhooks/{id}")).await?;
        if status["connected"] == true {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("no listener connected to relay webhook {id} in 30 s")
}

/// Scenario 16: `steady` events at 200/s through a listener, then `backlog` events
/// published by 32 clients while no listener runs, drained by a listener started after.
pub(super) async fn relay(args: &Args, steady: u64, backlog: u64) -> anyhow::Result<(Row, Row)> {
    let (_db, hookrelay, extra) = start_service(args, "relay", &[]).await?;
    let api = Api::sign_up(&hookrelay.base).await?;
    let receiver = Receiver::start()?;
    let (status, w) = api
        .post(
            "/api/v1/webhooks",
            json!({"name": "bench relay", "kind": "relay", "events": ["bench.*"], "rateLimitPerMinute": null,
                "maxConcurrency": 100}),
        )
        .await?;
    anyhow::ensure!(status == 201, "creating a relay webhook: {status} {w}");
    register_secret(&receiver, 0, &w);
    let id = w["id"].as_str().unwrap_or_default().to_owned();
    let hookrelay_ticks = || hookrelay.cpu_ticks() + extra.iter().map(Hookrelay::cpu_ticks).sum::<u64>();

    let listener = Listener::start(args, &api, &id, &receiver.url(0))?;
    connected(&api, &id).await?;
    let (pg0, cpu0, own0, cli0) = (postgres_cpu_ticks(), total_cpu_ticks(), hookrelay_ticks(), listener.cpu_ticks());
    let started = Instant::now();
    let (publish, took) = publish_all(&api, "bench.event", steady, &Load::Open { per_second: 200 }).await;
    let complete = wait_delivered(&receiver, steady, Duration::from_secs(120 + steady / 100)).await;
    let seconds = started.elapsed().as_secs_f64();
    let (pg1, cpu1, own1, cli1) = (postgres_cpu_ticks(), total_cpu_ticks(), hookrelay_ticks(), listener.cpu_ticks());
    listener.stop();
    let delivered = receiver.unique.load(Ordering::Relaxed);
    let (e2e, bad_signatures) =
        receiver.tally.lock().map(|t| (sorted_ms(t.latencies_us.clone()), t.bad_signatures)).unwrap_or_default();
    let (own, pg, cli) = (
        cpu_ms_per(own1 - own0, delivered),
        cpu_ms_per(pg1.saturating_sub(pg0), delivered),
        cpu_ms_per(cli1 - cli0, delivered),
    );
    let mut notes =
        format!("hookrelay {own:.2} + PostgreSQL {pg:.2} ms; the listener {cli:.2} ms (not in the CPU column)");
    if !complete {
        notes.push_str(&format!("; INCOMPLETE: {delivered} of {steady} delivered"));
    }
    let steady_row = Row {
        scenario: RELAY_STEADY.into(),
        events: steady,
        expected_deliveries: steady,
        delivered,
        bad_signatures,
        seconds,
        deliveries_per_s: delivered as f64 / seconds,
        publish_per_s: publish.len() as f64 / took.as_secs_f64(),
        publish_p50_ms: ms(&publish, 0.50),
        publish_p99_ms: ms(&publish, 0.99),
        e2e_p50_ms: ms(&e2e, 0.50),
        e2e_p95_ms: ms(&e2e, 0.95),
        e2e_p99_ms: ms(&e2e, 0.99),
        peak_rss_mib: hookrelay.peak_rss_mib(),
        postgres_cpu_share: share(pg1.saturating_sub(pg0), cpu1 - cpu0),
        cpu_ms_per_delivery: cpu_ms_per(own1 - own0 + pg1.saturating_sub(pg0), delivered),
        notes,
        ..Row::default()
    };

    // the laptop sleeps: a backlog piles up, then a listener drains it
    let (publish, _) = publish_all(&api, "bench.event", backlog, &Load::Closed { clients: 32 }).await;
    let expected = steady + publish.len() as u64;
    let (pg0, cpu0, own0) = (postgres_cpu_ticks(), total_cpu_ticks(), hookrelay_ticks());
    let started = Instant::now();
    let listener = Listener::start(args, &api, &id, &receiver.url(0))?;
    let complete = wait_delivered(&receiver, expected, Duration::from_secs(120 + backlog / 100)).await;
    let seconds = started.elapsed().as_secs_f64();
    let (pg1, cpu1, own1, cli) = (postgres_cpu_ticks(), total_cpu_ticks(), hookrelay_ticks(), listener.cpu_ticks());
    listener.stop();
    let drained = receiver.unique.load(Ordering::Relaxed) - delivered;
    let mut notes = format!(
        "drained from the listener's start; hookrelay {:.2} + PostgreSQL {:.2} ms; the listener {:.2} ms",
        cpu_ms_per(own1 - own0, drained),
        cpu_ms_per(pg1.saturating_sub(pg0), drained),
        cpu_ms_per(cli, drained)
    );
    if !complete {
        notes.push_str(&format!("; INCOMPLETE: {drained} of {} drained", expected - steady));
    }
    let backlog_row = Row {
        scenario: RELAY_BACKLOG.into(),
        events: expected - steady,
        expected_deliveries: expected - steady,
        delivered: drained,
        bad_signatures: receiver.tally.lock().map(|t| t.bad_signatures).unwrap_or_default(),
        seconds,
        deliveries_per_s: drained as f64 / seconds,
        peak_rss_mib: hookrelay.peak_rss_mib(),
        postgres_cpu_share: share(pg1.saturating_sub(pg0), cpu1 - cpu0),
        cpu_ms_per_delivery: cpu_ms_per(own1 - own0 + pg1.saturating_sub(pg0), drained),
        notes,
        ..Row::default()
    };
    stop_service(hookrelay, extra);
    Ok((steady_row, backlog_row))
}
