//! Signing secrets at rest (SPEC "Security"): each value is sealed with AES-256-GCM under
//! the current key (`HOOKRELAY_ENCRYPTION_KEY`), with a fresh random nonce, the webhook's
//! id as associated data (a sealed value copied to another webhook does not open), and
//! the key's id written beside it:
//!
//! `enc:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`
//!
//! The key id is the first 8 hex digits of the key's SHA-256: it names the key without
//! revealing it. Keys in `HOOKRELAY_ENCRYPTION_OLD_KEYS` still open values during a key
//! rotation; `hookrelay reencrypt` seals every value under the current key so that an old
//! key can be retired. Secrets are opened only where they are used: when an attempt is
//! signed, and when the API returns a secret to its owner.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What every sealed value starts with.
const PREFIX: &str = "enc:v1:";
const NONCE_LEN: usize = 12;

/// The key used when none is configured in development mode. Documented in the README;
/// production mode refuses to start without a real key. (Base64 of the 32 bytes
/// `hookrelay-dev-encryption-key-32b`.)
pub const DEV_ENCRYPTION_KEY: &str = "aG9va3JlbGF5LWRldi1lbmNyeXB0aW9uLWtleS0zMmI=";

struct SealingKey {
    id: String,
    cipher: Aes256Gcm,
}

impl SealingKey {
    fn new(bytes: &[u8; 32]) -> SealingKey {
        let id = hex::encode(&Sha256::digest(bytes)[..4]);
        SealingKey { id, cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes)) }
    }
}

/// The current key and the old ones that still open values. No `Debug` of the keys.
pub struct Sealer {
    current: SealingKey,
    old: Vec<SealingKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let old: Vec<&str> = self.old.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("Sealer").field("current", &self.current.id).field("old", &old).finish()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("the value is not sealed (a secret stored in clear)")]
    NotSealed,
    #[error(
        "the value is sealed under key id {0}, which is neither HOOKRELAY_ENCRYPTION_KEY nor one of \
         HOOKRELAY_ENCRYPTION_OLD_KEYS"
    )]
    UnknownKey(String),
    #[error("the sealed value does not open with its key: it was altered, or belongs to another webhook")]
    Corrupt,
}

impl Sealer {
    /// From the settings' base64 keys; an error names the variable at fault.
    pub fn from_base64(current: &str, old: &[&str]) -> anyhow::Result<Sealer> {
        let current = decode_key("HOOKRELAY_ENCRYPTION_KEY", current)?;
        let old = old
            .iter()
            .filter(|k| !k.trim().is_empty())
            .map(|k| decode_key("HOOKRELAY_ENCRYPTION_OLD_KEYS", k))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Sealer { current: SealingKey::new(&current), old: old.iter().map(SealingKey::new).collect() })
    }

    /// The id of the key new values are sealed under.
    pub fn key_id(&self) -> &str {
        &self.current.id
    }

    /// Whether this sealer can open values sealed under `key_id`.
    pub fn knows(&self, key_id: &str) -> bool {
        self.current.id == key_id || self.old.iter().any(|k| k.id == key_id)
    }

    pub fn seal(&self, webhook: Uuid, secret: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload { msg: secret.as_bytes(), aad: webhook.as_bytes() };
        // AES-GCM fails only for inputs of gigabytes; a secret is at most a few hundred bytes
        let sealed = self.current.cipher.encrypt(&nonce, payload).unwrap_or_default();
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", self.current.id, URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn open(&self, webhook: Uuid, stored: &str) -> Result<String, OpenError> {
        let (key_id, data) = split(stored).ok_or(OpenError::NotSealed)?;
        let key = std::iter::once(&self.current)
            .chain(&self.old)
            .find(|k| k.id == key_id)
            .ok_or_else(|| OpenError::UnknownKey(key_id.to_owned()))?;
        let bytes = URL_SAFE_NO_PAD.decode(data).map_err(|_| OpenError::Corrupt)?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError::Corrupt);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let opened = key
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: webhook.as_bytes() })
            .map_err(|_| OpenError::Corrupt)?;
        String::from_utf8(opened).map_err(|_| OpenError::Corrupt)
    }
}

/// The key id of a sealed value, or `None` for a value in clear.
pub fn key_id_of(stored: &str) -> Option<&str> {
    split(stored).map(|(id, _)| id)
}

fn split(stored: &str) -> Option<(&str, &str)> {
    stored.strip_prefix(PREFIX)?.split_once(':')
}

fn decode_key(variable: &str, b64: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD
        .decode(b64.trim())
        .map_err(|_| anyhow::anyhow!("{variable} is not base64 (generate a key with `openssl rand -base64 32`)"))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        anyhow::anyhow!("{variable} must decode to 32 bytes, not {} (`openssl rand -base64 32`)", bytes.len())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const OTHER: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    #[test]
    fn a_sealed_secret_opens_for_its_webhook_only_and_never_shows_in_clear() {
        let sealer = Sealer::from_base64(DEV_ENCRYPTION_KEY, &[]).unwrap();
        let (w, other) = (Uuid::now_v7(), Uuid::now_v7());
        let sealed = sealer.seal(w, "whsec_abc");
        assert!(sealed.starts_with(&format!("enc:v1:{}:", sealer.key_id())), "{sealed}");
        assert!(!sealed.contains("whsec_abc"));
        assert_ne!(sealed, sealer.seal(w, "whsec_abc"), "a fresh nonce per value");
        assert_eq!(sealer.open(w, &sealed).unwrap(), "whsec_abc");
        assert_eq!(sealer.open(other, &sealed), Err(OpenError::Corrupt));
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(sealer.open(w, &altered), Err(OpenError::Corrupt));
        assert_eq!(sealer.open(w, "whsec_abc"), Err(OpenError::NotSealed));
    }

    #[test]
    fn old_keys_open_during_a_rotation_and_unknown_keys_are_named() {
        let before = Sealer::from_base64(OTHER, &[]).unwrap();
        let w = Uuid::now_v7();
        let sealed = before.seal(w, "s");
        let after = Sealer::from_base64(DEV_ENCRYPTION_KEY, &[OTHER]).unwrap();
        assert_eq!(after.open(w, &sealed).unwrap(), "s");
        assert!(after.knows(before.key_id()));
        let without = Sealer::from_base64(DEV_ENCRYPTION_KEY, &[]).unwrap();
        assert_eq!(without.open(w, &sealed), Err(OpenError::UnknownKey(before.key_id().to_owned())));
        assert_eq!(key_id_of(&sealed), Some(before.key_id()));
    }

    #[test]
    fn bad_keys_are_refused_naming_the_variable() {
        let err = Sealer::from_base64("not base64!", &[]).unwrap_err().to_string();
        assert!(err.contains("HOOKRELAY_ENCRYPTION_KEY"), "{err}");
        let err = Sealer::from_base64("c2hvcnQ=", &[]).unwrap_err().to_string();
        assert!(err.contains("32 bytes"), "{err}");
        let err = Sealer::from_base64(DEV_ENCRYPTION_KEY, &["c2hvcnQ="]).unwrap_err().to_string();
        assert!(err.contains("HOOKRELAY_ENCRYPTION_OLD_KEYS"), "{err}");
    }
}
