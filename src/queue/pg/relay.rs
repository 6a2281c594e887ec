//! The queue side of relay webhooks (SPEC "Local relay"): their deliveries are never
//! claimed by a dispatcher (`hookrelay_claim` takes only `kind = 'http'`, migration 20)
//! but by a listener, through the relay routes (`api::relay`), one webhook at a time:
//! due deliveries, oldest first, leased in the same `leases` table as a dispatcher's
//! claim, so that an outcome is recorded by the same `record` and a lease that a dead
//! listener leaves expires and hands its delivery out again.
//!
//! The small statements here are kept prepared on their connection (`db::prepared`),
//! the claims are not (see `claim_relay`). A claim finds a webhook's due deliveries through two exact indexes, never by walking
//! its history: those never attempted (`deliveries_unattempted_webhook_idx`, oldest
//! first), and the parked ones (`deliveries_parked_idx`). A delivery a claim takes is
//! parked with it, so that its retries are found the second way; upkeep parks the rest
//! (a recovered delivery, say) within a second (`db::parking`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use uuid::Uuid;

use super::claim::ClaimedRow;
use crate::db::prepared::prepared;
use crate::domain::ids::{DeliveryId, LeaseId, TenantId, WebhookId};
use crate::queue::Leased;
use crate::secrets::Sealer;

/// The columns of a leased relay delivery, as `ClaimedRow` reads them (`url` is the
/// empty text: the listener's local URL is known only from its report).
const ROW: &str = "d.id AS delivery_id, d.tenant_id, d.event_id, d.webhook_id, d.event_type, d.attempt_count, \
                   d.series_attempts, d.test, l.lease_id, ''::text AS url, w.headers, w.secret, \
                   CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END AS previous_secret, \
                   w.retry_schedule, e.body, d.created_at AS delivery_created_at, false AS throttled, e.source_id, \
                   e.source_headers";

/// The earliest `$3` due and unleased deliveries of `webhook` of each way a claim finds
/// them: never attempted (oldest first), and parked (earliest due first). Each is an
/// ordered index scan that stops after `$3` rows (and the live leases it passes, at most
/// the webhook's `maxConcurrency`): a backlog of any size costs a claim the same.
const DUE: &str = "(SELECT d.id FROM deliveries d WHERE d.webhook_id = $1 AND d.status = 'pending' \
                     AND d.attempt_count = 0 AND d.next_attempt_at <= now() \
                     AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.delivery_id = d.id AND l.locked_until > now()) \
                     ORDER BY d.created_at LIMIT $3) \
                   UNION ALL \
                   (SELECT d.id FROM deliveries d WHERE d.webhook_id = $1 AND d.parked AND d.status = 'pending' \
                     AND d.next_attempt_at <= now() \
                     AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.delivery_id = d.id AND l.locked_until > now()) \
                     ORDER BY d.next_attempt_at LIMIT $3)";

#[derive(QueryableByName)]
struct NextDue {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    next_due: Option<DateTime<Utc>>,
}

/// Leases up to `limit` due deliveries of the tenant's relay webhook `webhook`, oldest
/// first, within its `maxConcurrency` (counting every live lease of it: two listeners
/// share it) and its `rateLimitPerMinute` (attempts logged in the last 60 s and live
/// leases; what is over it waits), for `lease`, to `listener`, unless it has said goodbye meanwhile (a poll
/// it left when it stopped must not take deliveries no one will forward). Its inactive webhook's deliveries wait, test deliveries aside,
/// as a dispatcher's would. Claims of one webhook are serialised by an advisory lock
/// held to their commit, so that two listeners never lease past the limit together.
pub async fn claim_relay(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    webhook: WebhookId,
    listener: Uuid,
    limit: usize,
    lease: Duration,
    sealer: &Sealer,
) -> QueryResult<Vec<Leased>> {
    let sql = format!(
        "WITH w AS (SELECT id, max_concurrency, active, rate_limit_per_minute FROM webhooks WHERE id = $1 AND tenant_id = $2 \
           AND kind = 'relay' AND deleted_at IS NULL \
           AND EXISTS (SELECT 1 FROM relay_listeners r WHERE r.id = $6 AND r.webhook_id = $1)), \
         live AS (SELECT count(*) AS n FROM leases l WHERE l.webhook_id = $1 AND l.locked_until > now()), \
         rate AS (SELECT w.rate_limit_per_minute - (SELECT count(*) FROM webhook_logs g WHERE g.webhook_id = $1 \
           AND g.created_at > now() - interval '60 seconds') - (SELECT n FROM live) AS room FROM w), \
         c AS (SELECT d.id, d.next_attempt_at FROM deliveries d JOIN w ON w.id = d.webhook_id \
           WHERE d.id IN ({DUE}) AND d.status = 'pending' AND d.next_attempt_at <= now() AND (w.active OR d.test) \
           AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.delivery_id = d.id AND l.locked_until > now()) \
           ORDER BY d.next_attempt_at, d.id \
           LIMIT greatest(0, least($3, (SELECT max_concurrency FROM w) - (SELECT n FROM live), (SELECT room FROM rate))) \
           FOR UPDATE OF d SKIP LOCKED), \
         l AS (INSERT INTO leases (delivery_id, webhook_id, lease_id, locked_until) \
           SELECT c.id, $1, $4, now() + make_interval(secs => $5) FROM c \
           ON CONFLICT (delivery_id) DO UPDATE SET lease_id = EXCLUDED.lease_id, locked_until = EXCLUDED.locked_until \
           RETURNING delivery_id, lease_id), \
         p AS (UPDATE deliveries SET parked = true WHERE id IN (SELECT id FROM c) AND NOT parked) \
         SELECT {ROW} FROM l JOIN deliveries d ON d.id = l.delivery_id JOIN webhooks w ON w.id = d.webhook_id \
         JOIN events e ON e.id = d.event_id ORDER BY d.next_attempt_at, d.id"
    );
    let lease_id = Uuid::now_v7();
    let rows: Vec<ClaimedRow> = conn
        .transaction(async move |conn| {
            // the claim's plan is pinned, as the dispatcher's is (migration 10): statistics
            // of a queue are always stale, and a plan made while a backlog looked small
            // sorted all of it on every claim. Its commit does not wait for the WAL: a
            // lease lost in a crash only means the delivery is handed out again.
            conn.batch_execute(&format!(
                "SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off; SET LOCAL synchronous_commit = off; \
                 SELECT pg_advisory_xact_lock(hashtextextended('relay {}', 7))",
                webhook.0
            ))
            .await?;
            // not kept prepared: a generic plan of it, made without the claim's size and the
            // backlog's shape, walked the whole backlog (the benchmark's drain stalled)
            diesel::sql_query(sql)
                .bind::<SqlUuid, _>(webhook.0)
                .bind::<SqlUuid, _>(tenant.0)
                .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
                .bind::<SqlUuid, _>(lease_id)
                .bind::<Double, _>(lease.as_secs_f64())
                .bind::<SqlUuid, _>(listener)
                .load(conn)
                .await
        })
        .await?;
    Ok(open_all(rows, sealer))
}

