//! Access tokens: HS256 only, with issuer, audience, expiry, subject and tenant checked.

use std::time::Duration;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const ISSUER: &str = "hookrelay";
pub const AUDIENCE: &str = "hookrelay-api";
/// The audience of portal tokens: never accepted where an access token is, nor the reverse.
pub const PORTAL_AUDIENCE: &str = "hookrelay-portal";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub tid: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// A consumer portal session: one `consumerId` of one tenant (SPEC "Dashboard and
/// consumer portal").
#[derive(Debug, Serialize, Deserialize)]
pub struct PortalClaims {
    /// The session's own id.
    pub sub: Uuid,
    pub tid: Uuid,
    /// The consumer the session is limited to.
    pub cid: String,
    /// The tenant's name, for the portal's header only (never trusted).
    #[serde(default)]
    pub tenant_name: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    portal_validation: Validation,
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
        let mut portal_validation = validation.clone();
        portal_validation.set_audience(&[PORTAL_AUDIENCE]);
        // SPEC: refused from `expiresAt` on, give or take 1 s
        portal_validation.leeway = 0;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            portal_validation,
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

    /// A portal token for `consumer` of `tenant`, valid until `expires_at` (Unix seconds).
    pub fn issue_portal(
        &self,
        tenant: Uuid,
        tenant_name: &str,
        consumer: &str,
        expires_at: i64,
    ) -> anyhow::Result<String> {
        let claims = PortalClaims {
            sub: Uuid::new_v4(),
            tid: tenant,
            cid: consumer.to_owned(),
            tenant_name: tenant_name.to_owned(),
            iss: ISSUER.into(),
            aud: PORTAL_AUDIENCE.into(),
            iat: chrono::Utc::now().timestamp(),
            exp: expires_at,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("signing a portal token: {e}"))
    }

    /// The claims of a valid portal token, checked as [`JwtKeys::verify`] checks access
    /// tokens but against the portal audience and with no leeway on its expiry.
    pub fn verify_portal(&self, token: &str) -> Option<PortalClaims> {
        let claims = decode::<PortalClaims>(token, &self.decoding, &self.portal_validation).ok()?.claims;
        let now = chrono::Utc::now().timestamp();
        (claims.iat <= now + i64::try_from(self.validation.leeway).unwrap_or(0) && now < claims.exp).then_some(claims)
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

    #[test]
    fn portal_and_access_tokens_are_never_taken_for_each_other() {
        let keys = JwtKeys::new(&[7; 32], Duration::from_secs(3600));
        let now = chrono::Utc::now().timestamp();
        let portal = keys.issue_portal(Uuid::now_v7(), "Acme", "cus_1", now + 60).unwrap();
        let access = keys.issue(Uuid::now_v7(), Uuid::now_v7()).unwrap();
        assert_eq!(keys.verify_portal(&portal).unwrap().cid, "cus_1");
        assert!(keys.verify(&portal).is_none(), "a portal token is not an access token");
        assert!(keys.verify_portal(&access).is_none(), "an access token is not a portal token");
        let expired = keys.issue_portal(Uuid::now_v7(), "Acme", "cus_1", now).unwrap();
        assert!(keys.verify_portal(&expired).is_none(), "refused from its expiry on");
        let other = JwtKeys::new(&[8; 32], Duration::from_secs(3600));
        assert!(other.verify_portal(&portal).is_none(), "signed with another key");
    }
}
