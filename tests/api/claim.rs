//! The claim (`hookrelay_claim`) against a real database, called directly: which due
//! deliveries each webhook's limits let through, which wait, and which are moved.

use std::collections::HashMap;
use std::time::Duration;

use hookrelay::domain::ids::{DeliveryId, WebhookId};
use hookrelay::queue::{pg, Claim, ClaimRequest};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::TestApp;

const LEASE: Duration = Duration::from_secs(60);

async fn claim(app: &TestApp, finished: &[Uuid]) -> Claim {
    claim_skipping(app, finished, &[]).await
}

async fn claim_skipping(app: &TestApp, finished: &[Uuid], webhooks: &[Uuid]) -> Claim {
    let pool = hookrelay::db::build_pool(&app.db.url(), 1).unwrap();
    let conn = pool.get().await.unwrap();
    let finished: Vec<DeliveryId> = finished.iter().copied().map(DeliveryId).collect();
    let webhooks: Vec<WebhookId> = webhooks.iter().copied().map(WebhookId).collect();
    let request = ClaimRequest { limit: 200, lease: LEASE, finished: &finished, skip_webhooks: &webhooks };
    let sealer = hookrelay::secrets::Sealer::from_base64(hookrelay::secrets::DEV_ENCRYPTION_KEY, &[]).unwrap();
    pg::claim(&conn, &request, &sealer).await.unwrap()
}

/// Deliveries claimed per webhook id.
fn per_webhook(c: &Claim) -> HashMap<Uuid, Vec<Uuid>> {
    let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for d in &c.claimed {
        out.entry(d.webhook_id.0).or_default().push(d.delivery_id.0);
    }
    out
}