/// Leases up to `limit` pending deliveries, oldest first, of relay webhooks that no
/// listener has polled within `gone_after` and that were created before `created_before`:
/// what waited longer than `HOOKRELAY_RELAY_HOLD` for a listener, to be recorded failed
/// (`relay_offline`). A relay webhook's pending deliveries are parked within a second of
/// their creation (`db::parking`), so only the parked ones are looked at.
pub async fn claim_offline(
    conn: &mut AsyncPgConnection,
    created_before: DateTime<Utc>,
    gone_after: Duration,
    limit: i64,
    lease: Duration,
    sealer: &Sealer,
) -> QueryResult<Vec<Leased>> {
    let sql = format!(
        "WITH w AS (SELECT w.id FROM webhooks w WHERE w.kind = 'relay' AND w.deleted_at IS NULL \
           AND NOT EXISTS (SELECT 1 FROM relay_listeners r WHERE r.webhook_id = w.id \
             AND r.seen_at > now() - make_interval(secs => $1))), \
         c AS (SELECT d.id FROM deliveries d WHERE d.webhook_id IN (SELECT id FROM w) AND d.parked \
           AND d.status = 'pending' AND d.created_at < $2 \
           AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.delivery_id = d.id AND l.locked_until > now()) \
           ORDER BY d.created_at LIMIT $3 FOR UPDATE OF d SKIP LOCKED), \
         l AS (INSERT INTO leases (delivery_id, webhook_id, lease_id, locked_until) \
           SELECT c.id, d.webhook_id, $4, now() + make_interval(secs => $5) FROM c JOIN deliveries d ON d.id = c.id \
           ON CONFLICT (delivery_id) DO UPDATE SET lease_id = EXCLUDED.lease_id, locked_until = EXCLUDED.locked_until \
           RETURNING delivery_id, lease_id) \
         SELECT {ROW} FROM l JOIN deliveries d ON d.id = l.delivery_id JOIN webhooks w ON w.id = d.webhook_id \
         JOIN events e ON e.id = d.event_id ORDER BY d.created_at"
    );
    let rows: Vec<ClaimedRow> = diesel::sql_query(sql)
        .bind::<Double, _>(gone_after.as_secs_f64())
        .bind::<Timestamptz, _>(created_before)
        .bind::<BigInt, _>(limit)
        .bind::<SqlUuid, _>(Uuid::now_v7())
        .bind::<Double, _>(lease.as_secs_f64())
        .load(conn)
        .await?;
    Ok(open_all(rows, sealer))
}

