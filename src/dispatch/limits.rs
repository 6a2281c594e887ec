//! Per-webhook limits applied at claim time: `maxConcurrency` attempts in flight and
//! `rateLimitPerMinute` attempts in any 60 s sliding window, across all dispatchers.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pub delivery_id: Uuid,
    pub webhook_id: Uuid,
}

/// A webhook's limits and what currently counts against them.
#[derive(Debug, Clone, Copy)]
pub struct WebhookLoad {
    pub max_concurrency: i32,
    pub rate_limit_per_minute: Option<i32>,
    /// Attempts under a live lease that have not ended.
    pub in_flight: i64,
    /// Attempts that ended but are not recorded yet: no longer in flight, not yet in the
    /// logs, still counted by the rate limit.
    pub unrecorded: i64,
    /// Recorded attempts that started in the last 60 s.
    pub recent_attempts: i64,
    pub oldest_recent_attempt: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, PartialEq)]
pub struct ClaimPlan {
    /// Deliveries to lease now, in candidate order.
    pub claim: Vec<Uuid>,
    /// Rate-limited deliveries and the time their webhook's window frees a slot.
    pub defer: Vec<(DateTime<Utc>, Vec<Uuid>)>,
}

/// Decides which candidates (ordered by due time) may be attempted now. Those over the
/// concurrency limit simply stay due; those over the rate limit are moved to when the
/// oldest attempt in the window leaves it, so that they do not crowd later scans.
pub fn plan_claim(candidates: &[Candidate], loads: &HashMap<Uuid, WebhookLoad>, now: DateTime<Utc>) -> ClaimPlan {
    let mut taken: HashMap<Uuid, i64> = HashMap::new();
    let mut plan = ClaimPlan::default();
    let mut deferred: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for c in candidates {
        let Some(load) = loads.get(&c.webhook_id) else {
            continue;
        };
        let n = taken.entry(c.webhook_id).or_insert(0);
        let concurrency_room = i64::from(load.max_concurrency) - load.in_flight - *n;
        let rate_room = load
            .rate_limit_per_minute
            .map(|limit| i64::from(limit) - load.recent_attempts - load.unrecorded - load.in_flight - *n);
        match rate_room {
            Some(room) if room <= 0 && room <= concurrency_room => {
                deferred.entry(c.webhook_id).or_default().push(c.delivery_id);
            }
            _ if concurrency_room <= 0 => {}
            _ => {
                *n += 1;
                plan.claim.push(c.delivery_id);
            }
        }
    }
    for (webhook_id, ids) in deferred {
        let frees_at = loads
            .get(&webhook_id)
            .and_then(|l| l.oldest_recent_attempt)
            .map(|oldest| oldest + Duration::seconds(60))
            .filter(|at| *at > now)
            // the window is full of attempts still in flight: look again shortly
            .unwrap_or(now + Duration::seconds(1));
        plan.defer.push((frees_at, ids));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(max_concurrency: i32, rate: Option<i32>, in_flight: i64, recent: i64) -> WebhookLoad {
        WebhookLoad {
            max_concurrency,
            rate_limit_per_minute: rate,
            in_flight,
            unrecorded: 0,
            recent_attempts: recent,
            oldest_recent_attempt: None,
        }
    }

    fn candidates(webhook: Uuid, n: usize) -> Vec<Candidate> {
        (0..n).map(|_| Candidate { delivery_id: Uuid::now_v7(), webhook_id: webhook }).collect()
    }

    #[test]
    fn concurrency_caps_claims_and_leaves_the_rest_due() {
        let w = Uuid::now_v7();
        let c = candidates(w, 5);
        let loads = HashMap::from([(w, load(2, None, 1, 0))]);
        let plan = plan_claim(&c, &loads, Utc::now());
        assert_eq!(plan.claim, vec![c[0].delivery_id]);
        assert!(plan.defer.is_empty());
    }

    #[test]
    fn rate_limit_defers_to_when_the_window_frees() {
        let w = Uuid::now_v7();
        let now = Utc::now();
        let c = candidates(w, 4);
        let mut l = load(10, Some(3), 0, 1);
        l.oldest_recent_attempt = Some(now - Duration::seconds(20));
        let plan = plan_claim(&c, &HashMap::from([(w, l)]), now);
        assert_eq!(plan.claim, vec![c[0].delivery_id, c[1].delivery_id]);
        assert_eq!(plan.defer, vec![(now + Duration::seconds(40), vec![c[2].delivery_id, c[3].delivery_id])]);
    }

    #[test]
    fn ended_but_unrecorded_attempts_free_concurrency_but_count_for_the_rate() {
        let w = Uuid::now_v7();
        let c = candidates(w, 3);
        let mut l = load(2, Some(4), 1, 1);
        l.unrecorded = 1;
        let plan = plan_claim(&c, &HashMap::from([(w, l)]), Utc::now());
        // concurrency: 2 - 1 in flight = 1 slot; rate: 4 - 1 recent - 1 unrecorded - 1 in flight = 1
        assert_eq!(plan.claim, vec![c[0].delivery_id]);
        assert_eq!(plan.defer.len(), 1, "the rest waits on the rate limit");
    }

    #[test]
    fn unlimited_rate_and_other_webhooks_are_independent() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let mut c = candidates(a, 3);
        c.extend(candidates(b, 2));
        let loads = HashMap::from([(a, load(10, None, 9, 500)), (b, load(10, None, 0, 0))]);
        let plan = plan_claim(&c, &loads, Utc::now());
        assert_eq!(plan.claim, vec![c[0].delivery_id, c[3].delivery_id, c[4].delivery_id]);
    }
}
