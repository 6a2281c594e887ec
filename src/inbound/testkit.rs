//! Test helpers: an owned request to build and alter, and short ways to run `receive`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Map, Value};

use super::mac::Algorithm;
use super::{receive, Check, Credentials, Matched, Provider, Request, Verdict};

/// The `now` of every test request unless set: 2023-11-14T22:13:20Z.
pub const NOW: i64 = 1_700_000_000;
pub const INGEST_URL: &str = "https://hookrelay.example/in/q3Zb0dP5u8mYx1cT7wLk2A";

#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub url: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub now: i64,
}

impl Req {
    pub fn post(body: &[u8]) -> Req {
        Req {
            method: "POST".to_owned(),
            url: INGEST_URL.to_owned(),
            query: String::new(),
            headers: Vec::new(),
            body: body.to_vec(),
            now: NOW,
        }
    }

    pub fn get(query: &str) -> Req {
        Req::post(b"").method("GET").url(INGEST_URL, query)
    }

    pub fn method(mut self, method: &str) -> Req {
        self.method = method.to_owned();
        self
    }

    /// `base` (no query) and the query: `url` becomes `base?query` as the ingest route builds it.
    pub fn url(mut self, base: &str, query: &str) -> Req {
        self.url = if query.is_empty() { base.to_owned() } else { format!("{base}?{query}") };
        self.query = query.to_owned();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    pub fn remove_header(mut self, name: &str) -> Req {
        self.headers.retain(|(n, _)| n != name);
        self
    }

    pub fn replace_header(self, name: &str, value: &str) -> Req {
        self.remove_header(name).header(name, value)
    }

    /// One byte of the body changed (the middle one, its lowest bit flipped).
    pub fn flip_body_byte(mut self) -> Req {
        assert!(!self.body.is_empty());
        let i = self.body.len() / 2;
        self.body[i] ^= 1;
        self
    }

    pub fn now(mut self, now: i64) -> Req {
        self.now = now;
        self
    }

    /// Signs with `X-Hub-Signature-256` using this module's own HMAC, for tests about
    /// something else than the signature (the vectors check the HMAC itself).
    pub fn sign_hub(self, secret: &str) -> Req {
        let mac = hex::encode(Algorithm::Sha256.mac(secret.as_bytes(), &[&self.body]));
        self.replace_header("x-hub-signature-256", &format!("sha256={mac}"))
    }

    pub fn as_request(&self) -> Request<'_> {
        Request {
            method: &self.method,
            url: &self.url,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
            now: self.now,
        }
    }
}

pub fn map(v: &Value) -> Map<String, Value> {
    v.as_object().expect("a JSON object").clone()
}

pub fn run(provider: Provider, current: &Value, previous: Option<&Value>, req: &Req, fixed: Option<&str>) -> Verdict {
    let current = map(current);
    let previous = previous.map(map);
    let creds = Credentials { current: &current, previous: previous.as_ref() };
    receive(provider, &creds, &req.as_request(), fixed)
}

/// The `Accepted` verdict's (matched, event type, dedupe key); panics on anything else.
pub fn accepted(verdict: Verdict) -> (Matched, String, String) {
    match verdict {
        Verdict::Accepted { matched, event_type, dedupe_key } => (matched, event_type, dedupe_key),
        other => panic!("expected Accepted, got {other:?}"),
    }
}

pub fn rejected(verdict: Verdict) -> Check {
    match verdict {
        Verdict::Rejected(check) => check,
        other => panic!("expected Rejected, got {other:?}"),
    }
}

pub fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}
