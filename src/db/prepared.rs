//! Raw SQL that stays prepared on its connection.
//!
//! diesel treats every `sql_query` as possibly generated text and never caches it: each
//! run prepares an unnamed statement (a round trip and a parse and plan on the server)
//! before it executes (a second round trip). The hot statements of the queue are fixed
//! text with bind parameters only, so they are safe to keep prepared: wrapped in
//! [`prepared`], a statement is parsed once per connection and then runs in one round
//! trip.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::QueryResult;

/// A statement whose SQL text is one of a fixed set (never built from data), so that
/// diesel may cache its prepared form under that text.
pub struct Prepared<Q>(Q);

/// Marks `query` as fixed text. Only for statements whose SQL never depends on data:
/// each distinct text stays prepared for the life of the connection.
pub fn prepared<Q>(query: Q) -> Prepared<Q> {
    Prepared(query)
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// No static id: the cache is keyed by the SQL text (and bind types).
impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}
