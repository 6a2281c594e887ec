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
//!
//! A webhook that can run but cannot keep up with a deep due backlog (its receiver hangs
//! or is slow, or its rate limit holds it back) is *backlogged* (`webhooks.backlogged`):
//! only a window of its earliest deliveries stays in the due queue and the rest is parked,
//! so that a claim walks at most [`WINDOW`] of its rows instead of all of them (250,000
//! such deliveries made another tenant's deliveries 0.24 s late, 500,000 0.64 s). The
//! window moves with the work: [`refill`] brings one parked delivery back, earliest
//! first, for each delivery of the webhook that ends, in the transaction that records the
//! end; new deliveries of the webhook are parked as they come ([`park_arrivals`]); and a
//! window that emptied while nothing of the webhook is in flight (it was inactive or
//! paused, or all of the window waits for retries) gets [`WINDOW`] more ([`top_up`]). The
//! webhook is an ordinary one again once none of its deliveries is parked.

use std::collections::{HashMap, HashSet};

use diesel::sql_types::{Array, BigInt, Nullable, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::prepared::prepared;

/// The deliveries of a backlogged webhook kept in the due queue: more than any
/// `maxConcurrency` (100), so that a receiver that recovers finds enough due work at once.
pub const WINDOW: i64 = 250;

/// A webhook is backlogged when more than this many of its due deliveries are among the
/// due queue's front and, at two upkeep passes in a row (a burst that has just begun has no
/// attempts yet), its attempts of the last 10 s would take more than 30 s to work through
/// them.
const CROWDING: i64 = 2 * WINDOW;

/// Whether the pending delivery `delivery` (an alias) of webhook `w` is to be parked. Test
/// deliveries are parked only with a deleted webhook: an inactive webhook still sends
/// them, and they are too few to cost a claim anything while a pause lasts (so no pause
/// can strand one on an inactive webhook, which unparking does not look at). A pause
/// parks only when it has a while to run: a short one is cheaper to wait out. A relay
/// webhook's deliveries, test ones included, are all parked: no dispatcher claims them,
/// and its listeners find them by webhook (`queue::pg::relay`).
fn parks(delivery: &str) -> String {
    format!(
        "(w.deleted_at IS NOT NULL OR w.kind = 'relay' OR (NOT {delivery}.test \
          AND (NOT w.active OR w.paused_until > now() + interval '10 seconds')))"
    )
}

/// A webhook whose deliveries may all run again (or will within the unpark's lead, so
/// that they are back in the due index when its pause ends). Only test deliveries run on
/// an inactive webhook, and those are never parked with a live one (see [`parks`]). A
/// relay webhook's deliveries stay parked.
const RUNS: &str = "(w.deleted_at IS NULL AND w.active AND w.kind = 'http' \
                    AND (w.paused_until IS NULL OR w.paused_until <= now() + interval '2 seconds'))";

/// What one dispatcher's upkeep remembers of backlogged webhooks between passes.
#[derive(Default)]
pub struct Windows {
    /// Webhooks found crowding the front and slow at the last pass.
    suspects: HashSet<Uuid>,
    /// Per backlogged webhook, the highest delivery id already walked: deliveries are
    /// made with time-ordered ids, so those above it are the webhook's new ones.
    marks: HashMap<Uuid, Uuid>,
}

#[derive(QueryableByName)]
struct Front {
    #[diesel(sql_type = SqlUuid)]
    webhook_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    parkable: bool,
    /// its due deliveries in the front, test deliveries aside: only due rows are walked
    /// by claims (the front also holds rows waiting for a retry or a rate limit)
    #[diesel(sql_type = BigInt)]
    n: i64,
    /// when it crowds the front: its attempts of the last 10 s (at most `n`)
    #[diesel(sql_type = Nullable<BigInt>)]
    recent: Option<i64>,
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
    #[diesel(sql_type = Nullable<SqlUuid>)]
    id: Option<Uuid>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Looks at the first `front` pending deliveries in due order (the rows that claims walk
/// first): parks all parkable deliveries of the webhooks that have some there, and makes
/// backlogged the webhooks that crowd it and are slow, walking `batch` rows per
/// statement. Returns how many it parked.
pub async fn park_front(
    conn: &mut AsyncPgConnection,
    front: i64,
    batch: i64,
    windows: &mut Windows,
) -> diesel::QueryResult<usize> {
    let webhooks: Vec<Front> = diesel::sql_query(format!(
        "WITH f AS MATERIALIZED (SELECT d.webhook_id, d.test, d.next_attempt_at FROM deliveries d \
           WHERE d.status = 'pending' AND NOT d.parked ORDER BY d.next_attempt_at LIMIT $1), \
         per AS (SELECT f.webhook_id, coalesce(bool_or({}), false) AS parkable, \
           count(*) FILTER (WHERE NOT f.test AND f.next_attempt_at <= now()) AS n \
           FROM f JOIN webhooks w ON w.id = f.webhook_id GROUP BY f.webhook_id) \
         SELECT per.webhook_id, per.parkable, per.n, \
           CASE WHEN NOT per.parkable AND per.n > $2 THEN (SELECT count(*) FROM (SELECT 1 FROM webhook_logs l \
             WHERE l.webhook_id = per.webhook_id AND l.created_at > now() - interval '10 seconds' LIMIT per.n) AS r) \
             END AS recent \
         FROM per WHERE per.parkable OR per.n > $2",
        parks("f")
    ))
    .bind::<BigInt, _>(front)
    .bind::<BigInt, _>(CROWDING)
    .load(conn)
    .await?;
    let mut parked = 0;
    let mut suspects = HashSet::new();
    for w in webhooks {
        if w.parkable {
            parked += park_webhook(conn, w.webhook_id, batch).await?;
            continue;
        }
        let Some(recent) = w.recent else { continue };
        if recent * 3 >= w.n {
            continue;
        }
        if windows.suspects.contains(&w.webhook_id) {
            let (n, top) = window_webhook(conn, w.webhook_id, batch).await?;
            parked += n;
            windows.marks.insert(w.webhook_id, top);
            tracing::info!(webhook_id = %w.webhook_id, parked = n, "a slow webhook's backlog parked but for a window");
        } else {
            suspects.insert(w.webhook_id);
        }
    }
    windows.suspects = suspects;
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

#[derive(QueryableByName)]
struct Windowed {
    /// the highest id the statement looked at
    #[diesel(sql_type = Nullable<SqlUuid>)]
    top: Option<Uuid>,
    /// the deliveries it could have parked, kept ones included
    #[diesel(sql_type = BigInt)]
    seen: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Makes a webhook backlogged: keeps its [`WINDOW`] oldest pending deliveries in the due
/// queue and parks the others (test deliveries aside), walking its deliveries oldest first
/// by id (ids are time-ordered: for deliveries not yet attempted, the order they fall due
/// in; the due time cannot tell apart the deliveries of one fan-out, or of one statement),
/// `batch` per statement. Each batch first sets the webhook's flags, as in
/// [`park_webhook`]. Returns how many it parked and the highest id it walked.
async fn window_webhook(conn: &mut AsyncPgConnection, webhook: Uuid, batch: i64) -> diesel::QueryResult<(usize, Uuid)> {
    let mut above = Uuid::nil();
    let mut keep = WINDOW;
    let mut parked = 0;
    loop {
        let rows: Vec<Windowed> = conn
            .transaction::<_, diesel::result::Error, _>(async move |conn| {
                diesel::sql_query("UPDATE webhooks SET parked = true, backlogged = true WHERE id = $1")
                    .bind::<SqlUuid, _>(webhook)
                    .execute(conn)
                    .await?;
                diesel::sql_query(
                    "WITH picked AS (SELECT d.id FROM deliveries d WHERE d.webhook_id = $1 AND d.id > $2 \
                       ORDER BY d.id LIMIT $3), \
                     candidates AS MATERIALIZED (SELECT d.id FROM deliveries d JOIN picked p ON p.id = d.id \
                       WHERE d.status = 'pending' AND NOT d.parked AND NOT d.test), \
                     locked AS (SELECT d.id FROM deliveries d \
                       WHERE d.id IN (SELECT c.id FROM candidates c ORDER BY c.id OFFSET $4) \
                       AND d.status = 'pending' AND NOT d.parked FOR UPDATE OF d SKIP LOCKED), \
                     done AS (UPDATE deliveries d SET parked = true FROM locked l WHERE d.id = l.id RETURNING d.id) \
                     SELECT (SELECT p.id FROM picked p ORDER BY p.id DESC LIMIT 1) AS top, \
                       (SELECT count(*) FROM candidates) AS seen, (SELECT count(*) FROM done) AS n",
                )
                .bind::<SqlUuid, _>(webhook)
                .bind::<SqlUuid, _>(above)
                .bind::<BigInt, _>(batch)
                .bind::<BigInt, _>(keep)
                .load(conn)
                .await
            })
            .await?;
        let Some(Windowed { top: Some(top), seen, n }) = rows.into_iter().next() else { break };
        parked += usize::try_from(n).unwrap_or(0);
        keep = (keep - seen).max(0);
        above = top;
    }
    Ok((parked, above))
}

/// Parks the new deliveries of every backlogged webhook (test deliveries aside), walking
/// them by id from where the last pass ended, `batch` per statement. A webhook this
/// process has no mark for (another process made it backlogged, or this one restarted)
/// gets one at its newest delivery: what came before stays as it is, and the front's
/// check windows it again if it crowds the due queue. Returns how many it parked.
pub async fn park_arrivals(
    conn: &mut AsyncPgConnection,
    batch: i64,
    windows: &mut Windows,
) -> diesel::QueryResult<usize> {
    let backlogged: Vec<Id> =
        diesel::sql_query("SELECT id FROM webhooks WHERE backlogged AND deleted_at IS NULL").load(conn).await?;
    let backlogged: HashSet<Uuid> = backlogged.into_iter().map(|w| w.id).collect();
    windows.marks.retain(|id, _| backlogged.contains(id));
    let mut parked = 0;
    for webhook in backlogged {
        let mut mark = match windows.marks.get(&webhook) {
            Some(mark) => *mark,
            None => {
                let newest: Vec<Id> =
                    diesel::sql_query("SELECT id FROM deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT 1")
                        .bind::<SqlUuid, _>(webhook)
                        .load(conn)
                        .await?;
                windows.marks.insert(webhook, newest.into_iter().next().map_or(Uuid::nil(), |d| d.id));
                continue;
            }
        };
        loop {
            let rows: Vec<Windowed> = conn
                .transaction::<_, diesel::result::Error, _>(async move |conn| {
                    // the webhook's row first, as in park_webhook: a webhook that is no
                    // longer backlogged (see top_up) parks nothing more
                    let still: Vec<Id> =
                        diesel::sql_query("SELECT id FROM webhooks WHERE id = $1 AND backlogged FOR NO KEY UPDATE")
                            .bind::<SqlUuid, _>(webhook)
                            .load(conn)
                            .await?;
                    if still.is_empty() {
                        return Ok(Vec::new());
                    }
                    diesel::sql_query(
                        "WITH picked AS (SELECT d.id FROM deliveries d WHERE d.webhook_id = $1 AND d.id > $2 \
                           ORDER BY d.id LIMIT $3), \
                         locked AS (SELECT d.id FROM deliveries d JOIN picked p ON p.id = d.id \
                           WHERE d.status = 'pending' AND NOT d.parked AND NOT d.test AND d.attempt_count = 0 \
                           FOR UPDATE OF d SKIP LOCKED), \
                         done AS (UPDATE deliveries d SET parked = true FROM locked l WHERE d.id = l.id RETURNING d.id) \
                         SELECT (SELECT p.id FROM picked p ORDER BY p.id DESC LIMIT 1) AS top, \
                           0::bigint AS seen, (SELECT count(*) FROM done) AS n",
                    )
                    .bind::<SqlUuid, _>(webhook)
                    .bind::<SqlUuid, _>(mark)
                    .bind::<BigInt, _>(batch)
                    .load(conn)
                    .await
                })
                .await?;
            let Some(Windowed { top: Some(top), n, .. }) = rows.into_iter().next() else { break };
            parked += usize::try_from(n).unwrap_or(0);
            mark = top;
            windows.marks.insert(webhook, mark);
        }
    }
    Ok(parked)
}

/// Gives up to [`WINDOW`] more of its parked deliveries, earliest first, to each
/// backlogged webhook that can run, has nothing in flight, and whose oldest delivery not
/// yet attempted is parked: its window emptied (it was inactive or paused), or every
/// delivery of it waits for a retry. (A rate limit's deliveries wait not yet attempted,
/// so a rate-limited window does not grow.) Makes a backlogged webhook with no parked
/// delivery left an ordinary one. Calls `came_back` when deliveries came back. Returns
/// how many.
pub async fn top_up(conn: &mut AsyncPgConnection, came_back: impl Fn()) -> diesel::QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Backlogged {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        idle: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        parked: bool,
    }
    let webhooks: Vec<Backlogged> = diesel::sql_query(format!(
        "SELECT w.id, NOT EXISTS (SELECT 1 FROM leases l WHERE l.webhook_id = w.id AND l.locked_until > now()) \
           AND coalesce((SELECT d.parked FROM deliveries d WHERE d.webhook_id = w.id AND d.status = 'pending' \
             AND d.attempt_count = 0 ORDER BY d.created_at LIMIT 1), true) AS idle, \
           EXISTS (SELECT 1 FROM deliveries d WHERE d.webhook_id = w.id AND d.parked) AS parked \
         FROM webhooks w WHERE w.backlogged AND {RUNS}"
    ))
    .load(conn)
    .await?;
    let mut back = 0;
    for w in webhooks {
        if w.parked {
            if w.idle {
                let n = unpark_earliest(conn, w.id, WINDOW).await?;
                back += n;
                if n > 0 {
                    came_back();
                }
            }
            continue;
        }
        conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
            // the row's lock first, then a fresh look for parked rows (see park_webhook)
            diesel::sql_query("SELECT id FROM webhooks WHERE id = $1 FOR NO KEY UPDATE")
                .bind::<SqlUuid, _>(w.id)
                .execute(conn)
                .await?;
            diesel::sql_query(
                "UPDATE webhooks w SET parked = false, backlogged = false WHERE w.id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.webhook_id = w.id AND d.parked)",
            )
            .bind::<SqlUuid, _>(w.id)
            .execute(conn)
            .await
        })
        .await?;
    }
    Ok(back)
}

/// Unparks up to `n` of a webhook's parked deliveries, earliest due first.
async fn unpark_earliest(conn: &mut AsyncPgConnection, webhook: Uuid, n: i64) -> diesel::QueryResult<usize> {
    diesel::sql_query(
        "UPDATE deliveries SET parked = false WHERE id IN (SELECT id FROM deliveries \
           WHERE webhook_id = $1 AND parked ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) AND parked",
    )
    .bind::<SqlUuid, _>(webhook)
    .bind::<BigInt, _>(n)
    .execute(conn)
    .await
}

/// In the transaction that records them: for each delivery that ended (`ended`, by its
/// webhook's id), one parked delivery of its webhook back into the due queue when the
/// webhook is backlogged and can run, earliest due first, so that the webhook's window
/// keeps its size while its backlog lasts. Skips rows that others hold locked, as every
/// statement here: a window one short is topped up later.
pub async fn refill(mut conn: &AsyncPgConnection, ended: Vec<Uuid>) -> diesel::QueryResult<usize> {
    if ended.is_empty() {
        return Ok(0);
    }
    prepared(
        diesel::sql_query(format!(
            "UPDATE deliveries d SET parked = false \
             FROM (SELECT u.id, count(*) AS n FROM unnest($1) AS u(id) GROUP BY u.id) AS f \
             JOIN webhooks w ON w.id = f.id AND w.backlogged AND {RUNS} \
             CROSS JOIN LATERAL (SELECT x.id FROM deliveries x WHERE x.webhook_id = f.id AND x.parked \
               ORDER BY x.next_attempt_at LIMIT f.n FOR UPDATE OF x SKIP LOCKED) AS p \
             WHERE d.id = p.id"
        ))
        .bind::<Array<SqlUuid>, _>(ended),
    )
    .execute(&mut conn)
    .await
}

/// Unparks, `batch` rows per statement, the deliveries of every webhook that can run
/// again, and clears the webhooks' flags once none of their rows is parked. Backlogged
/// webhooks are left to their windows ([`top_up`], [`refill`]). Calls
/// `came_back` after each statement that unparked some. Returns how many came back.
pub async fn unpark(conn: &mut AsyncPgConnection, batch: i64, came_back: impl Fn()) -> diesel::QueryResult<usize> {
    let webhooks: Vec<Id> =
        diesel::sql_query(format!("SELECT w.id FROM webhooks w WHERE w.parked AND NOT w.backlogged AND {RUNS}"))
            .load(conn)
            .await?;
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
                "UPDATE webhooks w SET parked = false WHERE w.id = $1 AND NOT w.backlogged AND {RUNS} \
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
