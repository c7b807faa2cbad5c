//! Identity use cases.

mod invites;

use crate::error::{IdentityError, Result};
use crate::model::*;
use crate::ports::{
    AccessTokens, IdentityStore, PasswordHasher, Revocations, Secrets, SessionCache,
};
use ayubi_kernel::{Clock, Limit, StoreError, UserId};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use uuid::Uuid;

/// Prefix of refresh tokens, so a leaked one is recognisable in logs and scanners.
pub const REFRESH_PREFIX: &str = "ayubi_rt_";
/// Prefix of personal access tokens; also how a bearer is told apart from a JWT.
pub const PAT_PREFIX: &str = "ayubi_pat_";

/// Identity's tunables.
#[derive(Debug, Clone, Copy)]
pub struct IdentityConfig {
    /// How long a refresh token may wait to be exchanged.
    pub refresh_ttl: Duration,
    /// How stale `last_used_at` of a personal access token may get before it is written
    /// again: recording every use would turn each read into a write.
    pub token_touch_interval: Duration,
    /// Who may create an account.
    pub registration: crate::Registration,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            refresh_ttl: Duration::days(30),
            token_touch_interval: Duration::seconds(60),
            registration: crate::Registration::Open,
        }
    }
}

/// The identity use cases over their ports.
#[derive(Debug, Clone)]
pub struct IdentityService {
    pub(crate) store: Arc<dyn IdentityStore>,
    pub(crate) hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn AccessTokens>,
    pub(crate) secrets: Arc<dyn Secrets>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: IdentityConfig,
    revocations: Option<Arc<dyn Revocations>>,
    sessions: Option<Arc<dyn SessionCache>>,
}

impl IdentityService {
    /// Wires the service.
    #[must_use]
    pub fn new(
        store: Arc<dyn IdentityStore>,
        hasher: Arc<dyn PasswordHasher>,
        tokens: Arc<dyn AccessTokens>,
        secrets: Arc<dyn Secrets>,
        clock: Arc<dyn Clock>,
        config: IdentityConfig,
    ) -> Self {
        Self {
            store,
            hasher,
            tokens,
            secrets,
            clock,
            config,
            revocations: None,
            sessions: None,
        }
    }

    /// The same service, remembering active sessions in `sessions` instead of asking the
    /// store on every request.
    #[must_use]
    pub fn with_session_cache(mut self, sessions: Arc<dyn SessionCache>) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// The same service, telling `revocations` whenever credentials are revoked.
    #[must_use]
    pub fn with_revocations(mut self, revocations: Arc<dyn Revocations>) -> Self {
        self.revocations = Some(revocations);
        self
    }

    fn revoked(&self, user: UserId) {
        if let Some(r) = &self.revocations {
            r.revoked(user);
        }
    }

    /// Checks credentials and starts a session; also returns a fresh device token for
    /// the account. An unknown email costs the same hash as a wrong password.
    ///
    /// # Errors
    /// `InvalidCredentials`, `Store`.
    pub async fn login(&self, email: &str, password: String) -> Result<(User, TokenPair, String)> {
        let password = Password::attempt(password)?;
        let found = match Email::parse(email) {
            Ok(email) => self.store.find_by_email(&email).await?,
            Err(_) => None,
        };
        let ok = self
            .hasher
            .verify(&password, found.as_ref().map(|(_, h)| h))
            .await?;
        let (user, hash) = match (ok, found) {
            (true, Some(found)) => found,
            _ => return Err(IdentityError::InvalidCredentials),
        };
        let now = self.clock.now();
        let (session, refresh) = self.new_session(now);
        self.store.create_session(user.id, &session).await?;
        let pair = self.pair(user.id, session.id, refresh, now)?;
        let device = DeviceClaims {
            user: user.id,
            binding: self.binding(&hash),
        };
        let device_token = self.tokens.issue_device(&device, now)?;
        Ok((user, pair, device_token))
    }

    /// Whether `device_token` is a valid device token of the account `email` logs in to:
    /// signed here, unexpired, and bound to the account's current password. A login that
    /// presents one is exempt from the per-account limit (OWASP's device cookies), so
    /// someone spraying wrong passwords cannot lock the owner's known devices out.
    ///
    /// # Errors
    /// `Store`. Anything else about the token is `Ok(false)`.
    pub async fn device_trusted(&self, device_token: &str, email: &str) -> Result<bool> {
        let Ok(claims) = self.tokens.verify_device(device_token, self.clock.now()) else {
            return Ok(false);
        };
        let Ok(email) = Email::parse(email) else {
            return Ok(false);
        };
        Ok(match self.store.find_by_email(&email).await? {
            Some((user, hash)) => user.id == claims.user && claims.binding == self.binding(&hash),
            None => false,
        })
    }

