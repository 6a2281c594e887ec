//! Per-tenant API rate limits: `RateLimit-*` headers on every authenticated answer, 429 with
//! `Retry-After` over the limit, and one limit across API processes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{TestApp, TestDb};

fn header(res: &reqwest::Response, name: &str) -> u64 {
    res.headers().get(name).unwrap_or_else(|| panic!("no {name}")).to_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_count_down_the_tenants_bucket_and_429_past_it() {
    let app = TestApp::spawn_with(&["--tenant-api-rate", "1", "--tenant-publish-rate", "3"]).await;
    let (token, _) = app.tenant("Acme").await;
    let get = || app.http.get(format!("{}/api/v1/webhooks", app.base)).bearer_auth(&token).send();
    // a burst of twice the rate, then one token a second
    for remaining in [1, 0] {
        let res = get().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "ratelimit-limit"), 2);
        assert_eq!(header(&res, "ratelimit-remaining"), remaining);
        assert!((1..=2).contains(&header(&res, "ratelimit-reset")));
    }
    let res = get().await.unwrap();
    assert_eq!(res.status(), 429);
    assert!(header(&res, "retry-after") >= 1);
    assert_eq!((header(&res, "ratelimit-limit"), header(&res, "ratelimit-remaining")), (2, 0));
    let problem: serde_json::Value = res.json().await.unwrap();
    assert_eq!(problem["type"], "rate_limited");

    // publishing draws from a bucket of its own
    let res = app
        .http
        .post(format!("{}/api/v1/events", app.base))
        .bearer_auth(&token)
        .json(&json!({"event": "a.b", "data": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    assert_eq!((header(&res, "ratelimit-limit"), header(&res, "ratelimit-remaining")), (6, 5));

    // another tenant is not limited by this one
    let (other, _) = app.tenant("Globex").await;
    let res = app.http.get(format!("{}/api/v1/webhooks", app.base)).bearer_auth(&other).send().await.unwrap();
    assert_eq!(res.status(), 200);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get().await.unwrap().status(), 200, "a token came back");
    // routes without a tenant carry no RateLimit headers
    let res = app.http.get(format!("{}/health", app.base)).send().await.unwrap();
    assert!(res.headers().get("ratelimit-limit").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn two_api_processes_share_one_limit() {
    const RATE: f64 = 50.0;
    let db = Arc::new(TestDb::create().await);
    let settings = ["--role", "api", "--tenant-api-rate", "50"];
    let apps = [TestApp::spawn_on(db.clone(), &settings).await, TestApp::spawn_on(db.clone(), &settings).await];
    let (token, _) = apps[0].tenant("Acme").await;
    let (admitted, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let window = Duration::from_secs(3);
    let started = Instant::now();
    let mut clients = Vec::new();
    for app in &apps {
        for _ in 0..4 {
            let (http, url, token) = (app.http.clone(), format!("{}/api/v1/api-keys", app.base), token.clone());
            let (admitted, refused) = (admitted.clone(), refused.clone());
            clients.push(tokio::spawn(async move {
                while started.elapsed() < window {
                    match http.get(&url).bearer_auth(&token).send().await.unwrap().status().as_u16() {
                        200 => admitted.fetch_add(1, Ordering::SeqCst),
                        429 => refused.fetch_add(1, Ordering::SeqCst),
                        other => panic!("answered {other}"),
                    };
                }
            }));
        }
    }
    for c in clients {
        c.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let admitted = admitted.load(Ordering::SeqCst) as f64;
    // the full bucket (the burst) and what it refilled meanwhile
    let allowed = 2.0 * RATE + RATE * elapsed;
    assert!(refused.load(Ordering::SeqCst) > 0, "the clients asked for more than the limit");
    assert!(
        (admitted - allowed).abs() <= 0.1 * allowed,
        "{admitted} admitted in {elapsed:.2} s across two processes; the limit allows {allowed:.0}"
    );
}
