//! DNS rebinding: a name that resolves to a public address when the webhook is saved and
//! to 127.0.0.1 at attempt time is refused at connect time (`blocked_target`); nothing
//! reaches the local receiver. Names are resolved through a DNS stub in the test
//! (`--dns-server`).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::net::UdpSocket;

use crate::helpers::{Receiver, TestApp};

/// A DNS server answering every A query with `public` until `rebound`, then with
/// 127.0.0.1 (TTL 0); other queries get no records.
async fn dns_stub(public: Ipv4Addr, rebound: Arc<AtomicBool>) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            if let Some(answer) =
                answer(&buf[..n], if rebound.load(Ordering::SeqCst) { Ipv4Addr::LOCALHOST } else { public })
            {
                let _ = socket.send_to(&answer, from).await;
            }
        }
    });
    addr
}

/// The response to one query (RFC 1035 §4.1): its header and question, and for an A query
/// one answer pointing back at the question's name.
fn answer(query: &[u8], ip: Ipv4Addr) -> Option<Vec<u8>> {
    let mut end = 12;
    while *query.get(end)? != 0 {
        end += 1 + usize::from(query[end]);
    }
    let question = query.get(12..end + 5)?;
    let qtype = u16::from_be_bytes([query[end + 1], query[end + 2]]);
    let is_a = qtype == 1;
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&query[..2]); // id
    out.extend_from_slice(&[0x81, 0x80]); // response, recursion desired and available, no error
    out.extend_from_slice(&[0, 1, 0, u8::from(is_a), 0, 0, 0, 0]);
    out.extend_from_slice(question);
    if is_a {
        out.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4]);
        out.extend_from_slice(&ip.octets());
    }
    Some(out)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_rebound_to_loopback_after_saving_is_blocked_at_connect_time() {
    let rebound = Arc::new(AtomicBool::new(false));
    // TEST-NET-1: public as far as the guard is concerned, and nothing listens there
    let dns = dns_stub(Ipv4Addr::new(192, 0, 2, 10), rebound.clone()).await;
    let dns = dns.to_string();
    let app = TestApp::spawn_with(&["--allow-private-targets", "false", "--dns-server", &dns]).await;
    let (token, _) = app.tenant("Acme").await;
    let receiver = Receiver::ok().await;
    let port = url::Url::parse(&receiver.url).unwrap().port().unwrap();
    let target = format!("http://rebind.example:{port}/hook");

    // saved while the name resolves to a public address
    let w = app.webhook(&token, json!({"name": "rebind", "url": target, "events": ["*"], "retrySchedule": []})).await;
    let id = w["id"].as_str().unwrap().to_owned();

    rebound.store(true, Ordering::SeqCst);
    // a new webhook to the name is refused now, at save time
    let (status, err) =
        app.post("/api/v1/webhooks", &token, json!({"name": "again", "url": target, "events": ["*"]})).await;
    assert_eq!((status, err["errors"][0]["field"].as_str()), (422, Some("url")), "{err}");

    // and the saved one's attempt is blocked at connect time
    let (status, _) = app.post(&format!("/api/v1/webhooks/{id}/test"), &token, json!({})).await;
    assert_eq!(status, 202);
    let deadline = Instant::now() + Duration::from_secs(15);
    let log = loop {
        let (_, logs) = app.get(&format!("/api/v1/webhooks/{id}/logs"), &token).await;
        if let Some(first) = logs["data"].as_array().and_then(|a| a.first()).cloned() {
            break first;
        }
        assert!(Instant::now() < deadline, "no attempt was logged");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(log["errorKind"], "blocked_target", "{log}");
    assert_eq!(log["success"], false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.received().is_empty(), "nothing reached the local receiver");
}
