//! Advisory locks that more than one module takes, so that each takes them the same way.

use diesel::sql_types::BigInt;
use diesel::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::prepared::prepared;

/// Serialises the recording of attempts, so that log sequence numbers are assigned in
/// commit order and a stream reading `seq > last` never skips a row.
pub const RECORD_LOCK: i64 = 0x686f_6f6b_6c6f_6773; // "hooklogs"

/// Takes the record lock until the caller's transaction ends. Recording takes it first,
/// so that log sequence numbers follow commit order; a transaction that also changes
/// deliveries and stats rows (deleting a webhook) takes it first too, so that the two
/// never lock those rows in opposite orders (a deadlock).
pub async fn lock_recording(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    prepared(diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<BigInt, _>(RECORD_LOCK))
        .execute(conn)
        .await?;
    Ok(())
}
