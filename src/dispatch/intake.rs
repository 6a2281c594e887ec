//! Deliveries claimed by a publish, for this process's dispatcher (issue 12, CPU per
//! delivery). At moderate rates a delivery otherwise costs a second round trip to a
//! second PostgreSQL backend: the claim of the dispatcher that the publish woke, whose
//! backend sleeps between claims and, on a small VM, costs more to wake than the claim
//! costs to run. When a publish is written alone while the dispatcher's claim loop waits
//! for work, the publisher reserves fast slots, makes an [`Offer`], and sends the dispatcher's claim right behind the publish statement on
//! the same connection (one round trip, a backend that is awake): the claim sees the
//! publish committed and leases its deliveries, exactly as the dispatcher's own claim
//! would. The publisher hands them here with their reserved slots, and the dispatcher
//! starts their attempts. A publish whose deliveries were not all claimed that way wakes
//! the dispatcher as before, so this is only ever a shortcut.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::finished::{lock, Finished};
use super::lanes::{Lanes, Reserved, Ticket};
use crate::queue::{self, Leased, Offer};

/// The most fast slots one publish's claim reserves.
const MOST: usize = 64;

/// Attempts handed to the dispatcher, each with its fast slot.
pub type Handed = Vec<(Leased, Ticket)>;

/// The publisher's side: offers room and hands claimed deliveries over.
#[derive(Clone)]
pub struct Intake {
    lanes: Arc<Lanes>,
    finished: Finished,
    waiting: Arc<AtomicBool>,
    lease: Duration,
    handed: mpsc::UnboundedSender<Handed>,
}

/// The dispatcher's side.
pub struct Inbox {
    pub(super) lanes: Arc<Lanes>,
    pub(super) finished: Finished,
    /// Set while the claim loop waits for a reason to claim (its last claim found less
    /// than it asked for): only then is a claim at publish worth making. Under load the
    /// loop claims back to back, and claims at publish would queue on the claim lock
    /// with it (single-endpoint throughput fell by a sixth).
    pub(super) waiting: Arc<AtomicBool>,
    pub(super) handed: mpsc::UnboundedReceiver<Handed>,
}

/// The two sides, for a dispatcher with `fast_slots` and leases of `lease`.
pub fn intake(fast_slots: usize, lease: Duration) -> (Intake, Inbox) {
    let lanes = Lanes::new(fast_slots);
    let finished = Finished::default();
    let waiting = Arc::new(AtomicBool::new(false));
    let (handed, rx) = mpsc::unbounded_channel();
    let intake = Intake { lanes: lanes.clone(), finished: finished.clone(), waiting: waiting.clone(), lease, handed };
    (intake, Inbox { lanes, finished, waiting, handed: rx })
}

impl Intake {
    /// Reserves up to half the free fast slots (the claims keep the other half, so that
    /// due work of other tenants is not crowded out) and offers them; `None` unless the
    /// claim loop is waiting, or while it stops, or with fewer than two slots free.
    pub fn offer(&self) -> Option<(Offer, Reserved)> {
        if !self.waiting.load(Ordering::Relaxed) || self.handed.is_closed() {
            return None;
        }
        let reserved = self.lanes.reserve((self.lanes.free() / 2).min(MOST))?;
        let finished = lock(&self.finished).iter().copied().collect();
        let offer = Offer { room: reserved.slots(), lease: self.lease, finished, skip_webhooks: self.lanes.skips() };
        Some((offer, reserved))
    }

    /// Starts the attempts of deliveries claimed under an offer, in the slots it reserved;
    /// the slots left over are freed. A dispatcher that has stopped meanwhile leaves them
    /// to their leases, which expire, and to the claims after that.
    pub fn hand(&self, leased: Vec<Leased>, mut reserved: Reserved) {
        let handed: Handed =
            leased.into_iter().filter_map(|d| reserved.ticket(d.webhook_id).map(|ticket| (d, ticket))).collect();
        if !handed.is_empty() && self.handed.send(handed).is_err() {
            tracing::warn!(
                "the dispatcher stopped before deliveries claimed at publish reached it; their leases will expire"
            );
        }
    }
}

/// Room reserved for a claim at publish, with the intake to hand its deliveries to.
struct Reservation {
    intake: Intake,
    offer: Offer,
    reserved: Reserved,
}

impl queue::Reservation for Reservation {
    fn offer(&self) -> &Offer {
        &self.offer
    }

    fn hand(self: Box<Self>, leased: Vec<Leased>) {
        let Reservation { intake, reserved, .. } = *self;
        intake.hand(leased, reserved);
    }
}

impl queue::Intake for Intake {
    fn offer(&self) -> Option<Box<dyn queue::Reservation>> {
        let (offer, reserved) = Intake::offer(self)?;
        Some(Box::new(Reservation { intake: self.clone(), offer, reserved }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_offer_is_made_only_while_the_claim_loop_waits_and_reserves_half_the_free_slots() {
        let (intake, inbox) = intake(10, Duration::from_secs(60));
        assert!(intake.offer().is_none(), "the claim loop is claiming");
        inbox.waiting.store(true, Ordering::Relaxed);
        let (offer, reserved) = intake.offer().unwrap();
        assert_eq!((offer.room, reserved.slots(), inbox.lanes.free()), (5, 5, 5));
        drop(reserved);
        assert_eq!(inbox.lanes.free(), 10, "unused reserved slots are freed");
        let held: Vec<_> = (0..9).map(|_| inbox.lanes.reserve(1).unwrap()).collect();
        assert!(intake.offer().is_none(), "one free slot is left to the claim loop");
        drop(held);
        drop(inbox);
        assert!(intake.offer().is_none(), "the dispatcher has stopped");
    }
}