    /// The device-token binding of a password hash: a digest, so a token carries nothing
    /// that helps guess the password.
    fn binding(&self, hash: &PasswordHash) -> String {
        self.secrets
            .digest(hash.as_str())
            .0
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Exchanges a refresh token for a new pair. The old token stops working; presenting
    /// it again revokes its whole family (the legitimate holder and a thief both lose
    /// the session, which is the point: one of them is not who they claim).
    ///
    /// # Errors
    /// `Unauthenticated` for an unknown, expired, revoked or reused token; `Store`.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair> {
        let now = self.clock.now();
        let digest = self.secrets.digest(refresh_token);
        let record = self
            .store
            .find_refresh(&digest)
            .await?
            .ok_or(IdentityError::Unauthenticated)?;
        if record.revoked || record.expires_at <= now {
            return Err(IdentityError::Unauthenticated);
        }
        if record.used {
            return Err(self.reuse_detected(&record, now).await);
        }
        let next = self.secrets.generate(REFRESH_PREFIX);
        let next_digest = self.secrets.digest(&next);
        let rotated = self
            .store
            .rotate_refresh(
                record.user,
                &digest,
                &next_digest,
                now + self.config.refresh_ttl,
                now,
            )
            .await?;
        if !rotated {
            // Lost a race with another exchange of the same token: that is a reuse too.
            return Err(self.reuse_detected(&record, now).await);
        }
        self.pair(record.user, record.session, next, now)
    }

    async fn reuse_detected(&self, record: &RefreshRecord, now: DateTime<Utc>) -> IdentityError {
        tracing::warn!(user = %record.user, session = %record.session, "refresh token reuse: revoking session");
        match self
            .store
            .revoke_session(record.user, record.session, now)
            .await
        {
            Ok(()) => {
                self.revoked(record.user);
                IdentityError::Unauthenticated
            }
            Err(e) => e.into(),
        }
    }

    /// Ends the session a refresh token belongs to.
    ///
    /// # Errors
    /// `Unauthenticated` for an unknown token; `Store`.
    pub async fn logout(&self, refresh_token: &str) -> Result<()> {
        let record = self
            .store
            .find_refresh(&self.secrets.digest(refresh_token))
            .await?
            .ok_or(IdentityError::Unauthenticated)?;
        self.store
            .revoke_session(record.user, record.session, self.clock.now())
            .await?;
        self.revoked(record.user);
        Ok(())
    }

    /// Resolves a bearer token (access token or personal access token) to its user.
    /// Revocation is checked on every call, so a revoked session's tokens stop at once.
    ///
    /// # Errors
    /// `Unauthenticated`; `Store`.
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal> {
        let now = self.clock.now();
        if bearer.starts_with(PAT_PREFIX) {
            let record = self
                .store
                .find_token(&self.secrets.digest(bearer))
                .await?
                .ok_or(IdentityError::Unauthenticated)?;
            if record.expires_at.is_some_and(|at| at <= now) {
                return Err(IdentityError::Unauthenticated);
            }
            let stale = record
                .last_used_at
                .is_none_or(|at| now - at >= self.config.token_touch_interval);
            if stale {
                self.store.touch_token(record.user, record.id, now).await?;
            }
            return Ok(Principal {
                user: record.user,
                via: Credential::PersonalToken(record.id),
                expires_at: record.expires_at,
            });
        }
        let (claims, expires_at) = self.tokens.verify(bearer, now)?;
        let (user, session) = (claims.user, claims.session);
        let known = self
            .sessions
            .as_deref()
            .map(|c| (c, c.known_active(user, session)));
        if !matches!(known, Some((_, Ok(())))) {
            if !self.store.session_active(user, session).await? {
                return Err(IdentityError::Unauthenticated);
            }
            if let Some((cache, Err(stamp))) = known {
                cache.remember(user, session, stamp);
            }
        }
        Ok(Principal {
            user: claims.user,
            via: Credential::Session(claims.session),
            expires_at: Some(expires_at),
        })
    }

