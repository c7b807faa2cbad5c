//! The login limit: `auth.login_per_minute` attempts a minute per client IP and per
//! account, for the whole deployment (shared through Redis when configured), so N
//! instances do not make it N × the limit, and many IPs do not make it many × the limit
//! for one account.

use crate::error::ApiError;
use crate::http::client_ip::ClientIp;
use actix_web::HttpRequest;
use ayubi_cache::{Decision, Limiter};
use base64::Engine;

/// The two login limits and how a request's client IP is read.
#[derive(Debug)]
pub struct LoginLimits {
    client_ip: ClientIp,
    per_ip: Limiter,
    per_account: Limiter,
}

impl LoginLimits {
    /// Limits from their limiters (built local or shared by start-up).
    #[must_use]
    pub fn new(client_ip: ClientIp, per_ip: Limiter, per_account: Limiter) -> Self {
        Self {
            client_ip,
            per_ip,
            per_account,
        }
    }

    /// Counts a login attempt for `email` from this request's client.
    ///
    /// # Errors
    /// 429 with `Retry-After` when either limit is spent.
    pub async fn check(&self, req: &HttpRequest, email: &str) -> Result<(), ApiError> {
        let ip = self
            .client_ip
            .of(req)
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        refuse(self.per_ip.check(&format!("ip:{ip}")).await)?;
        refuse(self.per_account.check(&account_key(email)).await)
    }
}

fn refuse(d: Decision) -> Result<(), ApiError> {
    match d {
        Decision::Allow => Ok(()),
        Decision::Deny { retry_after } => {
            // Round up: "retry in 0s" would invite an immediate, refused retry.
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            Err(ApiError::too_many_requests(secs))
        }
    }
}

/// The account as the limit knows it: the address as the login compares it (trimmed,
/// lower case), hashed — Redis keys are listed by anyone with access to Redis, and an
/// email address is personal data.
fn account_key(email: &str) -> String {
    let normal = email.trim().to_lowercase();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, normal.as_bytes());
    format!(
        "account:{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_key_is_the_address_as_compared_and_not_the_address() {
        assert_eq!(
            account_key(" Ada@Example.com "),
            account_key("ada@example.com")
        );
        assert_ne!(
            account_key("ada@example.com"),
            account_key("bob@example.com")
        );
        assert!(!account_key("ada@example.com").contains("ada"));
    }
}