/// A delivery of the tenant's relay webhook `webhook` that lease `lease` still holds, as
/// it was handed out; `None` when that lease has ended (expired, released, or recorded).
pub async fn leased(
    conn: &mut AsyncPgConnection,
    tenant: TenantId,
    webhook: WebhookId,
    delivery: DeliveryId,
    lease: LeaseId,
    sealer: &Sealer,
) -> QueryResult<Option<Leased>> {
    let sql = format!(
        "SELECT {ROW} FROM leases l JOIN deliveries d ON d.id = l.delivery_id JOIN webhooks w ON w.id = d.webhook_id \
         JOIN events e ON e.id = d.event_id WHERE l.delivery_id = $1 AND l.lease_id = $2 AND l.locked_until > now() \
         AND d.webhook_id = $3 AND d.tenant_id = $4 AND w.kind = 'relay' AND d.status = 'pending'"
    );
    let rows: Vec<ClaimedRow> = prepared(
        diesel::sql_query(sql)
            .bind::<SqlUuid, _>(delivery.0)
            .bind::<SqlUuid, _>(lease.0)
            .bind::<SqlUuid, _>(webhook.0)
            .bind::<SqlUuid, _>(tenant.0),
    )
    .load(conn)
    .await?;
    Ok(open_all(rows, sealer).into_iter().next())
}

/// Ends the leases of `deliveries` that `lease` holds, on `webhook`: the deliveries are
/// due again at once, for the next claim. Returns how many were released.
pub async fn release(
    conn: &mut AsyncPgConnection,
    webhook: WebhookId,
    lease: LeaseId,
    deliveries: &[Uuid],
) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM leases WHERE webhook_id = $1 AND lease_id = $2 AND delivery_id = ANY($3)")
        .bind::<SqlUuid, _>(webhook.0)
        .bind::<SqlUuid, _>(lease.0)
        .bind::<Array<SqlUuid>, _>(deliveries)
        .execute(conn)
        .await
}

/// When a claim of `webhook` may next find work that it cannot now: the earliest of its
/// pending deliveries that is not due yet (a retry's time) or of its leases that has not
/// expired (a listener that died), if any.
pub async fn next_due(conn: &mut AsyncPgConnection, webhook: WebhookId) -> QueryResult<Option<DateTime<Utc>>> {
    // (a claimed delivery is parked with its lease, so its retry is among the parked ones)
    let row: NextDue = prepared(
        diesel::sql_query(
            "SELECT least((SELECT min(next_attempt_at) FROM deliveries WHERE webhook_id = $1 AND parked \
           AND status = 'pending' AND next_attempt_at > now()), \
         (SELECT min(locked_until) FROM leases WHERE webhook_id = $1 AND locked_until > now())) AS next_due",
        )
        .bind::<SqlUuid, _>(webhook.0),
    )
    .get_result(conn)
    .await?;
    Ok(row.next_due)
}

/// The leased rows with their webhook's secrets opened; a row whose secret does not open
/// is left to its lease (as a dispatcher's claim does), never handed out unsigned.
fn open_all(rows: Vec<ClaimedRow>, sealer: &Sealer) -> Vec<Leased> {
    rows.into_iter()
        .filter_map(|r| {
            let (delivery, webhook) = (r.delivery_id, r.webhook_id);
            r.open(sealer)
                .map_err(|err| tracing::error!(%delivery, %webhook, error = %err, "a webhook secret does not open; not handed out"))
                .ok()
        })
        .collect()
}

/// Records relay listeners' outcomes in batches: each report waits for the transaction
/// that holds it, and whatever reports queued up while one transaction ran go into the
/// next (`record` takes the record lock and writes logs, stats and the deliveries' next
/// state once per batch, not once per report).
#[derive(Clone)]
pub struct OutcomeRecorder {
    tx: tokio::sync::mpsc::Sender<Recording>,
}

/// An outcome to record, and where its caller waits for the commit.
type Recording = (crate::queue::Outcome, tokio::sync::oneshot::Sender<anyhow::Result<()>>);

/// Most outcomes in one recording transaction.
const MOST_RECORDED: usize = 500;

impl OutcomeRecorder {
    /// Starts the recording task on `pool`; it ends once every clone is dropped.
    pub fn spawn(pool: crate::db::PgPool) -> OutcomeRecorder {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Recording>(4 * MOST_RECORDED);
        tokio::spawn(async move {
            let mut batch: Vec<Recording> = Vec::with_capacity(MOST_RECORDED);
            while rx.recv_many(&mut batch, MOST_RECORDED).await > 0 {
                let (outcomes, answers): (Vec<crate::queue::Outcome>, Vec<_>) = batch.drain(..).unzip();
                let recorded = async {
                    let mut conn = anyhow::Context::context(pool.get().await, "database pool")?;
                    super::record(&mut conn, &outcomes).await.map_err(anyhow::Error::from)
                }
                .await;
                match recorded {
                    Ok(()) => {
                        for answer in answers {
                            let _ = answer.send(Ok(()));
                        }
                    }
                    Err(err) => super::writer::fail_all(&err, "relay outcomes", answers),
                }
            }
        });
        OutcomeRecorder { tx }
    }

    /// Records `outcome`; answers once it is committed.
    pub async fn record(&self, outcome: crate::queue::Outcome) -> anyhow::Result<()> {
        let (done, answer) = tokio::sync::oneshot::channel();
        self.tx.send((outcome, done)).await.map_err(|_| anyhow::anyhow!("the relay recorder has stopped"))?;
        answer.await.map_err(|_| anyhow::anyhow!("the relay recorder stopped before answering"))?
    }
}
