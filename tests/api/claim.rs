//! The claim (`hookrelay_claim`) against a real database, called directly: which due
//! deliveries each webhook's limits let through, which wait, and which are moved.

use std::collections::HashMap;
use std::time::Duration;

use hookrelay::db::queue::{self, Claim};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::TestApp;

const LEASE: Duration = Duration::from_secs(60);

async fn claim(app: &TestApp, finished: &[Uuid]) -> Claim {
    let pool = hookrelay::db::build_pool(&app.db.url(), 1).unwrap();
    let mut conn = pool.get().await.unwrap();
    queue::claim(&mut conn, 200, LEASE, finished).await.unwrap()
}

/// Deliveries claimed per webhook id.
fn per_webhook(c: &Claim) -> HashMap<Uuid, Vec<Uuid>> {
    let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for d in &c.claimed {
        out.entry(d.webhook_id).or_default().push(d.delivery_id);
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
