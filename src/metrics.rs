//! Prometheus metrics, kept per service instance (so that tests running several services
//! in one process do not share counters) and rendered in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Attempt latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Claim batch size buckets.
const BATCH_BUCKETS: [f64; 8] = [0.0, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0];

struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    /// sum in millionths, to stay in integers
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    fn observe(&self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|b| value <= *b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_micros.fetch_add((value * 1e6) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

pub struct Metrics {
    attempts: Mutex<BTreeMap<(&'static str, String), u64>>,
    latency: Histogram,
    claim_batch: Histogram,
    events_published: AtomicU64,
    deliveries_created: AtomicU64,
    stream_reads: AtomicU64,
    /// Rejected ingest requests beyond the request log's cap, counted only.
    inbound_unlogged: AtomicU64,
    /// (pending deliveries, age of the oldest due one in seconds), refreshed in the
    /// background (see [`refresh_queue_gauges`]); None until the first refresh.
    queue: Mutex<Option<(i64, f64)>>,
}

/// Values read at scrape time: the queue's as last refreshed, the pool's now.
pub struct Gauges {
    pub deliveries_pending: i64,
    pub oldest_due_age_seconds: f64,
    pub pool_size: usize,
    pub pool_available: usize,
    pub pool_max: usize,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            attempts: Mutex::new(BTreeMap::new()),
            latency: Histogram::new(&LATENCY_BUCKETS),
            claim_batch: Histogram::new(&BATCH_BUCKETS),
            events_published: AtomicU64::new(0),
            deliveries_created: AtomicU64::new(0),
            stream_reads: AtomicU64::new(0),
            inbound_unlogged: AtomicU64::new(0),
            queue: Mutex::new(None),
        }
    }
}

/// Keeps the queue gauges fresh every `every` until `shutdown`. A scrape then reads
/// memory only: counting the pending deliveries takes a third of a second at a million,
/// and anyone may scrape as often as they like.
pub async fn refresh_queue_gauges(
    metrics: std::sync::Arc<Metrics>,
    pool: crate::db::PgPool,
    every: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    loop {
        let read = match pool.get().await {
            Ok(mut conn) => crate::queue::pg::gauges(&mut conn).await.map_err(anyhow::Error::from),
            Err(err) => Err(anyhow::anyhow!("database pool: {err}")),
        };
        match read {
            Ok(g) => {
                if let Ok(mut queue) = metrics.queue.lock() {
                    *queue = Some(g);
                }
            }
            Err(err) => tracing::debug!(error = format!("{err:#}"), "queue gauges not refreshed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

impl Metrics {
    pub fn attempt(&self, error_kind: Option<&str>, seconds: f64) {
        let outcome = if error_kind.is_some() { "failure" } else { "success" };
        let kind = error_kind.unwrap_or("none").to_owned();
        if let Ok(mut attempts) = self.attempts.lock() {
            *attempts.entry((outcome, kind)).or_default() += 1;
        }
        self.latency.observe(seconds);
    }

    pub fn claimed(&self, batch: usize) {
        self.claim_batch.observe(batch as f64);
    }

    /// The queue gauges as last refreshed: (-1, -1) before the first refresh.
    pub fn queue_gauges(&self) -> (i64, f64) {
        self.queue.lock().ok().and_then(|q| *q).unwrap_or((-1, -1.0))
    }

    pub fn published(&self, deliveries: i32) {
        self.events_published.fetch_add(1, Ordering::Relaxed);
        self.deliveries_created.fetch_add(u64::try_from(deliveries).unwrap_or(0), Ordering::Relaxed);
    }

    /// A read of the attempt log for the live streams (the hub's, or a stream catching up).
    pub fn stream_read(&self) {
        self.stream_reads.fetch_add(1, Ordering::Relaxed);
    }

    /// A rejected ingest request that the request log's per-minute cap left out.
    pub fn inbound_rejected_unlogged(&self) {
        self.inbound_unlogged.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP hookrelay_attempts_total Delivery attempts made by this process, by outcome and error kind.\n",
        );
        out.push_str("# TYPE hookrelay_attempts_total counter\n");
        if let Ok(attempts) = self.attempts.lock() {
            for ((outcome, kind), n) in attempts.iter() {
                let _ = writeln!(out, "hookrelay_attempts_total{{outcome=\"{outcome}\",error_kind=\"{kind}\"}} {n}");
            }
        }
        self.latency.render(&mut out, "hookrelay_attempt_duration_seconds", "Duration of delivery attempts.");
        self.claim_batch.render(&mut out, "hookrelay_claim_batch_size", "Deliveries leased per claim.");
        let counters = [
            ("hookrelay_events_published_total", "Events accepted by this process.", &self.events_published),
            (
                "hookrelay_deliveries_created_total",
                "Deliveries created by this process's publishes.",
                &self.deliveries_created,
            ),
            (
                "hookrelay_stream_reads_total",
                "Reads of the attempt log for this process's live streams.",
                &self.stream_reads,
            ),
            (
                "hookrelay_inbound_rejected_unlogged_total",
                "Rejected ingest requests not stored in the request log (over 60 per source per minute).",
                &self.inbound_unlogged,
            ),
        ];
        for (name, help, value) in counters {
            let _ =
                writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", value.load(Ordering::Relaxed));
        }
        let gauges = [
            (
                "hookrelay_deliveries_pending",
                "Deliveries waiting for an attempt (all tenants).",
                g.deliveries_pending as f64,
            ),
            (
                "hookrelay_oldest_due_delivery_age_seconds",
                "How long the oldest due delivery has waited.",
                g.oldest_due_age_seconds,
            ),
            ("hookrelay_db_pool_connections", "Open connections in this process's pool.", g.pool_size as f64),
            ("hookrelay_db_pool_available", "Idle connections in this process's pool.", g.pool_available as f64),
            ("hookrelay_db_pool_max", "Pool size limit.", g.pool_max as f64),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.attempt(None, 0.003);
        m.attempt(Some("timeout"), 2.0);
        m.claimed(7);
        let g = Gauges {
            deliveries_pending: 3,
            oldest_due_age_seconds: 1.5,
            pool_size: 2,
            pool_available: 1,
            pool_max: 16,
        };
        let text = m.render(&g);
        assert!(text.contains("hookrelay_attempts_total{outcome=\"success\",error_kind=\"none\"} 1"));
        assert!(text.contains("hookrelay_attempts_total{outcome=\"failure\",error_kind=\"timeout\"} 1"));
        assert!(text.contains("hookrelay_attempt_duration_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("hookrelay_attempt_duration_seconds_bucket{le=\"2.5\"} 2"));
        assert!(text.contains("hookrelay_attempt_duration_seconds_count 2"));
        assert!(text.contains("hookrelay_claim_batch_size_bucket{le=\"10\"} 1"));
        assert!(text.contains("hookrelay_deliveries_pending 3"));
    }
}
