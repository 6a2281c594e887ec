//! The queue seam: the whole contract between the dispatcher and the delivery queue, in
//! domain types. The dispatcher claims due work under a lease, attempts it, and hands
//! back outcomes (succeeded, retry at a time, failed; with the receiver's back-pressure);
//! the queue applies per-webhook limits, pauses and the dispatcher's skips when it claims,
//! and wakes the dispatcher when work may have become due. [`pg`] is the implementation
//! on PostgreSQL; a broker backend implements [`Queue`] beside it.
//!
//! When this process's dispatcher has made an [`Offer`], the enqueue may also claim for
//! it as it enqueues (on PostgreSQL: in the publish's round trip): the claimed deliveries
//! reach the dispatcher in memory, without its own claim (`dispatch::intake`). A queue
//! that does not is still complete: the dispatcher claims everything.

pub mod pg;

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::db::logs::AttemptLog;
use crate::domain::ids::{DeliveryId, EventId, LeaseId, TenantId, WebhookId};

/// A leased delivery with everything its attempt needs. No `Debug`: it holds the
/// webhook's secrets.
#[derive(Clone)]
pub struct Leased {
    pub delivery_id: DeliveryId,
    pub tenant_id: TenantId,
    pub event_id: EventId,
    pub webhook_id: WebhookId,
    pub event_type: String,
    /// Attempts made before this one, over every series.
    pub attempt_count: i32,
    /// Attempts made before this one in the current series.
    pub series_attempts: i32,
    pub test: bool,
    pub lease_id: LeaseId,
    pub url: String,
    pub headers: serde_json::Value,
    pub secret: String,
    /// The previous secret, only while its rotation overlap lasts.
    pub previous_secret: Option<String>,
    pub retry_schedule: Option<Vec<i32>>,
    /// The exact bytes sent on every attempt.
    pub body: String,
    pub delivery_created_at: DateTime<Utc>,
    /// The webhook's adaptive concurrency is below its `maxConcurrency` right now.
    pub throttled: bool,
    /// The inbound source the event came from; `None` for an event published through the API.
    pub source_id: Option<uuid::Uuid>,
    /// The provider's headers to forward (a JSON object, name → value, Content-Type
    /// included); `None` for an event published through the API. `body` is then the
    /// provider's request body as it arrived.
    pub source_headers: Option<serde_json::Value>,
}

/// What a dispatcher asks of one claim.
pub struct ClaimRequest<'a> {
    /// Most deliveries to lease.
    pub limit: usize,
    pub lease: Duration,
    /// Deliveries leased by this dispatcher whose attempt has ended but whose outcome is
    /// not recorded yet: no longer in flight (they still count against rate limits).
    pub finished: &'a [DeliveryId],
    /// Webhooks this dispatcher has no room for now: their work is left for a later claim.
    pub skip_webhooks: &'a [WebhookId],
}

/// What this process's dispatcher can take now, for a claim made on its behalf as work
/// is enqueued: an owned [`ClaimRequest`].
pub struct Offer {
    pub room: usize,
    pub lease: Duration,
    pub finished: Vec<DeliveryId>,
    pub skip_webhooks: Vec<WebhookId>,
}

impl Offer {
    pub fn request(&self) -> ClaimRequest<'_> {
        ClaimRequest {
            limit: self.room,
            lease: self.lease,
            finished: &self.finished,
            skip_webhooks: &self.skip_webhooks,
        }
    }
}

/// This process's dispatcher as the enqueue side sees it (`dispatch::intake`): room for a
/// claim made right behind a publish, on the publish's own connection, and where the
/// deliveries so claimed go.
pub trait Intake: Send + Sync {
    /// Room reserved for one such claim; `None` when one is not worth making now.
    fn offer(&self) -> Option<Box<dyn Reservation>>;
}

/// Room reserved by [`Intake::offer`]: the claim to make with it, and the hand-over.
pub trait Reservation: Send + Sync {
    fn offer(&self) -> &Offer;
    /// Starts the attempts of what the claim leased, in the reserved room; the room left
    /// over is freed.
    fn hand(self: Box<Self>, leased: Vec<Leased>);
}

/// What a claim got; whether due work was held back by a per-webhook limit (then a
/// recorded outcome, which frees a slot, is worth another claim); and when the earliest
/// pending delivery that is not due yet (or the earliest pause) ends.
#[derive(Default)]
pub struct Claim {
    pub claimed: Vec<Leased>,
    pub held_back: bool,
    pub next_due: Option<DateTime<Utc>>,
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Succeeded,
    RetryAt(DateTime<Utc>),
    Failed,
}

/// What an attempt says about its endpoint's capacity (SPEC "Back-pressure from
/// receivers"): a timeout or a failed connection shrinks the attempts kept in flight to
/// it, a success grows them back, anything else leaves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strain {
    Eased,
    Strained,
    Unchanged,
}

/// One finished attempt, ready to be recorded.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub delivery_id: DeliveryId,
    pub lease_id: LeaseId,
    pub series_attempts: i32,
    pub next: Next,
    pub delivery_created_at: DateTime<Utc>,
    pub log: AttemptLog,
    /// The receiver asked (Retry-After on a 429 or 503) that nothing reach it before this.
    pub pause_until: Option<DateTime<Utc>>,
    pub strain: Strain,
    /// Copied from the claim: the endpoint's concurrency is below its maximum.
    pub throttled: bool,
}

/// Why a queue operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue could not be reached: the same call may succeed later.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    /// The queue answered and refused: repeating the same call will not help.
    #[error("queue refused the operation: {0}")]
    Refused(String),
}

/// A delivery queue, as the dispatcher sees it.
pub trait Queue: Send + Sync + 'static {
    /// Leases up to `request.limit` due deliveries that every limit allows. Work over a
    /// limit stays pending: it is neither attempted nor failed.
    fn claim(&self, request: ClaimRequest<'_>) -> impl Future<Output = Result<Claim, QueueError>> + Send;

    /// Records finished attempts: logs, each delivery's next state, the release of its
    /// lease and the endpoint's back-pressure, all or nothing. An outcome whose lease was
    /// lost is logged but does not change its delivery.
    fn record(&self, outcomes: &[Outcome]) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Calls `on_wake` whenever another process may have made work due, until `shutdown`;
    /// while it watches, other processes know that this dispatcher is there to be woken.
    fn watch(
        &self,
        on_wake: impl Fn() + Send + 'static,
        shutdown: CancellationToken,
    ) -> impl Future<Output = ()> + Send + 'static;
}
