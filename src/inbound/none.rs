//! The `none` provider: nothing is verified, the URL's token is the only secret. The event
//! type is the source's `eventType`.

use super::scheme::Scheme;
use super::{Check, Credentials, Matched, Request};

pub(super) struct Unverified;

impl Scheme for Unverified {
    fn verify(&self, _creds: &Credentials, _req: &Request) -> Result<Matched, Check> {
        Ok(Matched::Current)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testkit::*;
    use super::super::{mac, Matched, Provider};
    use serde_json::json;

    #[test]
    fn anything_is_accepted_with_the_fixed_type() {
        for body in [&b"{\"a\":1}"[..], b"", b"\xff\xfe not utf-8"] {
            let req = Req::post(body).header("x-anything", "1");
            let (matched, event_type, key) =
                accepted(run(Provider::None, &json!({}), None, &req, Some("form.submitted")));
            assert_eq!(matched, Matched::Current);
            assert_eq!(event_type, "form.submitted");
            assert_eq!(key, mac::sha256_hex(body));
        }
        let (_, event_type, _) = accepted(run(Provider::None, &json!({}), None, &Req::post(b"{}"), None));
        assert_eq!(event_type, "none.event");
    }
}
