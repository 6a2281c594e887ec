//! A per-client limit on the sign-up and login routes, against password guessing and
//! mass sign-ups: a fixed one-minute window per client IP, in memory (each API process
//! counts on its own). Behind a reverse proxy every client shares the proxy's address:
//! raise the limit there, or set it to 0 (off) and limit at the proxy.

use std::collections::HashMap;
use std::net::IpAddr;
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

#[cfg(test)]
mod tests {
    use super::*;

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
