//! A per-client limit on the sign-up and login routes, against password guessing and
//! mass sign-ups: a fixed one-minute window per client IP, in memory (each API process
//! counts on its own). Behind a reverse proxy every client shares the proxy's address:
//! raise the limit there, or set it to 0 (off) and limit at the proxy.
//!
//! IPv6 clients are counted per /64: one subscriber usually holds a whole /64 and can
//! rotate through its addresses at will.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ApiError;

const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked clients, finished windows are dropped.
const PRUNE_ABOVE: usize = 10_000;

pub struct AuthLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl AuthLimiter {
    /// `per_minute` 0 turns the limit off.
    pub fn new(per_minute: u32) -> AuthLimiter {
        AuthLimiter { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts one request from `client`; 429 with the seconds until its window ends when
    /// over the limit.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), ApiError> {
        let (Some(ip), true) = (client, self.per_minute > 0) else { return Ok(()) };
        let ip = client_key(ip);
        let now = Instant::now();
        let Ok(mut windows) = self.windows.lock() else { return Ok(()) };
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let (start, count) = windows.entry(ip).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        *count += 1;
        if *count > self.per_minute {
            let left = WINDOW.saturating_sub(now.duration_since(*start));
            return Err(ApiError::RateLimited { retry_after_secs: left.as_secs().max(1) });
        }
        Ok(())
    }
}

/// The address a client is counted under: IPv4 as it is (also when mapped into IPv6),
/// IPv6 by its /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_per_64() {
        let limiter = AuthLimiter::new(2);
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert!(limiter.check(ip("2001:db8:1:2::1")).is_ok());
        assert!(limiter.check(ip("2001:db8:1:2:ffff::9")).is_ok());
        assert!(limiter.check(ip("2001:db8:1:2:abcd::1")).is_err(), "the same /64");
        assert!(limiter.check(ip("2001:db8:1:3::1")).is_ok(), "another /64");
        assert!(limiter.check(ip("::ffff:10.0.0.7")).is_ok());
        assert!(limiter.check(ip("10.0.0.7")).is_ok());
        assert!(limiter.check(ip("10.0.0.7")).is_err(), "mapped and plain IPv4 are one client");
    }

    #[test]
    fn counts_per_client_and_can_be_off() {
        let limiter = AuthLimiter::new(2);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert!(limiter.check(Some(a)).is_ok());
        assert!(limiter.check(Some(a)).is_ok());
        assert!(
            matches!(limiter.check(Some(a)), Err(ApiError::RateLimited { retry_after_secs }) if retry_after_secs <= 60)
        );
        assert!(limiter.check(Some(b)).is_ok(), "another client has its own window");
        let off = AuthLimiter::new(0);
        for _ in 0..100 {
            assert!(off.check(Some(a)).is_ok());
        }
    }
}
