//! API keys: `hrk_` + 32 random bytes (unpadded base64url), stored as a SHA-256 hash.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const KEY_PREFIX: &str = "hrk_";
/// How many leading characters of a key are kept to recognise it.
pub const SHOWN_PREFIX_LEN: usize = 12;

pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

pub fn hash(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

pub fn shown_prefix(key: &str) -> String {
    key.chars().take(SHOWN_PREFIX_LEN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_prefixed() {
        let a = generate();
        assert!(a.starts_with(KEY_PREFIX));
        assert_eq!(a.len(), 4 + 43);
        assert_ne!(a, generate());
        assert_eq!(shown_prefix(&a).len(), 12);
        assert_eq!(hash(&a).len(), 32);
    }
}
