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
//! A publish written alone while this process's dispatcher waits for work is followed, on
//! the same connection and in the same round trip, by a claim for that dispatcher, whose
//! deliveries are handed over in memory (the [`Intake`] of `dispatch::intake`). The publish is answered at
//! its commit, without waiting for the claim. The writers, not the callers, wake the
//! dispatchers, once the claim has answered, and only for publishes whose deliveries it
//! did not all take.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use diesel_async::AsyncPgConnection;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::wake::Wakeup;
use crate::db::events::{insert_many, Event, Plain};
use crate::db::PgPool;
use crate::domain::ids::{EventId, TenantId};
use crate::queue::{Claim, Intake, Leased};
use crate::secrets::Sealer;

/// Publishes in one statement beyond which no claim follows it: batches grow when the
/// load does, and then the dispatcher's own claims serve many deliveries each.
const MOST_PUBLISHES: usize = 1;

/// Most publishes in one statement.
const MAX_BATCH: usize = 256;
/// Most publishes of large fan-out in one statement.
const MAX_LARGE_BATCH: usize = 4;
/// Deliveries per publish from which a tenant's publishes take the large lane.
pub const LARGE_FANOUT: i32 = 500;
/// Batches of small publishes being written at once (and one more of large ones).
const WRITERS: usize = 2;
/// Publishes waiting for their batch; a full queue makes callers wait (backpressure).
const QUEUE: usize = 4 * MAX_BATCH;

/// The writers' connections run only `insert_many`, whose one right plan is known: look
/// webhooks up through the `match_keys` index, insert the rest. Left to choose, PostgreSQL
/// planned it afresh on every run (a custom plan for each set of arrays: 0.48 ms, more
/// than the 0.31 ms it took to execute). A generic plan, with sequential scans ruled out so
/// that a plan made while `webhooks` was small still uses the index when it is not, is
/// planned once per connection (and again after each ANALYZE). The claims that follow
/// single publishes need READ COMMITTED (`queue::pg::CLAIM_SETTINGS`).
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
    /// Starts the writer tasks, with connections of their own; they end once every
    /// `Publisher` clone is dropped and the queues are written. With `intake` (this
    /// process runs a dispatcher), single publishes claim for it; `sealer` opens the secrets
    /// of what they claim. `wakeup` is told of every stored delivery not claimed so.
    pub fn spawn(
        database_url: &str,
        intake: Option<Arc<dyn Intake>>,
        sealer: Arc<Sealer>,
        wakeup: Wakeup,
    ) -> anyhow::Result<Publisher> {
        let pool = crate::db::build_pool_with(database_url, WRITERS + 1, WRITER_SETTINGS)?;
        let lanes = Arc::new(Lanes::default());
        let (small, rx) = mpsc::channel(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        let handing = intake.map(|intake| Handing { intake, sealer });
        for _ in 0..WRITERS {
            let writer = Writer {
                pool: pool.clone(),
                max_batch: MAX_BATCH,
                lanes: lanes.clone(),
                handing: handing.clone(),
                wakeup: wakeup.clone(),
            };
            tokio::spawn(writer.run(rx.clone()));
        }
        let (large, rx) = mpsc::channel(QUEUE);
        let writer = Writer { pool, max_batch: MAX_LARGE_BATCH, lanes: lanes.clone(), handing: None, wakeup };
        tokio::spawn(writer.run(Arc::new(Mutex::new(rx))));
        Ok(Publisher { small, large, lanes })
    }

    /// Stores the event and its deliveries; answers once they are committed, with the
    /// event's number of deliveries. The dispatchers are woken for them.
    pub async fn publish(&self, plain: Plain) -> anyhow::Result<Event> {
        let (done, answer) = oneshot::channel();
        let lane = if self.lanes.is_large(TenantId(plain.event.tenant_id)) { &self.large } else { &self.small };
        lane.send(Job { plain, done }).await.map_err(|_| anyhow!("the publish writer has stopped"))?;
        answer.await.map_err(|_| anyhow!("the publish writer stopped before answering"))?
    }
}

