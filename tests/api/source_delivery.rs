//! A delivery of an event that came from an inbound source (SPEC "What a source's
//! subscribers receive"): the provider's body bytes and headers, under hookrelay's own.

use std::time::Duration;

use serde_json::json;
use uuid::Uuid;

use crate::delivery::x_signature_ok;
use crate::helpers::{Receiver, TestApp};

#[tokio::test(flavor = "multi_thread")]
async fn a_sources_delivery_carries_the_providers_request_signed_by_hookrelay() {
    let app = TestApp::spawn().await;
    let (token, tenant) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    let w = app.webhook(&token, json!({"name": "hook", "url": receiver.url, "events": ["twilio.*"]})).await;
    let secret = w["secret"].as_str().unwrap();
    let (source, request, event) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let body = "a=1&b=%F0%9F%98%80";
    let headers = json!({
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": "abc=",
        "user-agent": "TwilioProxy/1.1",
    });

    // what an accepted request publishes, written as the publish writes it
    let db = app.db.client().await;
    db.execute(
        "INSERT INTO events (id, tenant_id, event_type, body, test, deliveries, created_at, \
           source_id, inbound_request_id, source_headers) \
         VALUES ($1::text::uuid, $2::text::uuid, 'twilio.event', $3, false, 1, now(), $4::text::uuid, $5::text::uuid, $6::text::jsonb)",
        &[&event.to_string(), &tenant, &body, &source.to_string(), &request.to_string(), &headers.to_string()],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO deliveries (id, tenant_id, event_id, webhook_id, event_type, status, next_attempt_at, test, \
           created_at, updated_at) \
         VALUES (hookrelay_uuid_v7(), $1::text::uuid, $2::text::uuid, $3::text::uuid, 'twilio.event', 'pending', now(), false, \
           now(), now())",
        &[&tenant, &event.to_string(), &w["id"].as_str().unwrap()],
    )
    .await
    .unwrap();
    db.execute("SELECT pg_notify('hookrelay_work', 'source_delivery test')", &[]).await.unwrap();

    let r = &receiver.wait_for(1, Duration::from_secs(10)).await[0];
    assert_eq!(r.body, body.as_bytes(), "the provider's exact bytes");
    assert_eq!(r.header("content-type"), "application/x-www-form-urlencoded");
    assert_eq!(r.header("x-twilio-signature"), "abc=");
    assert_eq!(r.header("user-agent"), concat!("hookrelay/", env!("CARGO_PKG_VERSION")), "hookrelay's replaces");
    assert_eq!(r.header("x-webhook-source"), source.to_string());
    assert_eq!(r.header("x-webhook-id"), event.to_string());
    assert_eq!(r.header("x-webhook-event"), "twilio.event");
    assert!(x_signature_ok(r, secret, "x-webhook-signature"), "signed over the provider's bytes");
}
