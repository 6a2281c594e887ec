//! The attempts of this process that have ended but whose outcomes are not recorded yet,
//! shared by the claim loop, the recorder and the intake.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::domain::ids::DeliveryId;

/// Deliveries of this process whose attempt has ended but whose outcome is not recorded
/// yet: their leases still exist, but they are no longer attempts in flight.
pub type Finished = Arc<Mutex<HashSet<DeliveryId>>>;

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // a set of ids stays usable whatever a panicking holder did
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