/// What a writer needs to claim for this process's dispatcher.
#[derive(Clone)]
struct Handing {
    intake: Arc<dyn Intake>,
    sealer: Arc<Sealer>,
}

struct Writer {
    pool: PgPool,
    max_batch: usize,
    lanes: Arc<Lanes>,
    handing: Option<Handing>,
    wakeup: Wakeup,
}

impl Writer {
    async fn run(self, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
        let mut jobs = Vec::with_capacity(self.max_batch);
        // the queue is held only while taking a batch, not while writing it
        while rx.lock().await.recv_many(&mut jobs, self.max_batch).await > 0 {
            let (batch, answers): (Vec<Plain>, Vec<_>) = jobs.drain(..).map(|j| (j.plain, j.done)).unzip();
            self.write(batch, answers).await;
        }
    }

    /// Writes the batch, claiming behind it when the dispatcher takes an offer, answers
    /// the callers at the batch's commit, and wakes the dispatchers for what the claim did
    /// not take.
    async fn write(&self, batch: Vec<Plain>, answers: Vec<oneshot::Sender<anyhow::Result<Event>>>) {
        let offer = match &self.handing {
            Some(h) if batch.len() <= MOST_PUBLISHES => h.intake.offer().map(|offer| (h, offer)),
            _ => None,
        };
        let conn = match self.pool.get().await.context("database pool") {
            Ok(conn) => conn,
            Err(err) => return fail(&err, answers),
        };
        let ids: Vec<EventId> = batch.iter().map(|p| EventId(p.event.id)).collect();
        // Both statements go out in one round trip, the claim right behind the publish, and
        // see it committed. (Should the claim be sent first, as when one of the two is
        // prepared on this connection for the first time, it just does not find the
        // batch's deliveries, and they are woken for.) The callers are answered as soon as
        // the publish's answer arrives.
        let stored = async {
            let written = insert_many(&conn, &batch).await.map_err(anyhow::Error::from);
            self.answer(&conn, batch, answers, written).await
        };
        let claimed = async {
            let (h, reservation) = offer.as_ref()?;
            match super::claim(&conn, &reservation.offer().request(), &h.sealer).await {
                Ok(Claim { claimed, .. }) => Some(claimed),
                Err(err) => {
                    tracing::warn!(error = %err, "the claim after a publish failed; the dispatcher claims it");
                    None
                }
            }
        };
        let (counts, claimed) = tokio::join!(stored, claimed);
        drop(conn);
        let mut handed_of: HashMap<EventId, i32> = HashMap::new();
        if let Some((_, reservation)) = offer {
            let claimed: Vec<Leased> = claimed.unwrap_or_default();
            for d in &claimed {
                *handed_of.entry(d.event_id).or_default() += 1;
            }
            reservation.hand(claimed);
        }
        let unclaimed = ids.iter().zip(counts).any(|(id, n)| n > handed_of.get(id).copied().unwrap_or(0));
        if unclaimed {
            self.wakeup.soon();
        }
    }

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
            // The database refused the statement (it answered): one publish it refuses
            // must not fail the others, so each is tried alone and gets its own answer.
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
                fail(&err, answers);
                vec![0; n]
            }
        }
    }
}

/// Answers every caller of a batch that could not be written. Unreachable database, pool
/// exhausted: retrying one by one would only keep every caller waiting longer for the
/// same error.
fn fail(err: &anyhow::Error, answers: Vec<oneshot::Sender<anyhow::Result<Event>>>) {
    tracing::warn!(error = format!("{err:#}"), publishes = answers.len(), "a publish batch failed");
    let unreachable = crate::db::unreachable_in(err);
    for answer in answers {
        let _ = answer.send(Err(if unreachable {
            anyhow::Error::new(crate::db::Unreachable(format!("{err:#}")))
        } else {
            anyhow!("{err:#}")
        }));
    }
}

/// Whether the server answered with an error about the statement (as opposed to the
/// connection or the pool failing).
fn refused_by_database(err: &anyhow::Error) -> bool {
    matches!(
        err.downcast_ref::<diesel::result::Error>(),
        Some(e @ diesel::result::Error::DatabaseError(..)) if !crate::db::is_unreachable(e)
    )
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
