//! The queue's gauges for `/metrics`.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::prepared::prepared;

#[derive(QueryableByName)]
struct QueueGauges {
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    oldest_due_age: f64,
}

/// Pending deliveries (parked ones included), and how long the oldest due one that a claim
/// can take has waited (seconds; 0 if none).
pub async fn gauges(conn: &mut AsyncPgConnection) -> QueryResult<(i64, f64)> {
    let g: QueueGauges = prepared(diesel::sql_query(
        "SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending' AND NOT parked) \
             + (SELECT count(*) FROM deliveries WHERE parked AND status = 'pending') AS pending, \
           coalesce((SELECT extract(epoch FROM now() - next_attempt_at)::float8 FROM deliveries \
             WHERE status = 'pending' AND NOT parked AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 1), 0) \
             AS oldest_due_age",
    ))
    .get_result(conn)
    .await?;
    Ok((g.pending, g.oldest_due_age))
}
