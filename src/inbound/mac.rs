//! The data every signing scheme is made of: an HMAC algorithm, how the MAC is encoded in
//! its header, the key a secret string stands for, and the constant-time comparisons.

use ::hmac::{Hmac, KeyInit, Mac};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

use super::{Check, Credentials, Matched};

/// Standard base64 with or without padding: senders differ, the bytes do not.
pub(super) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    pub(super) const NAMES: [&'static str; 3] = ["sha1", "sha256", "sha512"];

    pub(super) fn parse(s: &str) -> Option<Algorithm> {
        match s {
            "sha1" => Some(Algorithm::Sha1),
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    /// Length of the MAC in bytes.
    pub(super) fn len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }

    /// HMAC of the concatenation of `parts`, keyed by `key`.
    pub(super) fn mac(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        match self {
            Algorithm::Sha1 => mac_with::<Hmac<Sha1>>(key, parts),
            Algorithm::Sha256 => mac_with::<Hmac<Sha256>>(key, parts),
            Algorithm::Sha512 => mac_with::<Hmac<Sha512>>(key, parts),
        }
    }
}

fn mac_with<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC hashes or pads keys of any length: `new_from_slice` cannot fail for it (the
    // Result exists because `KeyInit` is shared with fixed-key ciphers). Were it ever to, an
    // empty MAC matches no signature, so the request fails closed.
    let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
        return Vec::new();
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// How a MAC is written in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    /// Hex, either case.
    Hex,
    /// Standard base64, padding optional.
    Base64,
}

impl Encoding {
    pub(super) const NAMES: [&'static str; 2] = ["hex", "base64"];

    pub(super) fn parse(s: &str) -> Option<Encoding> {
        match s {
            "hex" => Some(Encoding::Hex),
            "base64" => Some(Encoding::Base64),
            _ => None,
        }
    }

    pub(super) fn decode(self, s: &str) -> Option<Vec<u8>> {
        match self {
            Encoding::Hex => hex::decode(s).ok(),
            Encoding::Base64 => BASE64.decode(s).ok(),
        }
    }

    #[cfg(test)]
    pub(super) fn encode(self, bytes: &[u8]) -> String {
        match self {
            Encoding::Hex => hex::encode(bytes),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }
}

/// Lower-case hex SHA-256: the default dedupe key, Twilio's `bodySHA256`.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Constant-time equality of two MACs (their length is public).
pub(super) fn same_mac(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Constant-time equality of a presented credential and the configured one, that leaks
/// neither where they differ nor the configured length: the digests are compared.
pub(super) fn same_secret(presented: &[u8], configured: &[u8]) -> bool {
    Sha256::digest(presented).ct_eq(&Sha256::digest(configured)).into()
}

/// A config field read as a credential: a non-empty string, or nothing (fail closed).
pub(super) fn field<'c>(config: &'c Map<String, Value>, name: &str) -> Option<&'c str> {
    config.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The key most providers sign with: the secret string's UTF-8 bytes.
pub(super) fn utf8_key(secret: &str) -> Option<Vec<u8>> {
    Some(secret.as_bytes().to_vec())
}

/// Tries the credential `field` of the current config, then of the previous one.
///
/// `key` turns the field's string into a MAC key (or refuses it); `check` says through
/// which reading the key verifies the request (`Matched::Current`, or LinkedIn's
/// `Prefixed`/`Body`). A match through the previous config is `Matched::Previous`. No
/// usable credential at all → `WrongCredentials` (a broken config fails closed); usable
/// ones that do not match → `SignatureMismatch`.
pub(super) fn try_credentials(
    creds: &Credentials,
    field_name: &str,
    key: impl Fn(&str) -> Option<Vec<u8>>,
    check: impl Fn(&[u8]) -> Option<Matched>,
) -> Result<Matched, Check> {
    let configs = [(Some(creds.current), false), (creds.previous, true)];
    let mut usable = false;
    for (config, is_previous) in configs {
        let Some(key) = config.and_then(|c| field(c, field_name)).and_then(&key) else {
            continue;
        };
        usable = true;
        if let Some(reading) = check(&key) {
            return Ok(if is_previous { Matched::Previous } else { reading });
        }
    }
    Err(if usable { Check::SignatureMismatch } else { Check::WrongCredentials })
}

/// A signature carried whole in one header: `prefix` + the encoded HMAC of the signed
/// content, keyed by the UTF-8 bytes of the config field `secret`. Meta, GitHub, Viber,
/// LinkedIn, Shopify, Slack and the `hmac` provider are each one of these.
#[derive(Debug, Clone, Copy)]
pub(super) struct HeaderMac<'c> {
    /// Lower-case header name.
    pub header: &'c str,
    pub prefix: &'c str,
    pub encoding: Encoding,
    pub algorithm: Algorithm,
    /// The config field holding the secret.
    pub secret: &'static str,
}

impl HeaderMac<'_> {
    /// The MAC the request presents: no header → `MissingSignature`; a value that is not
    /// the prefix and an encoded MAC of the algorithm's length → `MalformedSignature`.
    pub(super) fn presented(&self, req: &super::Request) -> Result<Vec<u8>, Check> {
        let value = super::scheme::header(req, self.header).ok_or(Check::MissingSignature)?;
        value
            .trim()
            .strip_prefix(self.prefix)
            .and_then(|encoded| self.encoding.decode(encoded))
            .filter(|mac| mac.len() == self.algorithm.len())
            .ok_or(Check::MalformedSignature)
    }

    /// Verifies the request: its MAC must be the HMAC of one of `readings` (each a list of
    /// parts, concatenated, and what the log says when the current secret matches through it).
    pub(super) fn verify(
        &self,
        creds: &Credentials,
        req: &super::Request,
        readings: &[(Matched, &[&[u8]])],
    ) -> Result<Matched, Check> {
        let presented = self.presented(req)?;
        try_credentials(creds, self.secret, utf8_key, |key| {
            readings
                .iter()
                .find(|(_, parts)| same_mac(&self.algorithm.mac(key, parts), &presented))
                .map(|(reading, _)| *reading)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn hmac_of_each_algorithm() {
        // RFC 4231 test case 2 (SHA-256, SHA-512) and RFC 2202 test case 2 (SHA-1).
        let (key, data): (&[u8], &[u8]) = (b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(Algorithm::Sha1.mac(key, &[data])), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        assert_eq!(
            hex::encode(Algorithm::Sha256.mac(key, &[b"what do ya want ", b"for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(Algorithm::Sha512.mac(key, &[data])),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
        for a in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
            assert_eq!(a.mac(b"", &[]).len(), a.len());
        }
    }

    #[test]
    fn encodings_decode_leniently() {
        assert_eq!(Encoding::Hex.decode("0aFF"), Some(vec![10, 255]));
        assert_eq!(Encoding::Hex.decode("0aF"), None);
        assert_eq!(Encoding::Base64.decode("AAE="), Some(vec![0, 1]));
        assert_eq!(Encoding::Base64.decode("AAE"), Some(vec![0, 1]));
        assert_eq!(Encoding::Base64.decode("AA-_"), None);
        assert_eq!(Encoding::Base64.encode(&[0, 1]), "AAE=");
    }

    #[test]
    fn secret_comparison() {
        assert!(same_secret(b"token", b"token"));
        assert!(!same_secret(b"token", b"token2"));
        assert!(!same_secret(b"", b"token"));
        assert!(same_mac(b"ab", b"ab"));
        assert!(!same_mac(b"ab", b"abc"));
    }
}
