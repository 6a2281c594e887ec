//! The statement of the inbound lane (`publisher`): a batch of verified inbound requests
//! accepted with `db::inbound::accept_many`, then the requests whose dedupe key was taken
//! stored as duplicates with `db::inbound::duplicates`, each step one statement.
//!
//! A batch may hold copies of one request (a provider that retries at once, a storm of
//! them): only the first of each source and dedupe key goes into the first statement
//! (which cannot take one key twice), and the others follow it into the second, after its
//! commit, as its duplicates. Whatever a batch statement cannot settle is accepted alone
//! with `db::inbound::accept`, which retries: a batch the database refused (so that one
//! bad request does not fail the others), and a duplicate whose first request's key was
//! purged meanwhile (the key is free again).

use std::collections::HashSet;

use diesel_async::AsyncPgConnection;
use tokio::sync::oneshot;

use super::writer::{fail_all, refused_by_database, Statement};
use crate::db::events::Event;
use crate::db::inbound::{accept, accept_many, duplicates, Accepted, Verified};
use crate::domain::ids::EventId;

pub(super) struct InboundJob {
    pub verified: Verified,
    pub done: oneshot::Sender<anyhow::Result<Accepted>>,
}

pub(super) struct Inbounds;

impl Statement for Inbounds {
    type Job = InboundJob;

    async fn write(&self, conn: &AsyncPgConnection, batch: Vec<InboundJob>) -> Vec<(EventId, i32)> {
        let mut stored = Vec::new();
        let (firsts, copies) = split_copies(batch);
        let Some(taken) = self.take_keys(conn, firsts, copies, &mut stored).await else {
            return stored;
        };
        if taken.is_empty() {
            return stored;
        }
        let refs: Vec<&Verified> = taken.iter().map(|j| &j.verified).collect();
        match duplicates(conn, &refs).await.map_err(anyhow::Error::from) {
            Ok(first_ids) => {
                for (job, first) in taken.into_iter().zip(first_ids) {
                    match first {
                        Some(first) => {
                            let _ = job.done.send(Ok(Accepted::Duplicate(first)));
                        }
                        None => alone(conn, job, &mut stored).await,
                    }
                }
            }
            Err(err) if refused_by_database(&err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    requests = taken.len(),
                    "a batch of duplicates was refused; storing them one by one"
                );
                for job in taken {
                    alone(conn, job, &mut stored).await;
                }
            }
            Err(err) => self.fail(&err, taken),
        }
        stored
    }

    fn fail(&self, err: &anyhow::Error, batch: Vec<InboundJob>) {
        fail_all(err, "inbound requests", batch.into_iter().map(|j| j.done).collect());
    }
}

impl Inbounds {
    /// The first statement, for `firsts`: answers the requests that took their key, adds
    /// their events to `stored`, and returns the others with the `copies` (all of them
    /// duplicates, unless a key is purged meanwhile); `None` when the statement failed for
    /// a reason that would fail the second too (every caller then answered).
    async fn take_keys(
        &self,
        conn: &AsyncPgConnection,
        firsts: Vec<InboundJob>,
        copies: Vec<InboundJob>,
        stored: &mut Vec<(EventId, i32)>,
    ) -> Option<Vec<InboundJob>> {
        let refs: Vec<&Verified> = firsts.iter().map(|j| &j.verified).collect();
        let mut taken = copies;
        match accept_many(conn, &refs).await.map_err(anyhow::Error::from) {
            Ok(counts) => {
                for (job, deliveries) in firsts.into_iter().zip(counts) {
                    match deliveries {
                        Some(n) => {
                            stored.push((EventId(job.verified.event.id), n));
                            let event = Event { deliveries: n, ..job.verified.event };
                            // a caller that went away no longer needs its answer
                            let _ = job.done.send(Ok(Accepted::New(event)));
                        }
                        None => taken.push(job),
                    }
                }
            }
            Err(err) if refused_by_database(&err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    requests = firsts.len(),
                    "a batch of inbound requests was refused; accepting them one by one"
                );
                for job in firsts {
                    alone(conn, job, stored).await;
                }
            }
            Err(err) => {
                self.fail(&err, firsts.into_iter().chain(taken).collect());
                return None;
            }
        }
        Some(taken)
    }
}

/// Splits a batch into the first request of each source and dedupe key, and the copies
/// that came after it.
fn split_copies(batch: Vec<InboundJob>) -> (Vec<InboundJob>, Vec<InboundJob>) {
    let mut seen = HashSet::new();
    batch.into_iter().partition(|job| seen.insert((job.verified.request.source_id, job.verified.dedupe_key.clone())))
}

/// Accepts one request on its own (with `accept`'s retries) and answers it.
async fn alone(conn: &AsyncPgConnection, job: InboundJob, stored: &mut Vec<(EventId, i32)>) {
    let result = accept(conn, &job.verified).await.map_err(anyhow::Error::from);
    if let Ok(Accepted::New(event)) = &result {
        stored.push((EventId(event.id), event.deliveries));
    }
    let _ = job.done.send(result);
}
