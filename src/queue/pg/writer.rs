//! The writer tasks of group commit (`publisher`): each takes whatever has queued up while
//! it was busy, writes it as one batch, claims behind it for this process's dispatcher
//! when the batch is a single publish, and wakes the dispatchers for what that claim did
//! not take. What a batch is and how it is written and answered is the [`Statement`] of
//! its lane: plain publishes (`publisher`) or verified inbound requests (`ingest`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use diesel_async::AsyncPgConnection;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::wake::Wakeup;
use crate::db::PgPool;
use crate::domain::ids::EventId;
use crate::queue::{Claim, Intake, Leased};
use crate::secrets::Sealer;

/// Publishes in one statement beyond which no claim follows it: batches grow when the
/// load does, and then the dispatcher's own claims serve many deliveries each.
const MOST_PUBLISHES: usize = 1;

/// How one lane's batches are written and their callers answered.
pub(super) trait Statement: Send + Sync + 'static {
    /// One caller's publish, with where its answer goes.
    type Job: Send + 'static;

    /// Writes a batch on `conn` (which a claim may share, in the same round trip) and
    /// answers its callers once their rows are committed. Returns each stored event's id
    /// and number of deliveries, so that the dispatchers are woken for them.
    fn write(
        &self,
        conn: &AsyncPgConnection,
        batch: Vec<Self::Job>,
    ) -> impl Future<Output = Vec<(EventId, i32)>> + Send;

    /// Answers every caller of a batch that could not be written with `err` (see [`fail_all`]).
    fn fail(&self, err: &anyhow::Error, batch: Vec<Self::Job>);
}

/// What a writer needs to claim for this process's dispatcher.
#[derive(Clone)]
pub(super) struct Handing {
    pub intake: Arc<dyn Intake>,
    pub sealer: Arc<Sealer>,
}

pub(super) struct Writer<S> {
    pub pool: PgPool,
    pub max_batch: usize,
    pub statement: Arc<S>,
    pub handing: Option<Handing>,
    pub wakeup: Wakeup,
}

impl<S: Statement> Writer<S> {
    pub async fn run(self, rx: Arc<Mutex<mpsc::Receiver<S::Job>>>) {
        let mut jobs = Vec::with_capacity(self.max_batch);
        // the queue is held only while taking a batch, not while writing it
        while rx.lock().await.recv_many(&mut jobs, self.max_batch).await > 0 {
            self.write(std::mem::take(&mut jobs)).await;
        }
    }

    /// Writes the batch, claiming behind it when the dispatcher takes an offer, and wakes
    /// the dispatchers for what the claim did not take.
    async fn write(&self, batch: Vec<S::Job>) {
        let offer = match &self.handing {
            Some(h) if batch.len() <= MOST_PUBLISHES => h.intake.offer().map(|offer| (h, offer)),
            _ => None,
        };
        let conn = match self.pool.get().await.context("database pool") {
            Ok(conn) => conn,
            Err(err) => return self.statement.fail(&err, batch),
        };
        // Both statements go out in one round trip, the claim right behind the publish, and
        // see it committed. (Should the claim be sent first, as when one of the two is
        // prepared on this connection for the first time, it just does not find the
        // batch's deliveries, and they are woken for.) The callers are answered as soon as
        // the publish's answer arrives.
        let stored = self.statement.write(&conn, batch);
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
        let (stored, claimed) = tokio::join!(stored, claimed);
        drop(conn);
        let mut handed_of: HashMap<EventId, i32> = HashMap::new();
        if let Some((_, reservation)) = offer {
            let claimed: Vec<Leased> = claimed.unwrap_or_default();
            for d in &claimed {
                *handed_of.entry(d.event_id).or_default() += 1;
            }
            reservation.hand(claimed);
        }
        if stored.iter().any(|(id, n)| *n > handed_of.get(id).copied().unwrap_or(0)) {
            self.wakeup.soon();
        }
    }
}

/// Logs once that a batch of `what` could not be written, and answers each of its callers
/// with `err` (an unreachable database still as one, a 503). Unreachable database, pool
/// exhausted: retrying one by one would only keep every caller waiting longer for the
/// same error.
pub(super) fn fail_all<T>(err: &anyhow::Error, what: &str, answers: Vec<oneshot::Sender<anyhow::Result<T>>>) {
    if answers.is_empty() {
        return;
    }
    tracing::warn!(error = format!("{err:#}"), callers = answers.len(), "a batch of {what} failed");
    let unreachable = crate::db::unreachable_in(err);
    for answer in answers {
        // a caller that went away no longer needs its answer
        let _ = answer.send(Err(if unreachable {
            anyhow::Error::new(crate::db::Unreachable(format!("{err:#}")))
        } else {
            anyhow!("{err:#}")
        }));
    }
}

/// Whether the server answered with an error about the statement (as opposed to the
/// connection or the pool failing): one publish it refuses must not fail the others of
/// its batch, so each is then written alone.
pub(super) fn refused_by_database(err: &anyhow::Error) -> bool {
    matches!(
        err.downcast_ref::<diesel::result::Error>(),
        Some(e @ diesel::result::Error::DatabaseError(..)) if !crate::db::is_unreachable(e)
    )
}
