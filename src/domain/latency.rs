//! Latency histograms for stats: fixed buckets, merged by adding counts.
//!
//! Bucket `i` holds durations `d` (whole milliseconds) with `BOUNDS[i-1] < d <= BOUNDS[i]`.
//! Up to 10 ms every millisecond has its own bucket (exact); above, each bound is at most
//! 10 % above the previous one. A percentile is reported as the upper bound of the bucket
//! that holds its rank, so it overstates the true value by less than 10 % (exact up to
//! 10 ms). The last bucket is open-ended and reports its lower bound.

use std::sync::OnceLock;

/// Error kinds in the order of the `errors` counters of a stats row: a new kind is
/// appended (rows written before it hold shorter arrays, read as zeros beyond their end).
pub const ERROR_KINDS: [&str; 8] =
    ["timeout", "connect", "dns", "tls", "http_status", "blocked_target", "other", "relay_offline"];

/// The counter of a kind this build does not know.
pub const OTHER_ERROR: usize = 6;

/// The highest finite bound: above the longest allowed attempt.
const MAX_BOUND_MS: i64 = 600_000;

pub fn bounds() -> &'static [i64] {
    static BOUNDS: OnceLock<Vec<i64>> = OnceLock::new();
    BOUNDS.get_or_init(|| {
        let mut b: Vec<i64> = (0..=10).collect();
        while let Some(&last) = b.last() {
            if last >= MAX_BOUND_MS {
                break;
            }
            // at most 10 % wider than the previous bound, never narrower than 1 ms
            b.push((last * 11 / 10).max(last + 1));
        }
        b
    })
}

/// The bucket of a duration in milliseconds.
pub fn bucket(ms: i64) -> usize {
    let b = bounds();
    b.partition_point(|&bound| bound < ms).min(b.len())
}

/// Number of buckets, the open-ended last one included.
pub fn bucket_count() -> usize {
    bounds().len() + 1
}

/// The value reported for bucket `i`.
fn bucket_value(i: usize) -> i64 {
    let b = bounds();
    match b.get(i) {
        Some(&bound) => bound,
        None => b.last().copied().unwrap_or(0),
    }
}

/// The `p`-quantile (0 < p <= 1) of a histogram: the upper bound of the bucket holding
/// the sample of rank ceil(p × n). None when the histogram is empty.
pub fn percentile(hist: &[i64], p: f64) -> Option<i64> {
    let n: i64 = hist.iter().sum();
    if n <= 0 {
        return None;
    }
    let rank = ((p * n as f64).ceil() as i64).clamp(1, n);
    let mut seen = 0;
    for (i, count) in hist.iter().enumerate() {
        seen += count;
        if seen >= rank {
            return Some(bucket_value(i));
        }
    }
    None
}

/// Whether the `p`-quantile of a histogram is certainly above `ms`: the sample of rank
/// ceil(p × n) lies in a bucket whose every value exceeds `ms`. A bucket that straddles
/// `ms` does not count, so a quantile reported just above `ms` (an upper bound) may still
/// be under it in truth and is not called above it.
pub fn quantile_exceeds(hist: &[i64], p: f64, ms: i64) -> bool {
    let n: i64 = hist.iter().sum();
    if n <= 0 {
        return false;
    }
    let rank = ((p * n as f64).ceil() as i64).clamp(1, n);
    let b = bounds();
    // bucket i holds bounds[i-1] < d <= bounds[i]: all above `ms` when bounds[i-1] >= ms
    let above: i64 =
        hist.iter().enumerate().skip(1).filter(|(i, _)| b.get(i - 1).is_some_and(|&lo| lo >= ms)).map(|(_, c)| c).sum();
    above > n - rank
}

/// Adds `other` into `into`, growing it as needed.
pub fn add_counts(into: &mut Vec<i64>, other: &[i32]) {
    if into.len() < other.len() {
        into.resize(other.len(), 0);
    }
    for (a, b) in into.iter_mut().zip(other) {
        *a += i64::from(*b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_exact_to_10ms_then_at_most_10_percent_wide() {
        let b = bounds();
        assert_eq!(&b[..11], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        for w in b.windows(2).skip(10) {
            assert!(w[1] > w[0]);
            assert!((w[1] - w[0]) as f64 <= 0.1 * w[0] as f64 + 1e-9, "{w:?}");
        }
        assert!(*b.last().unwrap() >= 600_000);
        assert!(b.len() < 150);
    }

    #[test]
    fn durations_fall_in_the_bucket_whose_bound_covers_them() {
        for ms in [0, 1, 5, 10, 11, 12, 99, 100, 101, 2_500, 30_000, 599_999] {
            let i = bucket(ms);
            assert!(bucket_value(i) >= ms, "{ms}");
            if i > 0 {
                assert!(bounds()[i - 1] < ms, "{ms}");
            }
        }
        assert_eq!(bucket(10_000_000), bounds().len());
    }

    #[test]
    fn percentiles_report_the_upper_bound_of_the_ranked_bucket() {
        let mut hist = vec![0i64; bucket_count()];
        for ms in [2, 2, 2, 3, 9, 14, 14, 14, 14, 200] {
            hist[bucket(ms)] += 1;
        }
        assert_eq!(percentile(&hist, 0.5), Some(9));
        assert_eq!(percentile(&hist, 0.3), Some(2));
        let p95 = percentile(&hist, 0.95).unwrap();
        assert!((200..=220).contains(&p95), "{p95}");
        let p80 = percentile(&hist, 0.8).unwrap();
        assert!((14..=16).contains(&p80), "{p80}");
        assert_eq!(percentile(&[0, 0], 0.5), None);
    }

    #[test]
    fn a_quantile_exceeds_a_value_only_when_its_bucket_lies_wholly_above_it() {
        let hist_of = |samples: &[i64]| {
            let mut hist = vec![0i64; bucket_count()];
            for &ms in samples {
                hist[bucket(ms)] += 1;
            }
            hist
        };
        let mut slow = vec![5; 94];
        slow.extend([20_000; 6]);
        assert!(quantile_exceeds(&hist_of(&slow), 0.95, 10_000), "6 % above 10 s");
        let mut fast = vec![5; 96];
        fast.extend([20_000; 4]);
        assert!(!quantile_exceeds(&hist_of(&fast), 0.95, 10_000), "4 % above 10 s");
        // 9,900 ms shares a bucket with values above 10 s, whose upper bound is reported
        let near = hist_of(&[9_900; 20]);
        assert!(percentile(&near, 0.95).unwrap() > 10_000);
        assert!(!quantile_exceeds(&near, 0.95, 10_000));
        assert!(!quantile_exceeds(&[0, 0], 0.95, 10));
    }
}
