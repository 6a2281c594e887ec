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
//! In the fast lane, one tenant may hold at most three quarters of the slots while it
//! has attempts there; beyond that, claims skip the tenant, so that others' deliveries
//! find a slot even while one tenant's backlog could fill them all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::ids::{TenantId, WebhookId};

/// How long an attempt runs before it counts as slow and leaves the fast lane.
pub const SLOW_AFTER: Duration = Duration::from_millis(500);

/// The slow lane's room, as a multiple of the fast slots.
pub const SLOW_LANE_FACTOR: usize = 4;

pub struct Lanes {
    fast: Arc<Semaphore>,
    tenant_share: usize,
    slow_room: usize,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    fast_by_tenant: HashMap<TenantId, usize>,
    slow_by_webhook: HashMap<WebhookId, usize>,
    slow: usize,
}

/// What a claim should leave out now.
#[derive(Default)]
pub struct Skips {
    pub webhooks: Vec<WebhookId>,
    pub tenants: Vec<TenantId>,
}

impl Skips {
    pub fn is_empty(&self) -> bool {
        self.webhooks.is_empty() && self.tenants.is_empty()
    }
}

impl Lanes {
    pub fn new(fast_slots: usize) -> Arc<Lanes> {
        Arc::new(Lanes {
            fast: Arc::new(Semaphore::new(fast_slots)),
            tenant_share: (fast_slots - fast_slots / 4).max(1),
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

    /// The webhooks and tenants whose share is used up.
    pub fn skips(&self) -> Skips {
        let counts = self.counts();
        let tenants = counts.fast_by_tenant.iter().filter(|(_, n)| **n >= self.tenant_share).map(|(t, _)| *t).collect();
        let webhooks =
            if counts.slow >= self.slow_room { counts.slow_by_webhook.keys().copied().collect() } else { Vec::new() };
        Skips { webhooks, tenants }
    }

    /// A fast slot for an attempt of `tenant` to `webhook`; waits if none is free (a
    /// claim never takes more than [`Lanes::free`], so it seldom does).
    pub async fn enter(self: &Arc<Self>, tenant: TenantId, webhook: WebhookId) -> Option<Ticket> {
        let permit = self.fast.clone().acquire_owned().await.ok()?;
        *self.counts().fast_by_tenant.entry(tenant).or_default() += 1;
        Some(Ticket { lanes: self.clone(), tenant, webhook, fast: Some(permit) })
    }
}

/// An attempt's place in a lane; leaving it (drop) frees the place.
pub struct Ticket {
    lanes: Arc<Lanes>,
    tenant: TenantId,
    webhook: WebhookId,
    fast: Option<OwnedSemaphorePermit>,
}

impl Ticket {
    /// Moves a slow attempt to the slow lane, giving its fast slot back.
    pub fn to_slow_lane(&mut self) {
        let Some(permit) = self.fast.take() else { return };
        let mut counts = self.lanes.counts();
        leave_fast(&mut counts, self.tenant);
        *counts.slow_by_webhook.entry(self.webhook).or_default() += 1;
        counts.slow += 1;
        drop(counts);
        drop(permit);
    }
}

fn leave_fast(counts: &mut Counts, tenant: TenantId) {
    if let Some(n) = counts.fast_by_tenant.get_mut(&tenant) {
        *n -= 1;
        if *n == 0 {
            counts.fast_by_tenant.remove(&tenant);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut counts = self.lanes.counts();
        if self.fast.is_some() {
            leave_fast(&mut counts, self.tenant);
        } else {
            counts.slow -= 1;
            if let Some(n) = counts.slow_by_webhook.get_mut(&self.webhook) {
                *n -= 1;
                if *n == 0 {
                    counts.slow_by_webhook.remove(&self.webhook);
                }
            }
        }
        // the permit (if still held) is released after the counts, with the struct
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ids() -> (TenantId, WebhookId) {
        (TenantId(uuid::Uuid::now_v7()), WebhookId(uuid::Uuid::now_v7()))
    }

    #[tokio::test]
    async fn a_slow_attempt_gives_its_fast_slot_back() {
        let lanes = Lanes::new(2);
        let (t, w) = ids();
        let mut a = lanes.enter(t, w).await.unwrap();
        let _b = lanes.enter(t, w).await.unwrap();
        assert_eq!(lanes.free(), 0);
        a.to_slow_lane();
        assert_eq!(lanes.free(), 1);
        drop(a);
        assert_eq!(lanes.free(), 1, "a slow attempt's end frees no fast slot");
    }

    #[tokio::test]
    async fn a_tenant_over_its_share_is_skipped() {
        let lanes = Lanes::new(4);
        let (t, w) = ids();
        let (other, w2) = ids();
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(lanes.enter(t, w).await.unwrap());
        }
        held.push(lanes.enter(other, w2).await.unwrap());
        assert_eq!(lanes.skips().tenants, vec![t], "3 of 4 slots is the share");
        held.remove(0);
        assert!(lanes.skips().is_empty());
    }

    #[tokio::test]
    async fn a_full_slow_lane_skips_the_webhooks_in_it() {
        let lanes = Lanes::new(1);
        let (t, w) = ids();
        let mut slow = Vec::new();
        for _ in 0..SLOW_LANE_FACTOR {
            let mut ticket = lanes.enter(t, w).await.unwrap();
            ticket.to_slow_lane();
            slow.push(ticket);
        }
        assert_eq!(lanes.skips().webhooks, vec![w]);
        slow.pop();
        assert!(lanes.skips().webhooks.is_empty());
    }
}
