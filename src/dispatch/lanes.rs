//! Fair sharing of one dispatcher's in-flight attempts (SPEC "One endpoint's trouble is
//! its own").
//!
//! Every attempt starts in the *fast lane*, whose slots (`HOOKRELAY_DISPATCH_CONCURRENCY`)
//! bound how much a claim may take. An attempt still running after [`SLOW_AFTER`] moves
//! to the *slow lane* and gives its fast slot back: endpoints that hang (every attempt
//! held until the timeout) then cannot hold the slots that healthy endpoints' deliveries
//! need, and a healthy delivery waits at most about `SLOW_AFTER` for a slot however many
//! endpoints hang. The slow lane has room for [`SLOW_LANE_FACTOR`] times the fast slots;
//! while it is full, claims skip the webhooks that have attempts in it, so hanging
//! endpoints cannot grow it further (each webhook's `maxConcurrency`, lowered by its
//! adaptive concurrency after timeouts, bounds it too).
//!
//! A fast attempt holds its slot for milliseconds, so no tenant keeps fast slots from
//! others for long; which due work a claim takes first is the claim's order (oldest due
//! first). A per-tenant share of the fast slots, passed to the claim as tenants to skip,
//! was tried and dropped: a claim that skips a tenant walks the due index past all of
//! that tenant's backlog, so a busy tenant at its share would make every claim scan it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::ids::WebhookId;

/// How long an attempt runs before it counts as slow and leaves the fast lane.
pub const SLOW_AFTER: Duration = Duration::from_millis(500);

/// The slow lane's room, as a multiple of the fast slots.
pub const SLOW_LANE_FACTOR: usize = 4;

pub struct Lanes {
    fast: Arc<Semaphore>,
    slow_room: usize,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    slow_by_webhook: HashMap<WebhookId, usize>,
    slow: usize,
}

impl Lanes {
    pub fn new(fast_slots: usize) -> Arc<Lanes> {
        Arc::new(Lanes {
            fast: Arc::new(Semaphore::new(fast_slots)),
            slow_room: fast_slots * SLOW_LANE_FACTOR,
            counts: Mutex::default(),
        })
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        // the counts stay consistent whatever a panicking holder did: each update is one step
        self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Free fast slots: the most the next claim may take.
    pub fn free(&self) -> usize {
        self.fast.available_permits()
    }

    /// Waits until a fast slot is free.
    pub async fn slot_freed(&self) {
        if let Ok(permit) = self.fast.acquire().await {
            drop(permit);
        }
    }

    /// The webhooks a claim should leave out now: those with attempts in the slow lane,
    /// while it is full.
    pub fn skips(&self) -> Vec<WebhookId> {
        let counts = self.counts();
        if counts.slow >= self.slow_room {
            counts.slow_by_webhook.keys().copied().collect()
        } else {
            Vec::new()
        }
    }

    /// A fast slot for an attempt to `webhook`; waits if none is free (a claim never
    /// takes more than [`Lanes::free`], so it seldom does).
    pub async fn enter(self: &Arc<Self>, webhook: WebhookId) -> Option<Ticket> {
        let permit = self.fast.clone().acquire_owned().await.ok()?;
        Some(Ticket { lanes: self.clone(), webhook, fast: Some(permit) })
    }

    /// Takes `n` free fast slots at once, without waiting, for attempts whose deliveries
    /// are not leased yet (see `dispatch::intake`); `None` if fewer are free.
    pub fn reserve(self: &Arc<Self>, n: usize) -> Option<Reserved> {
        let permits = u32::try_from(n).ok().filter(|n| *n > 0)?;
        let permit = self.fast.clone().try_acquire_many_owned(permits).ok()?;
        Some(Reserved { lanes: self.clone(), permit })
    }
}

/// Fast slots taken ahead of their attempts; those not made tickets are freed on drop.
pub struct Reserved {
    lanes: Arc<Lanes>,
    permit: OwnedSemaphorePermit,
}

impl Reserved {
    /// Slots still reserved.
    pub fn slots(&self) -> usize {
        self.permit.num_permits()
    }

    /// One reserved slot as an attempt's ticket; `None` once all are used.
    pub fn ticket(&mut self, webhook: WebhookId) -> Option<Ticket> {
        let fast = self.permit.split(1)?;
        Some(Ticket { lanes: self.lanes.clone(), webhook, fast: Some(fast) })
    }
}

/// An attempt's place in a lane; leaving it (drop) frees the place.
pub struct Ticket {
    lanes: Arc<Lanes>,
    webhook: WebhookId,
    fast: Option<OwnedSemaphorePermit>,
}

impl Ticket {
    /// Moves a slow attempt to the slow lane, giving its fast slot back.
    pub fn to_slow_lane(&mut self) {
        let Some(permit) = self.fast.take() else { return };
        let mut counts = self.lanes.counts();
        *counts.slow_by_webhook.entry(self.webhook).or_default() += 1;
        counts.slow += 1;
        drop(counts);
        drop(permit);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.fast.is_some() {
            // the permit is released with the struct
            return;
        }
        let mut counts = self.lanes.counts();
        counts.slow -= 1;
        if let Some(n) = counts.slow_by_webhook.get_mut(&self.webhook) {
            *n -= 1;
            if *n == 0 {
                counts.slow_by_webhook.remove(&self.webhook);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn webhook() -> WebhookId {
        WebhookId(uuid::Uuid::now_v7())
    }

    #[tokio::test]
    async fn a_slow_attempt_gives_its_fast_slot_back() {
        let lanes = Lanes::new(2);
        let w = webhook();
        let mut a = lanes.enter(w).await.unwrap();
        let _b = lanes.enter(w).await.unwrap();
        assert_eq!(lanes.free(), 0);
        a.to_slow_lane();
        assert_eq!(lanes.free(), 1);
        drop(a);
        assert_eq!(lanes.free(), 1, "a slow attempt's end frees no fast slot");
    }

    #[tokio::test]
    async fn reserved_slots_become_tickets_and_the_rest_are_freed() {
        let lanes = Lanes::new(4);
        assert!(lanes.reserve(5).is_none(), "more than are free");
        let mut reserved = lanes.reserve(3).unwrap();
        assert_eq!((lanes.free(), reserved.slots()), (1, 3));
        let a = reserved.ticket(webhook()).unwrap();
        let b = reserved.ticket(webhook()).unwrap();
        let c = reserved.ticket(webhook()).unwrap();
        assert!(reserved.ticket(webhook()).is_none(), "all three are used");
        assert_eq!(lanes.free(), 1);
        drop((a, b));
        assert_eq!(lanes.free(), 3);
        let mut again = lanes.reserve(2).unwrap();
        let d = again.ticket(webhook()).unwrap();
        drop(again);
        assert_eq!(lanes.free(), 2, "the unused reserved slot is freed; c and d hold theirs");
        drop((c, d));
        assert_eq!(lanes.free(), 4);
    }

    #[tokio::test]
    async fn a_full_slow_lane_skips_the_webhooks_in_it() {
        let lanes = Lanes::new(1);
        let w = webhook();
        let mut slow = Vec::new();
        for _ in 0..SLOW_LANE_FACTOR {
            let mut ticket = lanes.enter(w).await.unwrap();
            ticket.to_slow_lane();
            slow.push(ticket);
        }
        assert_eq!(lanes.skips(), vec![w]);
        slow.pop();
        assert!(lanes.skips().is_empty());
    }
}
