//! Retry schedule (SPEC: Delivery rules). Retry times are computed here and stored in the
//! database by the caller, so they survive a restart.

use std::time::Duration;

/// Delays in seconds before the 2nd, 3rd and 4th attempts: 4 attempts in all.
pub const DEFAULT_SCHEDULE: [i32; 3] = [4, 8, 10];

/// After the `failed_attempt_in_series`-th attempt (1-based) of the current series failed,
/// the delay before the next attempt, counted from the end of the failed attempt; `None`
/// when the series is exhausted and the delivery becomes `failed`. An empty schedule means
/// a single attempt. A series restarts at 1 on a manual retry, although attempt numbers
/// keep counting. Negative delays (rejected by validation) are treated as 0.
pub fn retry_delay(schedule: &[i32], failed_attempt_in_series: u32) -> Option<Duration> {
    let index = usize::try_from(failed_attempt_in_series.checked_sub(1)?).ok()?;
    let secs = *schedule.get(index)?;
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule() {
        let delays: Vec<Option<u64>> =
            (1..=5).map(|n| retry_delay(&DEFAULT_SCHEDULE, n).map(|d| d.as_secs())).collect();
        assert_eq!(delays, vec![Some(4), Some(8), Some(10), None, None]);
    }

    #[test]
    fn empty_schedule_is_a_single_attempt() {
        assert_eq!(retry_delay(&[], 1), None);
    }

    #[test]
    fn custom_schedule() {
        let s = [1, 86_400];
        assert_eq!(retry_delay(&s, 1), Some(Duration::from_secs(1)));
        assert_eq!(retry_delay(&s, 2), Some(Duration::from_secs(86_400)));
        assert_eq!(retry_delay(&s, 3), None);
        assert_eq!(retry_delay(&s, u32::MAX), None);
    }

    #[test]
    fn attempt_zero_and_negative_delays() {
        // Attempts are 1-based: 0 is not a failed attempt.
        assert_eq!(retry_delay(&DEFAULT_SCHEDULE, 0), None);
        assert_eq!(retry_delay(&[-5], 1), Some(Duration::ZERO));
    }
}
