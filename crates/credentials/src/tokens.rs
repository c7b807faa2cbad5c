//! HS256 access tokens and the long-lived device tokens that spare a trusted device the
//! per-account login limit.

use crate::hasher::unavailable;
use ayubi_identity::ports::AccessTokens;
use ayubi_identity::{AccessClaims, DeviceClaims, IdentityError, Result, SessionId};
use ayubi_kernel::UserId;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm as JwtAlg, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Claims of an access token; every field is required (a token missing one fails to
/// deserialize and is refused).
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Session id.
    pub sid: String,
    /// Unique token id.
    pub jti: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Not before (Unix seconds). Ayubi issues none; a token carrying one in the future
    /// is refused (checked on the service's clock, like `exp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

/// HS256 access tokens. The algorithm is pinned: a token whose header names any other
/// algorithm (including `none`) is refused.
#[derive(Clone)]
pub struct JwtTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: i64,
    device_ttl_secs: i64,
}

/// A device token's claims: `typ` tells it from an access token (which has `sid` and no
/// `typ`), so neither kind passes for the other.
#[derive(Debug, Serialize, Deserialize)]
struct DeviceJwt {
    sub: String,
    typ: String,
    bnd: String,
    jti: String,
    iat: i64,
    exp: i64,
}

const DEVICE_TYP: &str = "device";

impl std::fmt::Debug for JwtTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtTokens")
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl JwtTokens {
    /// Keys from the configured secret.
    #[must_use]
    pub fn new(secret: &[u8], ttl_secs: i64) -> Self {
        let mut validation = Validation::new(JwtAlg::HS256);
        validation.algorithms = vec![JwtAlg::HS256];
        validation.set_required_spec_claims(&["exp", "sub"]);
        // `exp` must be present (above) but is checked in `verify` against the service's
        // clock, the one source of time for every expiry (and the one tests control).
        validation.validate_exp = false;
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs,
            device_ttl_secs: 365 * 86_400,
        }
    }

    /// The same keys, issuing device tokens that last `days`.
    #[must_use]
    pub fn with_device_ttl_days(mut self, days: i64) -> Self {
        self.device_ttl_secs = days.max(1).saturating_mul(86_400);
        self
    }
}

impl AccessTokens for JwtTokens {
    fn issue(&self, claims: AccessClaims, now: DateTime<Utc>) -> Result<(String, i64)> {
        let iat = now.timestamp();
        let body = Claims {
            sub: claims.user.to_string(),
            sid: claims.session.to_string(),
            jti: Uuid::new_v4().to_string(),
            iat,
            exp: iat + self.ttl_secs,
            nbf: None,
        };
        let token = jsonwebtoken::encode(&Header::new(JwtAlg::HS256), &body, &self.encoding)
            .map_err(|_| unavailable("signing failed"))?;
        Ok((token, self.ttl_secs))
    }

    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<(AccessClaims, DateTime<Utc>)> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| IdentityError::Unauthenticated)?;
        let c = data.claims;
        let now_secs = now.timestamp();
        if c.exp <= now_secs || c.iat > now_secs + 60 || c.nbf.is_some_and(|nbf| nbf > now_secs) {
            return Err(IdentityError::Unauthenticated);
        }
        let user = c
            .sub
            .parse::<i64>()
            .map_err(|_| IdentityError::Unauthenticated)?;
        let sid = Uuid::parse_str(&c.sid).map_err(|_| IdentityError::Unauthenticated)?;
        let expires_at =
            DateTime::from_timestamp(c.exp, 0).ok_or(IdentityError::Unauthenticated)?;
        let claims = AccessClaims {
            user: UserId::new(user),
            session: SessionId(sid),
        };
        Ok((claims, expires_at))
    }

    fn issue_device(&self, claims: &DeviceClaims, now: DateTime<Utc>) -> Result<String> {
        let iat = now.timestamp();
        let body = DeviceJwt {
            sub: claims.user.to_string(),
            typ: DEVICE_TYP.to_owned(),
            bnd: claims.binding.clone(),
            jti: Uuid::new_v4().to_string(),
            iat,
            exp: iat + self.device_ttl_secs,
        };
        jsonwebtoken::encode(&Header::new(JwtAlg::HS256), &body, &self.encoding)
            .map_err(|_| unavailable("signing failed"))
    }

    fn verify_device(&self, token: &str, now: DateTime<Utc>) -> Result<DeviceClaims> {
        let c = jsonwebtoken::decode::<DeviceJwt>(token, &self.decoding, &self.validation)
            .map_err(|_| IdentityError::Unauthenticated)?
            .claims;
        let now_secs = now.timestamp();
        if c.typ != DEVICE_TYP || c.exp <= now_secs || c.iat > now_secs + 60 {
            return Err(IdentityError::Unauthenticated);
        }
        let user = c
            .sub
            .parse::<i64>()
            .map_err(|_| IdentityError::Unauthenticated)?;
        Ok(DeviceClaims {
            user: UserId::new(user),
            binding: c.bnd,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_refuses_other_keys_and_expired_tokens() {
        let now = Utc::now();
        let a = JwtTokens::new(b"a-secret-a-secret-a-secret-a-secret", 900);
        let b = JwtTokens::new(b"b-secret-b-secret-b-secret-b-secret", 900);
        let claims = AccessClaims {
            user: UserId::new(7),
            session: SessionId(Uuid::new_v4()),
        };
        let Ok((token, _)) = a.issue(claims, now) else {
            panic!("issue")
        };
        let (verified, expires_at) = a.verify(&token, now).unwrap();
        assert_eq!(verified, claims);
        assert_eq!(expires_at.timestamp(), now.timestamp() + 900);
        assert!(b.verify(&token, now).is_err());
        assert!(
            a.verify(&token, now + chrono::Duration::seconds(901))
                .is_err()
        );
    }
}
