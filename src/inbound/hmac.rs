//! The `hmac` provider: any sender that puts `prefix` + the encoded HMAC of the raw body
//! in one header, described entirely by the source's config (`secret`, `header`,
//! `algorithm`, `encoding`, `prefix`). The event type is the source's `eventType`.

use serde_json::Value;

use super::mac::{self, Algorithm, Encoding, HeaderMac};
use super::scheme::Scheme;
use super::{Check, Credentials, Matched, Request};

pub(super) struct GenericHmac;

impl Scheme for GenericHmac {
    /// The scheme is read from the current config (only `secret` differs in the previous
    /// one); a config that does not describe one fails closed as `WrongCredentials`.
    fn verify(&self, creds: &Credentials, req: &Request) -> Result<Matched, Check> {
        let config = creds.current;
        let header = mac::field(config, "header");
        let algorithm = mac::field(config, "algorithm").and_then(Algorithm::parse);
        let encoding = mac::field(config, "encoding").and_then(Encoding::parse);
        let prefix = match config.get("prefix") {
            None | Some(Value::Null) => Some(""),
            Some(Value::String(prefix)) => Some(prefix.as_str()),
            Some(_) => None,
        };
        let (Some(header), Some(algorithm), Some(encoding), Some(prefix)) = (header, algorithm, encoding, prefix)
        else {
            return Err(Check::WrongCredentials);
        };
        let scheme = HeaderMac { header, prefix, encoding, algorithm, secret: "secret" };
        scheme.verify(creds, req, &[(Matched::Current, &[req.body])])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testkit::*;
    use super::super::{mac, Check, Matched, Provider, Verdict};
    use serde_json::{json, Value};

    const SECRET: &str = "custom-hmac-secret-1234";
    const BODY: &[u8] = br#"{"order":42,"status":"paid"}"#;
    // python3 -c 'import hmac,hashlib,base64; k=b"custom-hmac-secret-1234"; B=BODY;
    //   print(hmac.new(k,B,hashlib.sha256).hexdigest()); print(base64.b64encode(hmac.new(k,B,hashlib.sha1).digest()).decode());
    //   print(hmac.new(k,B,hashlib.sha512).hexdigest()); print(base64.b64encode(hmac.new(k,B,hashlib.sha512).digest()).decode())'
    const SHA256_HEX: &str = "6429b8f5b940088f2a5a64b8457a047e778e2adde5d2e39b6f5145e4891a4556";
    const SHA1_BASE64: &str = "4jCW3mBcyu7caHyeVL44c/ny8z0=";
    const SHA512_HEX: &str = "bdf8f625af7cb4b9b339873a88d145faaab14ea32fd264519c5815218a68ec914de3bc924392a03d058e8fb7ac7cd584977e93b5ba10646a8481d53521c9e4eb";
    const SHA512_BASE64: &str =
        "vfj2Ja98tLmzOYc6iNFF+qqxTqMv0mRRnFgVIYpo7JFN47ySQ5KgPQWOj7esfNWEl36TtboQZGqEgdU1Icnk6w==";
    // Same as SHA256_HEX with the key b"old-hmac-secret".
    const OLD_SHA256_HEX: &str = "2594234e7f1158189d09d0045abcc4f6a85867fbd06d9cc9c765adf1e68bd5b9";

    fn config(algorithm: &str, encoding: &str, prefix: &str) -> Value {
        json!({"secret": SECRET, "header": "X-Signature", "algorithm": algorithm, "encoding": encoding, "prefix": prefix})
    }

    fn verdict(config: &Value, signature: &str) -> Verdict {
        let req = Req::post(BODY).header("x-signature", signature);
        run(Provider::Hmac, config, None, &req, Some("order.paid"))
    }

    #[test]
    fn every_algorithm_and_encoding() {
        for (config, signature) in [
            (config("sha256", "hex", "sha256="), format!("sha256={SHA256_HEX}")),
            (config("sha256", "hex", ""), SHA256_HEX.to_owned()),
            (config("sha1", "base64", ""), SHA1_BASE64.to_owned()),
            (config("sha512", "hex", "v1:"), format!("v1:{SHA512_HEX}")),
            (config("sha512", "base64", ""), SHA512_BASE64.to_owned()),
        ] {
            let (matched, event_type, key) = accepted(verdict(&config, &signature));
            assert_eq!(matched, Matched::Current);
            assert_eq!(event_type, "order.paid");
            // python3 -c 'import hashlib; print(hashlib.sha256(BODY).hexdigest())'
            assert_eq!(key, "0277f383431939850de4b4c0afb0fec0138222940f6a1211fba099b14954214d");
        }
        // No prefix in the config: none.
        let no_prefix = json!({"secret": SECRET, "header": "x-signature", "algorithm": "sha256", "encoding": "hex"});
        accepted(verdict(&no_prefix, SHA256_HEX));
        assert_eq!(key_of(&no_prefix), mac::sha256_hex(BODY));
    }

    fn key_of(config: &Value) -> String {
        accepted(verdict(config, SHA256_HEX)).2
    }

    #[test]
    fn without_event_type_the_fallback() {
        let req = Req::post(BODY).header("x-signature", SHA256_HEX);
        let (_, event_type, _) = accepted(run(Provider::Hmac, &config("sha256", "hex", ""), None, &req, None));
        assert_eq!(event_type, "hmac.event");
    }

    #[test]
    fn rejections() {
        let config = config("sha256", "hex", "sha256=");
        let signed = Req::post(BODY).header("x-signature", &format!("sha256={SHA256_HEX}"));
        let check = |req: &Req| rejected(run(Provider::Hmac, &config, None, req, Some("order.paid")));
        assert_eq!(check(&signed.clone().flip_body_byte()), Check::SignatureMismatch);
        assert_eq!(check(&Req::post(BODY)), Check::MissingSignature);
        for garbage in [
            SHA256_HEX.to_owned(),
            "sha256=xyz".to_owned(),
            format!("sha256={SHA512_HEX}"),
            format!("sha1={SHA256_HEX}"),
        ] {
            assert_eq!(
                check(&signed.clone().replace_header("x-signature", &garbage)),
                Check::MalformedSignature,
                "{garbage}"
            );
        }
        // The right MAC under another algorithm's config.
        assert_eq!(rejected(verdict(&self::config("sha1", "base64", ""), SHA256_HEX)), Check::MalformedSignature);
        // A config that does not describe a scheme fails closed.
        for broken in [
            json!({"secret": SECRET, "header": "X-Signature", "algorithm": "md5", "encoding": "hex"}),
            json!({"secret": SECRET, "header": "X-Signature", "algorithm": "sha256", "encoding": "base32"}),
            json!({"secret": SECRET, "algorithm": "sha256", "encoding": "hex"}),
            json!({"secret": SECRET, "header": "X-Signature", "algorithm": "sha256", "encoding": "hex", "prefix": 1}),
            json!({"header": "X-Signature", "algorithm": "sha256", "encoding": "hex", "prefix": "sha256="}),
        ] {
            assert_eq!(
                rejected(run(Provider::Hmac, &broken, None, &signed, None)),
                Check::WrongCredentials,
                "{broken}"
            );
        }
    }

    #[test]
    fn previous_secret_matches_during_the_overlap() {
        let current = config("sha256", "hex", "");
        let mut previous = current.clone();
        previous["secret"] = json!("old-hmac-secret");
        let req = Req::post(BODY).header("x-signature", OLD_SHA256_HEX);
        let (matched, ..) = accepted(run(Provider::Hmac, &current, Some(&previous), &req, Some("t")));
        assert_eq!(matched, Matched::Previous);
    }
}