    /// The caller's account.
    ///
    /// # Errors
    /// `Unauthenticated` when the user no longer exists; `Store`.
    pub async fn me(&self, user: UserId) -> Result<User> {
        match self.store.find_user(user).await {
            Ok((user, _)) => Ok(user),
            Err(StoreError::NotFound) => Err(IdentityError::Unauthenticated),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the account and everything it owns, after re-checking the password.
    ///
    /// # Errors
    /// `InvalidCredentials` for a wrong password; `Store`.
    pub async fn delete_account(&self, user: UserId, password: String) -> Result<()> {
        self.confirm(user, password).await?;
        self.store.delete_user(user).await?;
        self.revoked(user);
        Ok(())
    }

    /// Changes the password, revokes every session and personal access token issued
    /// before, and starts a fresh session for the caller.
    ///
    /// # Errors
    /// `InvalidCredentials`, `Invalid` on `new_password`, `Store`.
    pub async fn change_password(
        &self,
        user: UserId,
        current: String,
        new: String,
    ) -> Result<(User, TokenPair)> {
        let new = Password::new("new_password", new)?;
        let account = self.confirm(user, current).await?;
        let hash = self.hasher.hash(&new).await?;
        let now = self.clock.now();
        let (session, refresh) = self.new_session(now);
        self.store.change_password(user, &hash, &session).await?;
        self.revoked(user);
        let pair = self.pair(user, session.id, refresh, now)?;
        Ok((account, pair))
    }

    /// Creates a personal access token; its secret is in the result and nowhere else.
    ///
    /// # Errors
    /// `Invalid` on `name` or `expires_at` (must be in the future); `Store`, including
    /// [`StoreError::IdempotencyRace`].
    pub async fn create_token(
        &self,
        user: UserId,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<CreatedToken> {
        let name = TokenName::parse(name)?;
        let now = self.clock.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(IdentityError::invalid(
                "expires_at",
                "must be in the future",
            ));
        }
        let secret = self.secrets.generate(PAT_PREFIX);
        let new = NewPersonalToken {
            name,
            digest: self.secrets.digest(&secret),
            secret,
            now,
            expires_at,
        };
        self.store
            .create_token(user, &new)
            .await
            .map_err(IdentityError::Store)
    }

    /// The caller's personal access tokens, newest first.
    ///
    /// # Errors
    /// `Store`.
    pub async fn list_tokens(&self, user: UserId, limit: Limit) -> Result<Vec<PersonalToken>> {
        Ok(self.store.list_tokens(user, limit.get()).await?)
    }

    /// Revokes (deletes) a personal access token.
    ///
    /// # Errors
    /// `NotFound` when the user has no such token; `Store`.
    pub async fn delete_token(&self, user: UserId, id: i64) -> Result<()> {
        self.store.delete_token(user, id).await?;
        self.revoked(user);
        Ok(())
    }

    /// Deletes expired refresh tokens and the sessions they leave empty, so a device
    /// refreshing every 15 minutes does not grow the tables forever. Run periodically.
    ///
    /// # Errors
    /// `Store`.
    pub async fn purge_expired(&self) -> Result<u64> {
        Ok(self.store.purge_expired(self.clock.now()).await?)
    }

    async fn confirm(&self, user: UserId, password: String) -> Result<User> {
        let password = Password::attempt(password)?;
        let (account, hash) = self.store.find_user(user).await.map_err(|e| match e {
            StoreError::NotFound => IdentityError::Unauthenticated,
            other => other.into(),
        })?;
        if self.hasher.verify(&password, Some(&hash)).await? {
            Ok(account)
        } else {
            Err(IdentityError::InvalidCredentials)
        }
    }

    pub(crate) fn new_session(&self, now: DateTime<Utc>) -> (NewSession, String) {
        let refresh = self.secrets.generate(REFRESH_PREFIX);
        let session = NewSession {
            id: SessionId(Uuid::new_v4()),
            refresh: self.secrets.digest(&refresh),
            refresh_expires_at: now + self.config.refresh_ttl,
            now,
        };
        (session, refresh)
    }

    pub(crate) fn pair(
        &self,
        user: UserId,
        session: SessionId,
        refresh_token: String,
        now: DateTime<Utc>,
    ) -> Result<TokenPair> {
        let (access_token, expires_in) = self.tokens.issue(AccessClaims { user, session }, now)?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            expires_in,
        })
    }
}

#[cfg(test)]
mod tests;
