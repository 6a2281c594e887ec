//! Per-tenant API rate limits (SPEC "Multi-tenancy and auth"): a token bucket per tenant
//! for publishing and one for every other authenticated route, each with a burst of twice
//! its rate, shared by all API processes through PostgreSQL (`hookrelay_take_tokens`).
//!
//! A process takes tokens from the shared bucket in blocks of a tenth of the rate and
//! spends them locally; once the bucket is empty it refuses locally until a token is due
//! back. So the database sees about ten statements per second per process for a tenant at
//! or over its limit, whatever its request rate. Tokens a process took but did not spend
//! within a second are dropped (never spent late, which could exceed the burst): across
//! processes the count admitted is at most the bucket's, and short of it by at most the
//! blocks left unspent when a process goes quiet.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use diesel::sql_types::{Double, Integer, Text, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;

use crate::db::{PgPool, TenantId};
use crate::error::ApiError;

/// How long tokens taken from the shared bucket may wait to be spent here.
const LEASE: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// `POST /api/v1/events`
    Publish,
    /// every other authenticated route
    Api,
}

impl Class {
    fn as_str(self) -> &'static str {
        match self {
            Class::Publish => "publish",
            Class::Api => "api",
        }
    }
}

/// What one request drew: the `RateLimit-*` headers of its answer.
#[derive(Debug, Clone, Copy)]
pub struct Drawn {
    /// the bucket's capacity (the burst)
    pub limit: u64,
    /// whole tokens left
    pub remaining: u64,
    /// whole seconds until the bucket is full again
    pub reset: u64,
}

impl Drawn {
    pub fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in
            [("ratelimit-limit", self.limit), ("ratelimit-remaining", self.remaining), ("ratelimit-reset", self.reset)]
        {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
}

/// Tokens this process holds for one (tenant, class).
#[derive(Default)]
struct Held {
    tokens: u32,
    /// the shared bucket's level after the last take
    shared: f64,
    taken_at: Option<Instant>,
    /// the bucket was empty: requests are refused here until then, without asking again
    refused_until: Option<Instant>,
}

pub struct TenantLimits {
    pool: PgPool,
    /// requests per second; 0: no limit
    publish_rate: u32,
    api_rate: u32,
    held: Mutex<HashMap<(TenantId, Class), Bucket>>,
}

/// One (tenant, class)'s tokens here, behind a lock held across its take from the database.
type Bucket = Arc<tokio::sync::Mutex<Held>>;

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = Integer)]
    granted: i32,
    #[diesel(sql_type = Double)]
    remaining: f64,
}

impl TenantLimits {
    pub fn new(pool: PgPool, publish_rate: u32, api_rate: u32) -> TenantLimits {
        TenantLimits { pool, publish_rate, api_rate, held: Mutex::default() }
    }

    /// Spends one token of `tenant`'s `class` bucket. `Ok(None)`: the class has no limit.
    /// `Err((drawn, limited))`: over the limit, with the headers and the 429 to answer.
    pub async fn draw(&self, tenant: TenantId, class: Class) -> Result<Option<Drawn>, (Option<Drawn>, ApiError)> {
        let rate = match class {
            Class::Publish => self.publish_rate,
            Class::Api => self.api_rate,
        };
        if rate == 0 {
            return Ok(None);
        }
        let (rate, burst) = (f64::from(rate), 2.0 * f64::from(rate));
        let slot = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            held.entry((tenant, class)).or_default().clone()
        };
        // one take from the database at a time per bucket: the others wait and spend it
        let mut held = slot.lock().await;
        let level = |h: &Held| h.shared + f64::from(h.tokens);
        let fresh = held.taken_at.is_some_and(|t| t.elapsed() < LEASE);
        if !fresh || held.tokens == 0 {
            if let Some(until) = held.refused_until.filter(|u| Instant::now() < *u) {
                let retry_after_secs = (until - Instant::now()).as_secs_f64().ceil().max(1.0) as u64;
                return Err((Some(drawn(burst, rate, level(&held))), ApiError::RateLimited { retry_after_secs }));
            }
            let block = (rate / 10.0).ceil().clamp(1.0, burst) as i32;
            let taken = self.take(tenant, class, rate, burst, block).await.map_err(|e| (None, e))?;
            *held = Held {
                tokens: u32::try_from(taken.granted).unwrap_or(0),
                shared: taken.remaining,
                taken_at: Some(Instant::now()),
                refused_until: None,
            };
        }
        if held.tokens == 0 {
            // a whole token is back in (1 - level) / rate
            let wait = ((1.0 - held.shared) / rate).max(0.0);
            held.refused_until = Some(Instant::now() + Duration::from_secs_f64(wait));
            let retry_after_secs = wait.ceil().max(1.0) as u64;
            return Err((Some(drawn(burst, rate, level(&held))), ApiError::RateLimited { retry_after_secs }));
        }
        held.tokens -= 1;
        Ok(Some(drawn(burst, rate, level(&held))))
    }

    async fn take(&self, tenant: TenantId, class: Class, rate: f64, burst: f64, want: i32) -> Result<Taken, ApiError> {
        let mut conn = self.pool.get().await?;
        let taken = diesel::sql_query("SELECT * FROM hookrelay_take_tokens($1, $2, $3, $4, $5)")
            .bind::<SqlUuid, _>(tenant.0)
            .bind::<Text, _>(class.as_str())
            .bind::<Double, _>(rate)
            .bind::<Double, _>(burst)
            .bind::<Integer, _>(want)
            .get_result(&mut conn)
            .await?;
        Ok(taken)
    }
}

fn drawn(burst: f64, rate: f64, level: f64) -> Drawn {
    let level = level.clamp(0.0, burst);
    Drawn { limit: burst as u64, remaining: level.floor() as u64, reset: ((burst - level) / rate).ceil() as u64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_count_whole_tokens_and_seconds_to_full() {
        let d = drawn(200.0, 100.0, 150.5);
        assert_eq!((d.limit, d.remaining, d.reset), (200, 150, 1));
        let d = drawn(4.0, 2.0, 0.2);
        assert_eq!((d.limit, d.remaining, d.reset), (4, 0, 2));
        let d = drawn(4.0, 2.0, 4.0);
        assert_eq!((d.remaining, d.reset), (4, 0));
    }
}
