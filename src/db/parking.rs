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

use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Whether the pending delivery `delivery` (an alias) of webhook `w` is to be parked. Test
/// deliveries are parked only with a deleted webhook: an inactive webhook still sends
/// them, and they are too few to cost a claim anything while a pause lasts (so no pause
/// can strand one on an inactive webhook, which unparking does not look at). A pause
/// parks only when it has a while to run: a short one is cheaper to wait out.
fn parks(delivery: &str) -> String {
    format!(
        "(w.deleted_at IS NOT NULL OR (NOT {delivery}.test \
          AND (NOT w.active OR w.paused_until > now() + interval '10 seconds')))"
    )
}

/// A webhook whose deliveries may all run again (or will within the unpark's lead, so
/// that they are back in the due index when its pause ends). Only test deliveries run on
/// an inactive webhook, and those are never parked with a live one (see [`parks`]).
const RUNS: &str = "(w.deleted_at IS NULL AND w.active \
                    AND (w.paused_until IS NULL OR w.paused_until <= now() + interval '2 seconds'))";

#[derive(QueryableByName)]
struct Front {
    #[diesel(sql_type = SqlUuid)]
    webhook_id: Uuid,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

#[derive(QueryableByName)]
struct Walked {
    /// the lowest id the statement looked at (no min(uuid) before PostgreSQL 16): the
    /// next one starts below it
    #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
    id: Option<Uuid>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Finds the webhooks with parkable deliveries among the first `front` pending deliveries
/// in due order (the rows that claims walk first), and parks all of their parkable
/// deliveries, walking `batch` rows per statement. Returns how many it parked.
pub async fn park_front(conn: &mut AsyncPgConnection, front: i64, batch: i64) -> diesel::QueryResult<usize> {
    let webhooks: Vec<Front> = diesel::sql_query(format!(
        "WITH f AS (SELECT d.webhook_id, d.test FROM deliveries d \
           WHERE d.status = 'pending' AND NOT d.parked ORDER BY d.next_attempt_at LIMIT $1) \
         SELECT DISTINCT f.webhook_id FROM f JOIN webhooks w ON w.id = f.webhook_id WHERE {}",
        parks("f")
    ))
    .bind::<BigInt, _>(front)
    .load(conn)
    .await?;
    let mut parked = 0;
    for w in webhooks {
        parked += park_webhook(conn, w.webhook_id, batch).await?;
    }
    Ok(parked)
}

/// Parks a webhook's parkable pending deliveries, walking its deliveries newest first by
/// id, so that each statement starts where the last ended.
///
/// Each batch is a transaction that first sets the webhook's flag, holding the webhook's
/// row until it commits: the batch then judges the webhook by its latest state (a
/// reactivation waits for it, or is seen by it), and an unpark finishing meanwhile waits
/// on that row before it looks for parked rows, so it cannot clear the flag over rows
/// parked here. The batch never waits on a delivery (skip locked), so a recording that
/// waits on the webhook's row cannot close a cycle.
async fn park_webhook(conn: &mut AsyncPgConnection, webhook: Uuid, batch: i64) -> diesel::QueryResult<usize> {
    let mut below = Uuid::max();
    let mut parked = 0;
    loop {
        let rows: Vec<Walked> = conn
            .transaction::<_, diesel::result::Error, _>(async move |conn| {
                diesel::sql_query("UPDATE webhooks SET parked = true WHERE id = $1")
                    .bind::<SqlUuid, _>(webhook)
                    .execute(conn)
                    .await?;
                diesel::sql_query(format!(
                    "WITH picked AS (SELECT d.id FROM deliveries d WHERE d.webhook_id = $1 AND d.id < $2 \
               ORDER BY d.id DESC LIMIT $3), \
             locked AS (SELECT d.id FROM deliveries d JOIN picked p ON p.id = d.id \
               WHERE d.status = 'pending' AND NOT d.parked FOR UPDATE OF d SKIP LOCKED), \
             done AS (UPDATE deliveries d SET parked = true FROM locked l, webhooks w \
               WHERE d.id = l.id AND w.id = d.webhook_id AND {} RETURNING d.id) \
             SELECT (SELECT p.id FROM picked p ORDER BY p.id LIMIT 1) AS id, (SELECT count(*) FROM done) AS n",
                    parks("d")
                ))
                .bind::<SqlUuid, _>(webhook)
                .bind::<SqlUuid, _>(below)
                .bind::<BigInt, _>(batch)
                .load(conn)
                .await
            })
            .await?;
        let Some(row) = rows.into_iter().next() else { break };
        parked += usize::try_from(row.n).unwrap_or(0);
        match row.id {
            Some(id) => below = id,
            None => break,
        }
    }
    Ok(parked)
}

/// Unparks, `batch` rows per statement, the deliveries of every webhook that can run
/// again, and clears the webhooks' flags once none of their rows is parked. Calls
/// `came_back` after each statement that unparked some. Returns how many came back.
pub async fn unpark(conn: &mut AsyncPgConnection, batch: i64, came_back: impl Fn()) -> diesel::QueryResult<usize> {
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
            if n > 0 {
                came_back();
            }
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
