//! Signing secrets at rest: sealed in the database, opened to sign and for their owner,
//! through a key rotation and `reencrypt`; a start with the wrong key is refused.

use std::time::Duration;

use hookrelay::cli::Cli;
use hookrelay::config::Config;
use hookrelay::secrets::{key_id_of, Sealer, DEV_ENCRYPTION_KEY};
use serde_json::json;

use crate::delivery::x_signature_ok;
use crate::helpers::{test_config, Receiver, TestApp};

const NEW_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

async fn stored(app: &TestApp, id: &str) -> (String, Option<String>) {
    let db = app.db.client().await;
    let row =
        db.query_one("SELECT secret, previous_secret FROM webhooks WHERE id = $1::text::uuid", &[&id]).await.unwrap();
    (row.get(0), row.get(1))
}

async fn stop(mut app: TestApp) -> std::sync::Arc<crate::helpers::TestDb> {
    let service = app.service.take().unwrap();
    service.shutdown.cancel();
    service.wait().await.unwrap();
    app.db.clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_are_sealed_at_rest_and_sign_through_a_key_rotation() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    let w = app.webhook(&token, json!({"name": "h", "url": receiver.url, "events": ["*"]})).await;
    let id = w["id"].as_str().unwrap().to_owned();
    let first = w["secret"].as_str().unwrap().to_owned();
    let (_, rotated) = app.post(&format!("/api/v1/webhooks/{id}/rotate-secret"), &token, json!({})).await;
    let second = rotated["secret"].as_str().unwrap().to_owned();
    let (secret, previous) = stored(&app, &id).await;
    let previous = previous.unwrap();
    for (value, clear) in [(&secret, &second), (&previous, &first)] {
        assert!(value.starts_with("enc:v1:"), "{value}");
        assert!(!value.contains(&clear[6..]), "the database holds no secret in clear");
    }
    assert_ne!(secret, previous);
    let (_, shown) = app.get(&format!("/api/v1/webhooks/{id}/secret"), &token).await;
    assert_eq!(shown["secret"], second.as_str(), "the owner still reads it in clear");

    // a new key, the old one kept for opening: attempts still sign with both secrets
    let db = stop(app).await;
    let rotating = ["--encryption-key", NEW_KEY, "--encryption-old-keys", DEV_ENCRYPTION_KEY];
    let app = TestApp::spawn_on(db, &rotating).await;
    app.publish(&token, "a.b", json!({})).await;
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert!(x_signature_ok(&got[0], &second, "x-webhook-signature"));
    assert!(x_signature_ok(&got[0], &first, "x-webhook-signature-previous"));

    // `hookrelay reencrypt` seals everything under the new key; then the old key can go
    let sealer = Sealer::from_base64(NEW_KEY, &[DEV_ENCRYPTION_KEY]).unwrap();
    let url = app.db.url();
    let reencrypt = [
        "hookrelay",
        "reencrypt",
        "--database-url",
        &url,
        "--encryption-key",
        NEW_KEY,
        "--encryption-old-keys",
        DEV_ENCRYPTION_KEY,
    ]
    .map(str::to_owned);
    let cli = <Cli as clap::Parser>::try_parse_from(reencrypt).unwrap();
    // the command makes a runtime of its own
    tokio::task::spawn_blocking(move || hookrelay::run(cli)).await.unwrap().unwrap();
    let pool = hookrelay::db::build_pool(&url, 1).unwrap();
    let mut conn = pool.get().await.unwrap();
    assert_eq!(hookrelay::db::webhook_secrets::reseal(&mut conn, &sealer, true).await.unwrap(), 0, "nothing left");
    drop(conn);
    let (secret, previous) = stored(&app, &id).await;
    assert_eq!(key_id_of(&secret), Some(sealer.key_id()));
    assert_eq!(key_id_of(&previous.unwrap()), Some(sealer.key_id()));
    let db = stop(app).await;
    let app = TestApp::spawn_on(db, &["--encryption-key", NEW_KEY]).await;
    app.publish(&token, "a.c", json!({})).await;
    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert!(x_signature_ok(&got[1], &second, "x-webhook-signature"), "signed after reencrypt");

    // the old key alone no longer opens them: the start is refused, naming the variables
    let db = stop(app).await;
    let config = test_config(&db, &["--encryption-key", DEV_ENCRYPTION_KEY]);
    let err = hookrelay::startup::Service::start(config).await.err().expect("a start with the wrong key is refused");
    let message = format!("{err:#}");
    assert!(message.contains("HOOKRELAY_ENCRYPTION_KEY") && message.contains(sealer.key_id()), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_stored_in_clear_are_sealed_at_start_and_bad_keys_are_refused() {
    let app = TestApp::spawn_with(&["--role", "api"]).await;
    let (token, _) = app.tenant("Acme").await;
    let w = app.webhook(&token, json!({"name": "h", "url": "http://127.0.0.1:9/", "events": ["*"]})).await;
    let id = w["id"].as_str().unwrap().to_owned();
    let clear = w["secret"].as_str().unwrap().to_owned();
    // as written before secrets were sealed
    let db = app.db.client().await;
    db.execute("UPDATE webhooks SET secret = $2 WHERE id = $1::text::uuid", &[&id, &clear]).await.unwrap();
    let dbase = stop(app).await;
    let app = TestApp::spawn_on(dbase, &["--role", "api"]).await;
    let (secret, _) = stored(&app, &id).await;
    assert!(secret.starts_with("enc:v1:") && !secret.contains(&clear[6..]), "{secret}");
    let (_, shown) = app.get(&format!("/api/v1/webhooks/{id}/secret"), &token).await;
    assert_eq!(shown["secret"], clear.as_str());

    for (key, says) in [("not-base64!", "is not base64"), ("c2hvcnQ=", "32 bytes")] {
        let cli = <Cli as clap::Parser>::try_parse_from([
            "hookrelay",
            "--database-url",
            "postgres://x",
            "--encryption-key",
            key,
        ])
        .unwrap();
        let err = Config::from_settings(&cli.settings).expect_err("a bad key is refused").to_string();
        assert!(err.contains("HOOKRELAY_ENCRYPTION_KEY") && err.contains(says), "{err}");
    }
    let cli = <Cli as clap::Parser>::try_parse_from([
        "hookrelay",
        "--database-url",
        "postgres://x",
        "--mode",
        "production",
        "--jwt-secret",
        "0123456789abcdef0123456789abcdef",
    ])
    .unwrap();
    let err = Config::from_settings(&cli.settings).expect_err("production needs a key").to_string();
    assert!(err.contains("HOOKRELAY_ENCRYPTION_KEY"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sources_secrets_and_token_are_sealed_and_follow_a_key_rotation() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let (status, s) = app
        .post(
            "/api/v1/sources",
            &token,
            json!({"name": "GitHub", "provider": "github", "config": {"secret": "github-secret-0001"}}),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    let id = s["id"].as_str().unwrap().to_owned();
    let url = s["ingestUrl"].as_str().unwrap().to_owned();
    let ingest_token = url.rsplit('/').next().unwrap().to_owned();
    let row = app
        .db
        .client()
        .await
        .query_one("SELECT token, secrets FROM sources WHERE id = $1::text::uuid", &[&id])
        .await
        .unwrap();
    let (sealed_token, sealed_secrets): (String, String) = (row.get(0), row.get(1));
    assert!(sealed_token.starts_with("enc:v1:") && !sealed_token.contains(&ingest_token), "{sealed_token}");
    assert!(sealed_secrets.starts_with("enc:v1:") && !sealed_secrets.contains("github-secret-0001"));
    let signed = |app: &TestApp| {
        let body = r#"{"zen":"Keep it logically awesome."}"#;
        let sig = format!("sha256={}", crate::sources::hmac_hex(b"github-secret-0001", body.as_bytes()));
        app.http
            .post(format!("{}/in/{ingest_token}", app.base))
            .header("x-hub-signature-256", sig)
            .header("x-github-event", "ping")
            .header("x-github-delivery", uuid::Uuid::new_v4().to_string())
            .body(body)
    };
    assert_eq!(signed(&app).send().await.unwrap().status(), 200);

    // reencrypt under a new key; then the new key alone opens the source
    let db = stop(app).await;
    let url_db = db.url();
    let reencrypt = [
        "hookrelay",
        "reencrypt",
        "--database-url",
        &url_db,
        "--encryption-key",
        NEW_KEY,
        "--encryption-old-keys",
        DEV_ENCRYPTION_KEY,
    ]
    .map(str::to_owned);
    let cli = <Cli as clap::Parser>::try_parse_from(reencrypt).unwrap();
    tokio::task::spawn_blocking(move || hookrelay::run(cli)).await.unwrap().unwrap();
    let app = TestApp::spawn_on(db, &["--encryption-key", NEW_KEY]).await;
    assert_eq!(signed(&app).send().await.unwrap().status(), 200, "the same URL and secret after reencrypt");
    let (_, shown) = app.get(&format!("/api/v1/sources/{id}"), &token).await;
    assert_eq!(shown["ingestUrl"].as_str().unwrap().rsplit('/').next(), Some(ingest_token.as_str()));

    // the old key alone no longer opens them: the start is refused
    let db = stop(app).await;
    let config = test_config(&db, &["--encryption-key", DEV_ENCRYPTION_KEY]);
    let err = hookrelay::startup::Service::start(config).await.err().expect("refused");
    assert!(format!("{err:#}").contains("source secrets"), "{err:#}");
}
