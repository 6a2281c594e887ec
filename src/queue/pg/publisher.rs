//! Group commit for publishes. A publish is durable only once its transaction's WAL is
//! flushed, and on a small machine PostgreSQL spends more on each statement and commit
//! than on the rows themselves. So plain publishes (fan-out, no idempotency key) go
//! through a few writer tasks, each writing whatever has queued up while it was busy as
//! one statement: under load one commit serves dozens of publishes, and an idle system
//! still writes each publish at once. Two writers let a publish that arrives while one
//! batch commits start the next batch at once instead of waiting for it. Every caller
//! is answered only after the commit that holds its event, so the API's 202 still means
//! "stored".
//!
//! A publish that fans out to many webhooks makes a big statement, and every publish in
//! the same batch waits for it: one tenant with 10,000 webhooks held other tenants'
//! publishes for a second. So publishes of tenants whose last publish made at least
//! [`LARGE_FANOUT`] deliveries go to a writer of their own, a few per statement; the
//! others keep the two writers above. (A tenant's first large publish still goes with the
//! small ones: its fan-out is learnt from the answer.)
//!
//! Verified inbound requests (`api::ingest`) take a lane of their own, two writers like
//! the small publishes, whose statement also takes each request's dedupe key (`ingest`):
//! a provider's burst is written as a few commits, not one per request.
//!
//! A batch of one publish (or inbound request) written while this process's dispatcher
//! waits for work is followed, on the same connection and in the same round trip, by a
//! claim for that dispatcher, whose deliveries are handed over in memory (the [`Intake`]
//! of `dispatch::intake`). The publish is answered at its commit, without waiting for
//! the claim. The writers (`writer`), not the callers, wake the dispatchers, once the
//! claim has answered, and only for publishes whose deliveries it did not all take.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::anyhow;
use diesel_async::AsyncPgConnection;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::ingest::{InboundJob, Inbounds};
use super::wake::Wakeup;
use super::writer::{fail_all, refused_by_database, Handing, Statement, Writer};
use crate::db::events::{insert_many, Event, Plain};
use crate::db::inbound::{Accepted, Verified};
use crate::domain::ids::{EventId, TenantId};
use crate::queue::Intake;
use crate::secrets::Sealer;

/// Most publishes in one statement.
const MAX_BATCH: usize = 256;
/// Most publishes of large fan-out in one statement.
const MAX_LARGE_BATCH: usize = 4;
/// Deliveries per publish from which a tenant's publishes take the large lane.
pub const LARGE_FANOUT: i32 = 500;
/// Batches of small publishes being written at once (and as many of inbound requests,
/// and one more of large publishes).
const WRITERS: usize = 2;
/// The writers' connections: one each.
pub const CONNECTIONS: usize = 2 * WRITERS + 1;
/// Publishes waiting for their batch; a full queue makes callers wait (backpressure).
const QUEUE: usize = 4 * MAX_BATCH;

/// The writers' connections run only `insert_many` and `inbound::accept_many`, whose one
/// right plan is known: look webhooks up through the `match_keys` index, insert the rest.
/// Left to choose, PostgreSQL planned it afresh on every run (a custom plan for each set
/// of arrays: 0.48 ms, more than the 0.31 ms it took to execute). A generic plan, with
/// sequential scans ruled out so that a plan made while `webhooks` was small still uses
/// the index when it is not, is planned once per connection (and again after each
/// ANALYZE). The claims that follow single publishes need READ COMMITTED
/// (`queue::pg::CLAIM_SETTINGS`), and so does the dedupe of inbound requests (a copy
/// waits for the first's commit instead of failing to serialise).
const WRITER_SETTINGS: &str = "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; \
                               SET default_transaction_isolation = 'read committed'";

struct Job {
    plain: Plain,
    /// answered with the stored event, its number of deliveries set
    done: oneshot::Sender<anyhow::Result<Event>>,
}

#[derive(Clone)]
pub struct Publisher {
    small: mpsc::Sender<Job>,
    large: mpsc::Sender<Job>,
    inbound: mpsc::Sender<InboundJob>,
    lanes: Arc<Lanes>,
}

/// Which tenants' publishes take the large lane, from their last publish's fan-out.
#[derive(Default)]
pub struct Lanes(std::sync::Mutex<HashMap<TenantId, i32>>);

impl Lanes {
    pub fn is_large(&self, tenant: TenantId) -> bool {
        self.0.lock().map(|m| m.get(&tenant).is_some_and(|n| *n >= LARGE_FANOUT)).unwrap_or(false)
    }

    pub fn learn(&self, tenant: TenantId, deliveries: i32) {
        if let Ok(mut m) = self.0.lock() {
            if deliveries >= LARGE_FANOUT {
                m.insert(tenant, deliveries);
            } else {
                m.remove(&tenant);
            }
        }
    }
}

impl Publisher {
    /// Starts the writer tasks, with [`CONNECTIONS`] of their own; they end once every
    /// `Publisher` clone is dropped and the queues are written. With `intake` (this
    /// process runs a dispatcher), single publishes claim for it; `sealer` opens the secrets
    /// of what they claim. `wakeup` is told of every stored delivery not claimed so.
    pub fn spawn(
        database_url: &str,
        intake: Option<Arc<dyn Intake>>,
        sealer: Arc<Sealer>,
        wakeup: Wakeup,
    ) -> anyhow::Result<Publisher> {
        let pool = crate::db::build_pool_with(database_url, CONNECTIONS, WRITER_SETTINGS)?;
        let lanes = Arc::new(Lanes::default());
        let handing = intake.map(|intake| Handing { intake, sealer });
        let plains = Arc::new(Plains { lanes: lanes.clone() });
        let lane = Lane { pool: &pool, wakeup: &wakeup };
        let small = lane.spawn(WRITERS, MAX_BATCH, plains.clone(), handing.clone());
        let large = lane.spawn(1, MAX_LARGE_BATCH, plains, None);
        let inbound = lane.spawn(WRITERS, MAX_BATCH, Arc::new(Inbounds), handing);
        Ok(Publisher { small, large, inbound, lanes })
    }

