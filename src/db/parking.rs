//! Parking: pending deliveries that no claim can take now (their webhook is inactive,
//! deleted, or paused for a while) leave the due index, and come back when their webhook
//! can run again (issue 16, item 5). Without it every claim walked past such a backlog to
//! reach work it could take: 500,000 deliveries of inactive webhooks made another
//! tenant's deliveries 0.6-1.0 s late.
//!
//! `deliveries.parked` keeps a row out of the due index; `webhooks.parked` says that the
//! webhook may have parked rows, so that unparking finds them through a small index. No
//! statement here waits on a delivery's lock (the recorder and the claim hold those):
//! rows that are locked are skipped and taken at the next pass.

use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// A row of `webhooks` whose pending deliveries are parked (test deliveries of an
/// inactive webhook still go, so they stay). A pause parks only when it has a while to
/// run: a short one is cheaper to wait out.
const PARKS: &str = "(w.deleted_at IS NOT NULL OR (NOT w.active AND NOT f.test) \
                     OR w.paused_until > now() + interval '10 seconds')";

/// A webhook whose deliveries may all run again (or will within the unpark's lead, so
/// that they are back in the due index when its pause ends).
const RUNS: &str = "(w.deleted_at IS NULL AND w.active \
                    AND (w.paused_until IS NULL OR w.paused_until <= now() + interval '2 seconds'))";

#[derive(QueryableByName)]
struct Front {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    webhook_id: Uuid,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// Parks what it can of the first `front` pending deliveries in due order: the rows that
/// claims walk first. Returns how many of them it parked; fewer than `front` parkable
/// rows means the front of the queue is work that can be taken.
pub async fn park_front(conn: &mut AsyncPgConnection, front: i64) -> diesel::QueryResult<usize> {
    conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
        let rows: Vec<Front> = diesel::sql_query(format!(
            "WITH f AS (SELECT d.id, d.webhook_id, d.test FROM deliveries d \
               WHERE d.status = 'pending' AND NOT d.parked ORDER BY d.next_attempt_at LIMIT $1) \
             SELECT f.id, f.webhook_id FROM f JOIN webhooks w ON w.id = f.webhook_id WHERE {PARKS}"
        ))
        .bind::<BigInt, _>(front)
        .load(conn)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let (ids, mut webhooks): (Vec<Uuid>, Vec<Uuid>) = rows.into_iter().map(|r| (r.id, r.webhook_id)).unzip();
        webhooks.sort_unstable();
        webhooks.dedup();
        // The flag first: an unpark that finishes meanwhile rechecks for parked rows after
        // taking this row's lock, so it cannot clear the flag over rows parked here.
        diesel::sql_query("UPDATE webhooks SET parked = true WHERE id = ANY($1) AND NOT parked")
            .bind::<Array<SqlUuid>, _>(&webhooks)
            .execute(conn)
            .await?;
        diesel::sql_query(
            "UPDATE deliveries SET parked = true WHERE id IN (SELECT id FROM deliveries \
               WHERE id = ANY($1) AND status = 'pending' AND NOT parked FOR UPDATE SKIP LOCKED) \
             AND status = 'pending' AND NOT parked",
        )
        .bind::<Array<SqlUuid>, _>(&ids)
        .execute(conn)
        .await
    })
    .await
}

/// Unparks, `batch` rows per statement, the deliveries of every webhook that can run
/// again, and clears the webhooks' flags once none of their rows is parked. Returns how
/// many deliveries came back.
pub async fn unpark(conn: &mut AsyncPgConnection, batch: i64) -> diesel::QueryResult<usize> {
    let webhooks: Vec<Id> =
        diesel::sql_query(format!("SELECT w.id FROM webhooks w WHERE w.parked AND {RUNS}")).load(conn).await?;
    let mut back = 0;
    for w in webhooks {
        loop {
            let n = diesel::sql_query(
                "UPDATE deliveries SET parked = false WHERE id IN (SELECT id FROM deliveries \
                   WHERE webhook_id = $1 AND parked LIMIT $2 FOR UPDATE SKIP LOCKED) AND parked",
            )
            .bind::<SqlUuid, _>(w.id)
            .bind::<BigInt, _>(batch)
            .execute(conn)
            .await?;
            back += n;
            if n < usize::try_from(batch).unwrap_or(usize::MAX) {
                break;
            }
        }
        conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
            // the row's lock first, then a fresh look for parked rows (see park_front)
            diesel::sql_query("SELECT id FROM webhooks WHERE id = $1 FOR NO KEY UPDATE")
                .bind::<SqlUuid, _>(w.id)
                .execute(conn)
                .await?;
            diesel::sql_query(format!(
                "UPDATE webhooks w SET parked = false WHERE w.id = $1 AND {RUNS} \
                 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.webhook_id = w.id AND d.parked)"
            ))
            .bind::<SqlUuid, _>(w.id)
            .execute(conn)
            .await
        })
        .await?;
    }
    Ok(back)
}
