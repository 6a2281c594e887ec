//! Sign-up, login, access tokens and API keys.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use hookrelay::config::DEV_JWT_SECRET;

fn token_with(alg: Algorithm, key: &[u8], claims: Value) -> String {
    encode(&Header::new(alg), &claims, &EncodingKey::from_secret(key)).unwrap()
}

fn claims(tenant: &str, overrides: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = json!({
        "sub": uuid::Uuid::now_v7(), "tid": tenant, "iss": "hookrelay", "aud": "hookrelay-api",
        "iat": now, "exp": now + 600,
    });
    for (k, v) in overrides.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn register_and_login_answer_the_documented_shapes() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "Owner@Example.com", "password": "password-123", "organization": "Acme"});
    let (status, reg) = app.call(Method::POST, "/api/v1/auth/register", None, Some(body.clone())).await;
    assert_eq!(status, 201, "{reg}");
    assert_eq!(reg["tenant"]["name"], "Acme");
    assert_eq!(reg["user"]["email"], "owner@example.com");
    assert_eq!(reg["tenant"].as_object().unwrap().len(), 2);
    assert_eq!(reg["user"].as_object().unwrap().len(), 2);
    assert_eq!(uuid::Uuid::parse_str(reg["tenant"]["id"].as_str().unwrap()).unwrap().get_version_num(), 7);

    // the same e-mail again, in any case: 409, and nothing else is created
    let again = json!({"email": "owner@EXAMPLE.com", "password": "password-456", "organization": "Other"});
    let (status, err) = app.call(Method::POST, "/api/v1/auth/register", None, Some(again)).await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["type"], "conflict");
    let db = app.db.client().await;
    let tenants: i64 = db.query_one("SELECT count(*) FROM tenants", &[]).await.unwrap().get(0);
    assert_eq!(tenants, 1);

    let login = json!({"email": "owner@example.com", "password": "password-123"});
    let (status, tok) = app.call(Method::POST, "/api/v1/auth/login", None, Some(login)).await;
    assert_eq!(status, 200, "{tok}");
    assert_eq!(tok["tokenType"], "Bearer");
    assert_eq!(tok["expiresIn"], 3600);
    let token = tok["accessToken"].as_str().unwrap();
    let (status, _) = app.get("/api/v1/webhooks", token).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn registration_validates_every_field() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"email": "nope", "password": "password-123", "organization": "A"}), "email"),
        (json!({"email": "a@b.co", "password": "short", "organization": "A"}), "password"),
        (json!({"email": "a@b.co", "password": "x".repeat(129), "organization": "A"}), "password"),
        (json!({"email": "a@b.co", "password": "password-123", "organization": ""}), "organization"),
        (json!({"password": "password-123", "organization": "A"}), "email"),
        (json!({"email": 5, "password": "password-123", "organization": "A"}), "email"),
    ];
    for (body, field) in cases {
        let (status, err) = app.call(Method::POST, "/api/v1/auth/register", None, Some(body.clone())).await;
        assert_eq!(status, 422, "{body} -> {err}");
        assert_eq!(err["type"], "validation_failed");
        assert!(err["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{body} -> {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn login_does_not_reveal_whether_an_email_exists() {
    let app = TestApp::spawn().await;
    let reg = json!({"email": "known@example.com", "password": "password-123", "organization": "Acme"});
    assert_eq!(app.call(Method::POST, "/api/v1/auth/register", None, Some(reg)).await.0, 201);
    let wrong_password = json!({"email": "known@example.com", "password": "password-999"});
    let unknown_email = json!({"email": "unknown@example.com", "password": "password-123"});
    let started = std::time::Instant::now();
    let a = app.call(Method::POST, "/api/v1/auth/login", None, Some(wrong_password)).await;
    let t_a = started.elapsed();
    let started = std::time::Instant::now();
    let b = app.call(Method::POST, "/api/v1/auth/login", None, Some(unknown_email)).await;
    let t_b = started.elapsed();
    assert_eq!(a.0, 401);
    assert_eq!(a, b, "the two failures must be indistinguishable");
    assert_eq!(a.1["type"], "unauthorized");
    // both run one argon2 verification; not a timing assertion, just that neither skips it
    assert!(t_a.as_millis() > 0 && t_b.as_millis() > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_tokens_are_all_401() {
    let app = TestApp::spawn().await;
    let (good, tenant) = app.tenant("Acme").await;
    assert_eq!(app.get("/api/v1/webhooks", &good).await.0, 200);
    let key = DEV_JWT_SECRET.as_bytes();
    let valid = token_with(Algorithm::HS256, key, claims(&tenant, json!({})));
    assert_eq!(app.get("/api/v1/webhooks", &valid).await.0, 200, "a well-formed token is accepted");

    let header =
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, br#"{"alg":"none","typ":"JWT"}"#);
    let payload = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        claims(&tenant, json!({})).to_string().as_bytes(),
    );
    let alg_none = format!("{header}.{payload}.");
    let cases = [
        ("malformed", "not-a-jwt".to_owned()),
        ("alg none", alg_none),
        (
            "wrong key",
            token_with(Algorithm::HS256, b"another-secret-of-at-least-32-bytes!!", claims(&tenant, json!({}))),
        ),
        ("wrong algorithm", token_with(Algorithm::HS384, key, claims(&tenant, json!({})))),
        (
            "expired",
            token_with(Algorithm::HS256, key, claims(&tenant, json!({"exp": 1_000_000_000, "iat": 999_999_000}))),
        ),
        ("wrong audience", token_with(Algorithm::HS256, key, claims(&tenant, json!({"aud": "someone-else"})))),
        ("wrong issuer", token_with(Algorithm::HS256, key, claims(&tenant, json!({"iss": "evil"})))),
    ];
    for (what, token) in cases {
        let (status, body) = app.get("/api/v1/webhooks", &token).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body["type"], "unauthorized", "{what}");
    }
    let (status, body) = app.call(Method::GET, "/api/v1/webhooks", None, None).await;
    assert_eq!((status, body["type"].as_str()), (401, Some("unauthorized")), "missing token");
    let res = app
        .http
        .get(format!("{}/api/v1/webhooks", app.base))
        .header("Authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "wrong scheme");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_authenticate_until_revoked() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let (status, created) = app.post("/api/v1/api-keys", &token, json!({"name": "publisher"})).await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("hrk_") && key.len() == 47, "{key}");
    assert_eq!(created["prefix"], key[..12]);
    assert_eq!(created["name"], "publisher");
    assert_eq!(created["scope"], "all", "the default scope");
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));

    // the key works as a bearer token, and its use is noted
    assert_eq!(app.get("/api/v1/webhooks", &key).await.0, 200);
    let (status, list) = app.get("/api/v1/api-keys", &token).await;
    assert_eq!(status, 200);
    let row = &list["data"][0];
    let mut fields: Vec<&str> = row.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["createdAt", "id", "lastUsedAt", "name", "prefix", "scope"], "the key itself is never listed");
    assert!(row["lastUsedAt"].is_string());
    assert!(list["nextCursor"].is_null());

    // only a hash is stored
    let db = app.db.client().await;
    let stored: Vec<u8> = db.query_one("SELECT key_hash FROM api_keys", &[]).await.unwrap().get(0);
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(&key[4..]));

    let id = created["id"].as_str().unwrap();
    let (other, _) = app.tenant("Other").await;
    assert_eq!(app.delete(&format!("/api/v1/api-keys/{id}"), &other).await.0, 404, "another tenant cannot revoke it");
    assert_eq!(app.delete(&format!("/api/v1/api-keys/{id}"), &token).await.0, 204);
    let (status, body) = app.get("/api/v1/webhooks", &key).await;
    assert_eq!(status, 401, "a revoked key: {body}");
    assert_eq!(app.delete(&format!("/api/v1/api-keys/{id}"), &token).await.0, 404);
    let (status, err) = app.post("/api/v1/api-keys", &token, json!({})).await;
    assert_eq!((status, err["errors"][0]["field"].as_str()), (422, Some("name")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_publish_key_publishes_and_reads_its_events_only() {
    let app = TestApp::spawn().await;
    let (token, _) = app.tenant("Acme").await;
    let w = app.webhook(&token, json!({"name": "h", "url": "http://127.0.0.1:9/", "events": ["*"]})).await;
    let (status, created) = app.post("/api/v1/api-keys", &token, json!({"name": "backend", "scope": "publish"})).await;
    assert_eq!((status, created["scope"].as_str()), (201, Some("publish")), "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    let (_, list) = app.get("/api/v1/api-keys", &token).await;
    assert_eq!(list["data"][0]["scope"], "publish");

    let (status, event) = app.post("/api/v1/events", &key, json!({"event": "a.b", "data": {}})).await;
    assert_eq!(status, 202, "{event}");
    let (status, read) = app.get(&format!("/api/v1/events/{}", event["id"].as_str().unwrap()), &key).await;
    assert_eq!((status, &read["id"]), (200, &event["id"]));

    let id = w["id"].as_str().unwrap();
    let outside = [
        (Method::GET, "/api/v1/webhooks".to_owned(), None),
        (Method::GET, format!("/api/v1/webhooks/{id}/secret"), None),
        (Method::POST, format!("/api/v1/webhooks/{id}/rotate-secret"), Some(json!({}))),
        (Method::DELETE, format!("/api/v1/webhooks/{id}"), None),
        (Method::POST, "/api/v1/api-keys".to_owned(), Some(json!({"name": "wider", "scope": "all"}))),
        (Method::GET, "/api/v1/events".to_owned(), None),
        (Method::GET, "/api/v1/deliveries".to_owned(), None),
        (Method::GET, "/api/v1/stream".to_owned(), None),
    ];
    for (method, path, body) in outside {
        let (status, err) = app.call(method.clone(), &path, Some(&key), body).await;
        assert_eq!((status, err["type"].as_str()), (403, Some("forbidden")), "{method} {path}: {err}");
    }
    // nothing was changed by the refused calls
    assert_eq!(app.get(&format!("/api/v1/webhooks/{id}"), &token).await.0, 200);
    let (_, list) = app.get("/api/v1/api-keys", &token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let (status, err) = app.post("/api/v1/api-keys", &token, json!({"name": "x", "scope": "admin"})).await;
    assert_eq!((status, err["errors"][0]["field"].as_str()), (422, Some("scope")), "{err}");
    let (status, err) = app.post("/api/v1/api-keys", &token, json!({"name": "x", "scope": 1})).await;
    assert_eq!((status, err["type"].as_str()), (422, Some("validation_failed")), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn login_and_sign_up_are_rate_limited_per_client() {
    let app = TestApp::spawn_with(&["--auth-rate-limit", "3"]).await;
    let wrong = json!({"email": "nobody@example.com", "password": "password-123"});
    for _ in 0..3 {
        assert_eq!(app.call(Method::POST, "/api/v1/auth/login", None, Some(wrong.clone())).await.0, 401);
    }
    let res = app.http.post(format!("{}/api/v1/auth/login", app.base)).json(&wrong).send().await.unwrap();
    assert_eq!(res.status(), 429);
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "rate_limited");
    let reg = json!({"email": "new@example.com", "password": "password-123", "organization": "New"});
    let (status, _) = app.call(Method::POST, "/api/v1/auth/register", None, Some(reg)).await;
    assert_eq!(status, 429, "sign-up shares the limit");
}