async fn hook(app: &TestApp, token: &str, event: &str, limits: Value) -> Uuid {
    let mut body = json!({"name": event, "url": "http://127.0.0.1:9/", "events": [event]});
    for (k, v) in limits.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.webhook(token, body).await["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_decide_what_each_claim_leases() {
    // no dispatcher: only the claims of this test take work
    let app = TestApp::spawn_with(&["--role", "api"]).await;
    let (token, _) = app.tenant("Acme").await;
    let narrow = hook(&app, &token, "a.narrow", json!({"maxConcurrency": 2, "rateLimitPerMinute": null})).await;
    let rated = hook(&app, &token, "a.rated", json!({"maxConcurrency": 10, "rateLimitPerMinute": 3})).await;
    let free = hook(&app, &token, "a.free", json!({"maxConcurrency": 10, "rateLimitPerMinute": null})).await;
    for (event, n) in [("a.narrow", 5), ("a.rated", 4), ("a.free", 3)] {
        for i in 0..n {
            app.publish(&token, event, json!({"i": i})).await;
        }
    }

    let first = claim(&app, &[]).await;
    let got = per_webhook(&first);
    assert_eq!(got[&narrow].len(), 2, "maxConcurrency 2");
    assert_eq!(got[&rated].len(), 3, "rateLimitPerMinute 3");
    assert_eq!(got[&free].len(), 3, "an unlimited webhook is not held back by the others");
    assert!(first.held_back, "work was left for a limit");
    for d in &first.claimed {
        assert_eq!(d.attempt_count, 0);
        assert!(d.url.starts_with("http://127.0.0.1:9/"));
        assert!(d.body.contains("\"i\":"), "the event body comes with the delivery: {}", d.body);
    }

    // the rate-limited fourth delivery was moved to when a slot frees (no attempt logged
    // yet: in a second), the narrow webhook's rest stays due
    let db = app.db.client().await;
    let rows = db
        .query(
            "SELECT webhook_id::text, next_attempt_at > now() AS later FROM deliveries d \
             WHERE NOT EXISTS (SELECT 1 FROM leases l WHERE l.delivery_id = d.id)",
            &[],
        )
        .await
        .unwrap();
    let waiting: Vec<(Uuid, bool)> = rows.iter().map(|r| (r.get::<_, String>(0).parse().unwrap(), r.get(1))).collect();
    assert_eq!(waiting.iter().filter(|(w, later)| *w == rated && *later).count(), 1, "{waiting:?}");
    assert_eq!(waiting.iter().filter(|(w, later)| *w == narrow && !*later).count(), 3, "{waiting:?}");
    let wait = first.next_due.map(|at| (at - chrono::Utc::now()).num_milliseconds());
    assert!(wait.is_some_and(|ms| (0..=1_000).contains(&ms)), "the moved delivery is the next due: {wait:?}");

    // nothing more until a slot frees: the narrow webhook is saturated
    let second = claim(&app, &[]).await;
    assert!(second.claimed.is_empty());
    assert!(second.held_back, "a saturated webhook holds work back");

    // an attempt that ended (not yet recorded) frees its concurrency slot
    let ended = got[&narrow][0];
    let third = claim(&app, &[ended]).await;
    let got = per_webhook(&third);
    assert_eq!(got.get(&narrow).map(Vec::len), Some(1), "one slot freed");
    assert_eq!(got.len(), 1, "the rated delivery waits for its window, the rest are leased");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rate_limit_counts_logged_and_unrecorded_attempts() {
    let app = TestApp::spawn_with(&["--role", "api"]).await;
    let (token, _) = app.tenant("Acme").await;
    let logged = hook(&app, &token, "a.logged", json!({"maxConcurrency": 10, "rateLimitPerMinute": 3})).await;
    let serial = hook(&app, &token, "a.serial", json!({"maxConcurrency": 1, "rateLimitPerMinute": 2})).await;
    for event in ["a.logged", "a.serial"] {
        for i in 0..3 {
            app.publish(&token, event, json!({"i": i})).await;
        }
    }
    // an attempt to `logged` 20 s ago uses one of its 3 per minute until 40 s from now
    let db = app.db.client().await;
    db.execute(
        "INSERT INTO webhook_logs (id, tenant_id, delivery_id, event_id, webhook_id, event_type, attempt, success, \
           request_url, duration_ms, created_at) \
         SELECT gen_random_uuid(), tenant_id, id, event_id, webhook_id, event_type, 1, false, 'http://127.0.0.1:9/', \
           5, now() - interval '20 seconds' FROM deliveries WHERE webhook_id = $1::text::uuid ORDER BY id LIMIT 1",
        &[&logged.to_string()],
    )
    .await
    .unwrap();

    let first = claim(&app, &[]).await;
    let got = per_webhook(&first);
    assert_eq!(got[&logged].len(), 2, "3 per minute, one used");
    assert_eq!(got[&serial].len(), 1, "maxConcurrency 1");
    let wait = first.next_due.map(|at| (at - chrono::Utc::now()).num_seconds());
    assert!(
        wait.is_some_and(|s| (38..=40).contains(&s)),
        "moved to when the logged attempt leaves the window: {wait:?}"
    );

    // `serial`'s attempt ended (not yet recorded): its slot is free, and it still counts
    // against the rate: 2 per minute, 1 unrecorded, so one more now, and the third waits
    // for the window (moved, not failed) although its concurrency slot would be free
    let ended = got[&serial][0];
    let second = claim(&app, &[ended]).await;
    assert_eq!(per_webhook(&second).get(&serial).map(Vec::len), Some(1));
    assert!(second.held_back);
    let wait = second.next_due.map(|at| (at - chrono::Utc::now()).num_milliseconds());
    assert!(wait.is_some_and(|ms| (0..=1_000).contains(&ms)), "no attempt logged: a second from now: {wait:?}");
    let moved = db
        .query_one(
            "SELECT count(*) FROM deliveries WHERE webhook_id = $1::text::uuid AND status = 'pending' \
               AND next_attempt_at > now()",
            &[&serial.to_string()],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(moved, 1, "the third delivery waits for the window");
}

#[tokio::test(flavor = "multi_thread")]
async fn pauses_adaptive_concurrency_and_skips_hold_work_back() {
    let app = TestApp::spawn_with(&["--role", "api"]).await;
    let (token, _) = app.tenant("Acme").await;
    let (other_token, _) = app.tenant("Other").await;
    let paused = hook(&app, &token, "a.paused", json!({"maxConcurrency": 10, "rateLimitPerMinute": null})).await;
    let shrunk = hook(&app, &token, "a.shrunk", json!({"maxConcurrency": 10, "rateLimitPerMinute": null})).await;
    let skipped = hook(&app, &token, "a.skipped", json!({"maxConcurrency": 10, "rateLimitPerMinute": null})).await;
    let theirs = hook(&app, &other_token, "b.theirs", json!({"maxConcurrency": 10, "rateLimitPerMinute": null})).await;
    for (t, event) in [(&token, "a.paused"), (&token, "a.shrunk"), (&token, "a.skipped"), (&other_token, "b.theirs")] {
        for i in 0..4 {
            app.publish(t, event, json!({"i": i})).await;
        }
    }
    let db = app.db.client().await;
    db.execute(
        "UPDATE webhooks SET paused_until = now() + interval '30 seconds' WHERE id = $1::text::uuid",
        &[&paused.to_string()],
    )
    .await
    .unwrap();
    db.execute("UPDATE webhooks SET adaptive_concurrency = 2 WHERE id = $1::text::uuid", &[&shrunk.to_string()])
        .await
        .unwrap();

    let first = claim_skipping(&app, &[], &[skipped]).await;
    let got = per_webhook(&first);
    assert!(!got.contains_key(&paused), "a paused webhook's deliveries wait");
    assert_eq!(got[&shrunk].len(), 2, "adaptive concurrency 2 of 10");
    assert!(first.claimed.iter().filter(|d| d.webhook_id.0 == shrunk).all(|d| d.throttled));
    assert!(!got.contains_key(&skipped), "the dispatcher skipped this webhook");
    assert_eq!(got[&theirs].len(), 4);
    assert!(first.claimed.iter().filter(|d| d.webhook_id.0 == theirs).all(|d| !d.throttled));
    let wait = first.next_due.map(|at| (at - chrono::Utc::now()).num_seconds());
    assert!(wait.is_some_and(|s| (28..=30).contains(&s)), "the pause's end is the next due time: {wait:?}");

    let second = claim(&app, &[]).await;
    assert_eq!(per_webhook(&second).keys().copied().collect::<Vec<_>>(), vec![skipped], "skipped only once");
}

/// What one claim function leases, in a transaction rolled back afterwards, so that both
/// functions can be asked about the same queue: the leased ids (sorted), held back, the next
/// due time, and how often the full statement ran. Each call has a connection of its own:
/// a backend's function counts of earlier transactions stay pending in the "xact" view
/// until they are flushed, about once a second.
struct Leased {
    ids: Vec<String>,
    held_back: bool,
    next_due: Option<String>,
    full_statements: i64,
}

async fn leased_by(app: &TestApp, function: &str, finished: &[Uuid], skip: &[Uuid]) -> Leased {
    let ids = |v: &[Uuid]| v.iter().map(Uuid::to_string).collect::<Vec<_>>();
    let mut db = app.db.client().await;
    let tx = db.transaction().await.unwrap();
    tx.batch_execute("SET LOCAL track_functions = 'pl'").await.unwrap();
    let rows = tx
        .query(
            &format!(
                "SELECT held_back, next_due::text, delivery_id::text \
                 FROM {function}(1, $1::text[]::uuid[], $2::text[]::uuid[], 200, gen_random_uuid(), 60)"
            ),
            &[&ids(finished), &ids(skip)],
        )
        .await
        .unwrap();
    let full_statements: i64 = tx
        .query_one(
            "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_xact_user_functions \
             WHERE funcname = 'hookrelay_claim_full'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    tx.rollback().await.unwrap();
    let mut leased: Vec<String> = rows.iter().filter_map(|r| r.get::<_, Option<String>>(2)).collect();
    leased.sort();
    Leased { ids: leased, held_back: rows[0].get(0), next_due: rows[0].get(1), full_statements }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fast_path_leases_what_the_full_statement_would() {
    let app = TestApp::spawn_with(&["--role", "api"]).await;
    let (token, _) = app.tenant("Acme").await;
    let (other_token, _) = app.tenant("Other").await;
    let free = hook(&app, &token, "a.free", json!({"maxConcurrency": 3, "rateLimitPerMinute": null})).await;
    let paused = hook(&app, &token, "a.paused", json!({"maxConcurrency": 10, "rateLimitPerMinute": null})).await;
    let skipped = hook(&app, &token, "a.skipped", json!({"maxConcurrency": 10, "rateLimitPerMinute": null})).await;
    let theirs = hook(&app, &other_token, "b.theirs", json!({"maxConcurrency": 10, "rateLimitPerMinute": null})).await;
    for (t, event, n) in
        [(&token, "a.free", 3), (&token, "a.paused", 2), (&token, "a.skipped", 2), (&other_token, "b.theirs", 3)]
    {
        for i in 0..n {
            app.publish(t, event, json!({"i": i})).await;
        }
    }
    let db = app.db.client().await;
    db.execute(
        "UPDATE webhooks SET paused_until = now() + interval '30 seconds' WHERE id = $1::text::uuid",
        &[&paused.to_string()],
    )
    .await
    .unwrap();
    // one of `free`'s deliveries has an expired lease (its dispatcher died): taken over;
    // one of `theirs` is under a live lease whose attempt ended here: not taken again
    let lease = |webhook: Uuid, until: &'static str| {
        format!(
            "INSERT INTO leases (delivery_id, webhook_id, lease_id, locked_until) \
             SELECT id, webhook_id, gen_random_uuid(), now() + interval '{until}' FROM deliveries \
             WHERE webhook_id = '{webhook}' ORDER BY id LIMIT 1 RETURNING delivery_id::text"
        )
    };
    db.query_one(&lease(free, "-1 second"), &[]).await.unwrap();
    let ended: Uuid =
        db.query_one(&lease(theirs, "60 seconds"), &[]).await.unwrap().get::<_, String>(0).parse().unwrap();

    let fast = leased_by(&app, "hookrelay_claim", &[ended], &[skipped]).await;
    let full = leased_by(&app, "hookrelay_claim_full", &[ended], &[skipped]).await;
    assert_eq!(fast.full_statements, 0, "the fast path applies: no other live lease, room for all");
    assert_eq!(full.full_statements, 1);
    assert_eq!(fast.ids.len(), 5, "free's 3 and theirs' 2 not under the ended lease");
    assert_eq!(fast.ids, full.ids);
    assert_eq!((fast.held_back, &fast.next_due), (full.held_back, &full.next_due));
    assert!(!fast.held_back);
    assert!(fast.next_due.is_some(), "the pause's end is the next due time");

    // no room for all of a webhook's candidates, or another live lease: the full statement
    db.execute("UPDATE webhooks SET max_concurrency = 2 WHERE id = $1::text::uuid", &[&free.to_string()])
        .await
        .unwrap();
    let narrow = leased_by(&app, "hookrelay_claim", &[ended], &[skipped]).await;
    assert_eq!(narrow.full_statements, 1);
    assert_eq!(narrow.ids.len(), 4, "free's 2 of 3 and theirs' 2");
    assert!(narrow.held_back);
    let busy = leased_by(&app, "hookrelay_claim", &[], &[skipped]).await;
    assert_eq!(busy.full_statements, 1, "the lease of theirs is live and not among the ended");
}
