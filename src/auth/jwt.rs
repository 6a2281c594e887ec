//! Access tokens: HS256 only, with issuer, audience, expiry, subject and tenant checked.

use std::time::Duration;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const ISSUER: &str = "hookrelay";
pub const AUDIENCE: &str = "hookrelay-api";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub tid: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> JwtKeys {
        // pinning the algorithm rejects `alg: none` and every algorithm but HS256
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.leeway = 5;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, user: Uuid, tenant: Uuid) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user,
            tid: tenant,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("signing an access token: {e}"))
    }

    /// The claims of a valid token, or None for any defect (signature, algorithm, expiry,
    /// issuer, audience, shape, an issue time in the future beyond the leeway).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation).ok()?.claims;
        // jsonwebtoken checks `exp` (and `nbf`) only: a token "issued" in the future is
        // not one this server made
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(0);
        (claims.iat <= chrono::Utc::now().timestamp() + leeway).then_some(claims)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_token_issued_in_the_future_is_refused() {
        let keys = JwtKeys::new(&[7; 32], Duration::from_secs(3600));
        let now = chrono::Utc::now().timestamp();
        let token = |iat: i64| {
            let claims = Claims {
                sub: Uuid::now_v7(),
                tid: Uuid::now_v7(),
                iss: ISSUER.into(),
                aud: AUDIENCE.into(),
                iat,
                exp: now + 3600,
            };
            encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap()
        };
        assert!(keys.verify(&token(now)).is_some());
        assert!(keys.verify(&token(now + 3)).is_some(), "within the leeway");
        assert!(keys.verify(&token(now + 100_000_000)).is_none());
    }
}
