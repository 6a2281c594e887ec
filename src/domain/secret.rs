//! Webhook signing secrets (SPEC: Webhooks, "Signing secrets").

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use rand::RngCore;

const PREFIX: &str = "whsec_";

/// Standard base64 that accepts the encoded key with or without padding, as SPEC allows.
const STANDARD_PADDING_OPTIONAL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A webhook's signing secret: `whsec_` + base64 key, or a caller's plain secret.
///
/// Deliberately has no `Display` and a redacting `Debug`, so that it cannot end up in a log
/// line by accident; `expose` is the one way to read it.
#[derive(Clone)]
pub struct SigningSecret(String);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(***)")
    }
}

impl SigningSecret {
    /// `whsec_` + standard padded base64 of 32 random bytes from the OS.
    pub fn generate() -> SigningSecret {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SigningSecret(format!("{PREFIX}{}", STANDARD.encode(key)))
    }

    pub fn parse(s: &str) -> Result<SigningSecret, String> {
        if let Some(encoded) = s.strip_prefix(PREFIX) {
            let key = STANDARD_PADDING_OPTIONAL
                .decode(encoded)
                .map_err(|_| "a secret starting with whsec_ must be followed by valid standard base64".to_owned())?;
            if !(24..=64).contains(&key.len()) {
                return Err(format!("a whsec_ secret must encode 24-64 bytes (this one encodes {})", key.len()));
            }
        } else {
            let printable = s.bytes().all(|b| (0x20..=0x7e).contains(&b));
            if !printable || !(16..=128).contains(&s.len()) {
                return Err(
                    "secret must be whsec_ + base64 of 24-64 bytes, or 16-128 printable ASCII characters".to_owned()
                );
            }
        }
        Ok(SigningSecret(s.to_owned()))
    }

    /// The full secret string, to store it and to show it to the webhook's owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Key of `X-Webhook-Signature`: the secret's UTF-8 bytes, `whsec_` included.
    pub fn x_signature_key(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Key of the Standard Webhooks signature: the decoded part after `whsec_`, or the
    /// plain secret's UTF-8 bytes.
    pub fn standard_key(&self) -> Vec<u8> {
        match self.0.strip_prefix(PREFIX) {
            // `parse` and `generate` guarantee that this decodes; falling back to the raw
            // bytes keeps this infallible without a panic path.
            Some(encoded) => STANDARD_PADDING_OPTIONAL.decode(encoded).unwrap_or_else(|_| self.0.as_bytes().to_vec()),
            None => self.0.as_bytes().to_vec(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets() {
        let a = SigningSecret::generate();
        let b = SigningSecret::generate();
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with("whsec_"));
        // 32 bytes → 44 padded base64 characters.
        assert_eq!(a.expose().len(), 6 + 44);
        assert!(a.expose().ends_with('='));
        assert_eq!(a.standard_key().len(), 32);
        assert_eq!(a.x_signature_key(), a.expose().as_bytes());
        // A generated secret is accepted back by parse (it is stored and reloaded).
        assert_eq!(SigningSecret::parse(a.expose()).unwrap().expose(), a.expose());
    }

    #[test]
    fn debug_is_redacted() {
        let s = SigningSecret::parse("my-own-signing-secret-123").unwrap();
        assert_eq!(format!("{s:?}"), "SigningSecret(***)");
        assert_eq!(format!("{:?}", Some(s)), "Some(SigningSecret(***))");
    }

    #[test]
    fn whsec_secrets() {
        let s = SigningSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        assert_eq!(s.standard_key().len(), 24);
        assert_eq!(s.x_signature_key(), b"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");

        let padded = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let unpadded = padded.trim_end_matches('=');
        let expected: Vec<u8> = (0u8..32).collect();
        assert_eq!(SigningSecret::parse(padded).unwrap().standard_key(), expected);
        assert_eq!(SigningSecret::parse(unpadded).unwrap().standard_key(), expected);

        // 24 and 64 bytes are the bounds.
        assert!(SigningSecret::parse(&format!("whsec_{}", STANDARD.encode([7u8; 64]))).is_ok());
        for bad_len in [0usize, 1, 23, 65] {
            let s = format!("whsec_{}", STANDARD.encode(vec![7u8; bad_len]));
            assert!(SigningSecret::parse(&s).is_err(), "{bad_len}");
        }
    }

    #[test]
    fn whsec_must_be_standard_base64() {
        for bad in [
            "whsec_",
            "whsec_not base64 at all!!!!!!!!!!!!!!",
            // URL-safe alphabet is not standard base64.
            "whsec_C2FVsBQIhrscChlQIMV-b5sSYspob7oD",
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7o", // bad length
            "whsec_ C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        ] {
            assert!(SigningSecret::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plain_secrets() {
        let s = SigningSecret::parse("my-own-signing-secret-123").unwrap();
        assert_eq!(s.standard_key(), b"my-own-signing-secret-123");
        assert_eq!(s.x_signature_key(), b"my-own-signing-secret-123");
        assert!(SigningSecret::parse(&"a".repeat(16)).is_ok());
        assert!(SigningSecret::parse(&"~".repeat(128)).is_ok());
        assert!(SigningSecret::parse("with spaces inside it").is_ok());
        for bad in [
            String::new(),
            "a".repeat(15),
            "a".repeat(129),
            "tab\there-is-not-printable".to_owned(),
            "newline\nnot-printable-ok".to_owned(),
            "non-ascii-secret-é-here".to_owned(),
        ] {
            assert!(SigningSecret::parse(&bad).is_err(), "{bad:?}");
        }
    }
}
