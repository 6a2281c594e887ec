//! The sources that ingest URLs named lately, by their token's hash, so that a provider's
//! burst does not look its source up once per request (a round trip and a statement on
//! the server for each: a sixth of an ingest's cost at full speed).
//!
//! A change made through this process's API empties the cache at once (`api::sources`
//! calls [`SourceCache::clear`] after every write), so a request that follows a change
//! sees it. A change made by another process (another API process, `hookrelay
//! reencrypt`) reaches this one's ingest within [`FRESH_FOR`]. Only tokens that name a
//! source are kept: unknown tokens are looked up every time, so that random paths cannot
//! fill the cache, and a source's previous token is checked against its expiry at every
//! use.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::db::sources::{token_hash, Source};

/// How long a looked-up source is used without looking again.
pub const FRESH_FOR: Duration = Duration::from_secs(1);
/// Most sources kept; the cache is emptied when full (sources are few: 100 per tenant).
const MOST: usize = 10_000;

#[derive(Default)]
pub struct SourceCache {
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    by_hash: HashMap<Vec<u8>, (Instant, Source)>,
    /// Counts the clears: a lookup that began before the last one may have read a row
    /// as it was before the change, and is not kept.
    clears: u64,
}

/// When a lookup began, for [`SourceCache::put`].
pub struct Lookup(u64);

impl SourceCache {
    /// The source `token` names, if looked up within [`FRESH_FOR`] and still named by it.
    pub fn get(&self, token: &str) -> Option<Source> {
        let hash = token_hash(token);
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let (at, source) = held.by_hash.get(&hash)?;
        let named = source.token_hash == hash
            || (source.previous_token_hash.as_ref() == Some(&hash)
                && source.previous_token_expires_at.is_some_and(|until| until > Utc::now()));
        (at.elapsed() < FRESH_FOR && named).then(|| source.clone())
    }

    /// Marks the start of a lookup in the database.
    pub fn lookup(&self) -> Lookup {
        Lookup(self.held.lock().unwrap_or_else(|p| p.into_inner()).clears)
    }

    /// Keeps the source `token` was found to name by `lookup`, unless a source changed
    /// since it began.
    pub fn put(&self, lookup: Lookup, token: &str, source: &Source) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.clears != lookup.0 {
            return;
        }
        if held.by_hash.len() >= MOST {
            held.by_hash.clear();
        }
        held.by_hash.insert(token_hash(token), (Instant::now(), source.clone()));
    }

    /// Forgets every source: one of them changed (called once the change is committed).
    pub fn clear(&self) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.by_hash.clear();
        held.clears += 1;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn source(token: &str) -> Source {
        Source {
            id: uuid::Uuid::now_v7(),
            tenant_id: uuid::Uuid::now_v7(),
            name: "s".into(),
            provider: "github".into(),
            config: serde_json::json!({}),
            secrets: String::new(),
            previous_secrets: None,
            previous_secrets_expire_at: None,
            event_type: None,
            consumer_id: None,
            active: true,
            token_hash: token_hash(token),
            token: String::new(),
            previous_token_hash: None,
            previous_token_expires_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn a_lookup_is_kept_unless_a_source_changed_while_it_ran() {
        let cache = SourceCache::default();
        let lookup = cache.lookup();
        cache.put(lookup, "tok", &source("tok"));
        assert!(cache.get("tok").is_some());
        assert!(cache.get("other").is_none(), "only the token looked up");
        let lookup = cache.lookup();
        cache.clear();
        assert!(cache.get("tok").is_none(), "a change empties the cache");
        cache.put(lookup, "tok", &source("tok"));
        assert!(cache.get("tok").is_none(), "a row read before the change is not kept");
    }

    #[test]
    fn a_previous_token_is_used_only_until_it_expires() {
        let cache = SourceCache::default();
        let mut s = source("new");
        s.previous_token_hash = Some(token_hash("old"));
        s.previous_token_expires_at = Some(Utc::now() + chrono::Duration::hours(1));
        cache.put(cache.lookup(), "old", &s);
        assert!(cache.get("old").is_some());
        s.previous_token_expires_at = Some(Utc::now() - chrono::Duration::seconds(1));
        cache.put(cache.lookup(), "old", &s);
        assert!(cache.get("old").is_none(), "an expired previous token is looked up again");
    }
}