    /// Stores the event and its deliveries; answers once they are committed, with the
    /// event's number of deliveries. The dispatchers are woken for them.
    pub async fn publish(&self, plain: Plain) -> anyhow::Result<Event> {
        let (done, answer) = oneshot::channel();
        let lane = if self.lanes.is_large(TenantId(plain.event.tenant_id)) { &self.large } else { &self.small };
        lane.send(Job { plain, done }).await.map_err(|_| anyhow!("the publish writer has stopped"))?;
        answer.await.map_err(|_| anyhow!("the publish writer stopped before answering"))?
    }

    /// Accepts a verified inbound request (`db::inbound::accept_many`): its event and
    /// deliveries stored, or it stored as a duplicate; answers once that is committed.
    pub async fn ingest(&self, verified: Verified) -> anyhow::Result<Accepted> {
        let (done, answer) = oneshot::channel();
        let job = InboundJob { verified, done };
        self.inbound.send(job).await.map_err(|_| anyhow!("the ingest writer has stopped"))?;
        answer.await.map_err(|_| anyhow!("the ingest writer stopped before answering"))?
    }
}

/// What the writers of every lane share.
struct Lane<'a> {
    pool: &'a crate::db::PgPool,
    wakeup: &'a Wakeup,
}

impl Lane<'_> {
    /// Starts `writers` writers of `statement` on one queue, and returns its sender.
    fn spawn<S: Statement>(
        &self,
        writers: usize,
        max_batch: usize,
        statement: Arc<S>,
        handing: Option<Handing>,
    ) -> mpsc::Sender<S::Job> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers {
            let writer = Writer {
                pool: self.pool.clone(),
                max_batch,
                statement: statement.clone(),
                handing: handing.clone(),
                wakeup: self.wakeup.clone(),
            };
            tokio::spawn(writer.run(rx.clone()));
        }
        tx
    }
}

/// The statement of plain publishes: `events::insert_many`.
struct Plains {
    lanes: Arc<Lanes>,
}

impl Statement for Plains {
    type Job = Job;

    async fn write(&self, conn: &AsyncPgConnection, batch: Vec<Job>) -> Vec<(EventId, i32)> {
        let (batch, answers): (Vec<Plain>, Vec<_>) = batch.into_iter().map(|j| (j.plain, j.done)).unzip();
        let ids: Vec<EventId> = batch.iter().map(|p| EventId(p.event.id)).collect();
        let written = insert_many(conn, &batch).await.map_err(anyhow::Error::from);
        let counts = self.answer(conn, batch, answers, written).await;
        ids.into_iter().zip(counts).collect()
    }

    fn fail(&self, err: &anyhow::Error, batch: Vec<Job>) {
        fail_all(err, "publishes", batch.into_iter().map(|j| j.done).collect());
    }
}

impl Plains {
    /// Answers the callers of a written batch; returns each publish's number of stored
    /// deliveries (0 for one that failed). A refused batch is written again one by one on
    /// `conn`, the batch's own connection: taking another could wait on writers that each
    /// hold one.
    async fn answer(
        &self,
        conn: &AsyncPgConnection,
        batch: Vec<Plain>,
        answers: Vec<oneshot::Sender<anyhow::Result<Event>>>,
        written: anyhow::Result<Vec<i32>>,
    ) -> Vec<i32> {
        match written {
            Ok(counts) => {
                for ((answer, plain), &n) in answers.into_iter().zip(batch).zip(&counts) {
                    self.lanes.learn(TenantId(plain.event.tenant_id), n);
                    // a caller that went away no longer needs its answer
                    let _ = answer.send(Ok(Event { deliveries: n, ..plain.event }));
                }
                counts
            }
            Err(err) if batch.len() > 1 && refused_by_database(&err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    publishes = batch.len(),
                    "a publish batch was refused; writing it one by one"
                );
                let mut counts = Vec::with_capacity(batch.len());
                for (answer, plain) in answers.into_iter().zip(batch) {
                    let result = insert_many(conn, std::slice::from_ref(&plain)).await.map_err(anyhow::Error::from);
                    let n = result.as_ref().ok().and_then(|c| c.first().copied()).unwrap_or_default();
                    counts.push(n);
                    let _ = answer.send(result.map(|_| Event { deliveries: n, ..plain.event }));
                }
                counts
            }
            Err(err) => {
                let n = answers.len();
                fail_all(&err, "publishes", answers);
                vec![0; n]
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_takes_the_large_lane_after_a_large_fan_out_and_leaves_it_after_a_small_one() {
        let lanes = Lanes::default();
        let (big, small) = (TenantId(uuid::Uuid::now_v7()), TenantId(uuid::Uuid::now_v7()));
        assert!(!lanes.is_large(big), "unknown tenants go with the small publishes");
        lanes.learn(big, LARGE_FANOUT);
        lanes.learn(small, LARGE_FANOUT - 1);
        assert!(lanes.is_large(big));
        assert!(!lanes.is_large(small));
        lanes.learn(big, 3);
        assert!(!lanes.is_large(big));
    }
}
