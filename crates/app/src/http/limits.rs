//! The login limits, for the whole deployment (shared through Redis when configured), so
//! N instances do not make them N × the limit: `auth.login_per_minute` attempts a minute
//! per client IP, and `auth.login_per_account_per_minute` *failed* attempts a minute per
//! account, so many IPs do not make it many × the limit for one account. Once an
//! account's failures are spent every attempt is refused, the right password too — but a
//! login carrying a valid device token of that account is exempt (OWASP's device
//! cookies), so a stranger spraying wrong passwords cannot lock the owner's devices out.

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

    /// Counts a login attempt from this request's client.
    ///
    /// # Errors
    /// 429 with `Retry-After` when the client's limit is spent.
    pub async fn attempt(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let ip = self
            .client_ip
            .of(req)
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        refuse(self.per_ip.check(&format!("ip:{ip}")).await)
    }

    /// Whether the account of `email` may still be tried (counts nothing).
    ///
    /// # Errors
    /// 429 with `Retry-After` when its failed attempts are spent.
    pub async fn account_open(&self, email: &str) -> Result<(), ApiError> {
        refuse(self.per_account.peek(&account_key(email)).await)
    }

    /// Counts a failed attempt against the account of `email`.
    pub async fn account_failed(&self, email: &str) {
        // Refused or not, the failure is counted where it can be; the answer stays 401.
        let _ = self.per_account.check(&account_key(email)).await;
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
