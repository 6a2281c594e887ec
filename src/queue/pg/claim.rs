//! The claim: due deliveries leased in one round trip (`hookrelay_claim`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::prepared::prepared;
use crate::domain::ids::{DeliveryId, EventId, LeaseId, TenantId, WebhookId};
use crate::queue::{Claim, ClaimRequest, Leased};
use crate::secrets::Sealer;

/// Serialises claims across every dispatcher process, so that per-webhook concurrency and
/// rate limits hold exactly however many dispatchers share the database. A claim is one
/// statement of well under a millisecond, so dispatchers wait on it briefly.
const CLAIM_LOCK: i64 = 0x686f_6f6b_7265_6c61; // "hookrela"

/// A row of `hookrelay_claim` that leased a delivery.
#[derive(QueryableByName)]
pub(super) struct ClaimedRow {
    #[diesel(sql_type = SqlUuid)]
    pub(super) delivery_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    event_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub(super) webhook_id: Uuid,
    #[diesel(sql_type = Text)]
    event_type: String,
    #[diesel(sql_type = Int4)]
    attempt_count: i32,
    #[diesel(sql_type = Int4)]
    series_attempts: i32,
    #[diesel(sql_type = Bool)]
    test: bool,
    #[diesel(sql_type = SqlUuid)]
    lease_id: Uuid,
    #[diesel(sql_type = Text)]
    url: String,
    #[diesel(sql_type = Jsonb)]
    headers: serde_json::Value,
    #[diesel(sql_type = Text)]
    secret: String,
    #[diesel(sql_type = Nullable<Text>)]
    previous_secret: Option<String>,
    #[diesel(sql_type = Nullable<Array<Int4>>)]
    retry_schedule: Option<Vec<i32>>,
    #[diesel(sql_type = Text)]
    body: String,
    #[diesel(sql_type = Timestamptz)]
    delivery_created_at: DateTime<Utc>,
    #[diesel(sql_type = Bool)]
    throttled: bool,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    source_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    source_headers: Option<serde_json::Value>,
}

impl ClaimedRow {
    /// The leased delivery, its webhook's secrets opened.
    pub(super) fn open(self, sealer: &Sealer) -> Result<Leased, crate::secrets::OpenError> {
        let r = self;
        let secret = sealer.open(r.webhook_id, &r.secret)?;
        let previous_secret = r.previous_secret.as_deref().map(|p| sealer.open(r.webhook_id, p)).transpose()?;
        Ok(Leased {
            delivery_id: DeliveryId(r.delivery_id),
            tenant_id: TenantId(r.tenant_id),
            event_id: EventId(r.event_id),
            webhook_id: WebhookId(r.webhook_id),
            event_type: r.event_type,
            attempt_count: r.attempt_count,
            series_attempts: r.series_attempts,
            test: r.test,
            lease_id: LeaseId(r.lease_id),
            url: r.url,
            headers: r.headers,
            secret,
            previous_secret,
            retry_schedule: r.retry_schedule,
            body: r.body,
            delivery_created_at: r.delivery_created_at,
            throttled: r.throttled,
            source_id: r.source_id,
            source_headers: r.source_headers,
        })
    }
}

/// A row of `hookrelay_claim`: a leased delivery, or (alone, when nothing was leased)
/// only the news whether due work was held back by a limit.
struct ClaimRow {
    held_back: bool,
    next_due: Option<DateTime<Utc>>,
    claimed: Option<ClaimedRow>,
}

impl QueryableByName<diesel::pg::Pg> for ClaimRow {
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, diesel::pg::Pg>) -> diesel::deserialize::Result<Self> {
        use diesel::row::NamedRow;
        let held_back = NamedRow::get::<Bool, bool>(row, "held_back")?;
        let next_due = NamedRow::get::<Nullable<Timestamptz>, Option<DateTime<Utc>>>(row, "next_due")?;
        let leased = NamedRow::get::<Nullable<SqlUuid>, Option<Uuid>>(row, "delivery_id")?.is_some();
        let claimed = if leased { Some(ClaimedRow::build(row)?) } else { None };
        Ok(ClaimRow { held_back, next_due, claimed })
    }
}

/// Settings of the connection that runs `claim`. The claim reads after taking the claim
/// lock, in a statement of its own, so that it sees the leases of the claim before it:
/// that needs each statement's fresh snapshot of READ COMMITTED. Under a stricter
/// database default, every claim overlapping another's commit would fail.
pub const CLAIM_SETTINGS: &str = "SET default_transaction_isolation = 'read committed'";

/// Claims up to `request.limit` due deliveries, honouring each webhook's
/// `maxConcurrency` (as lowered by its adaptive concurrency), `rateLimitPerMinute` and
/// pause, and leaving out the webhooks the request skips. Work over a limit
/// stays pending (a rate-limited delivery is rescheduled to when its window frees); it
/// is neither attempted nor failed.
///
/// One round trip: `hookrelay_claim` (see the map at the top of this module) takes the
/// claim lock, finds due deliveries with their webhooks' loads, applies the limits and
/// leases what they allow, committing without waiting for its WAL flush.
///
/// `finished` leases are looked up by key and counted per webhook once, in the claim's
/// own snapshot, so the count is exact and costs no scan per lease.
///
/// The webhooks' secrets are opened with `sealer`. A delivery whose secret does not open
/// (start-up checks that every stored key id is known, so only an altered row) is logged
/// and left to its lease, which expires: it is never sent unsigned or signed wrongly.
///
/// The connection is shared so that a publish can claim for this process's dispatcher in
/// its own round trip (`queue::pg::publisher`); it needs [`CLAIM_SETTINGS`]' isolation.
pub async fn claim(mut conn: &AsyncPgConnection, request: &ClaimRequest<'_>, sealer: &Sealer) -> QueryResult<Claim> {
    let finished: Vec<Uuid> = request.finished.iter().map(|d| d.0).collect();
    let skip_webhooks: Vec<Uuid> = request.skip_webhooks.iter().map(|w| w.0).collect();
    let rows: Vec<ClaimRow> = prepared(
        diesel::sql_query("SELECT * FROM hookrelay_claim($1, $2, $3, $4, $5, $6)")
            .bind::<BigInt, _>(CLAIM_LOCK)
            .bind::<Array<SqlUuid>, _>(finished)
            .bind::<Array<SqlUuid>, _>(skip_webhooks)
            .bind::<BigInt, _>(i64::try_from(request.limit).unwrap_or(i64::MAX))
            .bind::<SqlUuid, _>(Uuid::now_v7())
            .bind::<diesel::sql_types::Double, _>(request.lease.as_secs_f64()),
    )
    .load(&mut conn)
    .await?;
    // through a slice: diesel's `first` (a query method) is in scope and would be taken
    let (held_back, next_due) = rows.as_slice().first().map(|r| (r.held_back, r.next_due)).unwrap_or_default();
    let claimed = rows
        .into_iter()
        .filter_map(|r| r.claimed)
        .filter_map(|r| {
            let (delivery, webhook) = (r.delivery_id, r.webhook_id);
            r.open(sealer)
                .map_err(|err| tracing::error!(%delivery, %webhook, error = %err, "a webhook secret does not open; not attempted"))
                .ok()
        })
        .collect();
    Ok(Claim { claimed, held_back, next_due })
}
