//! Driven ports: what identity needs from the outside world.
//!
//! Lookups by token digest or email take no [`UserId`]: they are how a request *finds*
//! its user. Every other method takes the user first.

use crate::error::Result;
use crate::invite::{CreatedInvite, Invite, NewInvite};
use crate::model::*;
use ayubi_kernel::{StoreError, UserId};
use chrono::{DateTime, Utc};

/// Storage of users, sessions and personal access tokens.
#[async_trait::async_trait]
pub trait IdentityStore: Send + Sync + std::fmt::Debug {
    /// Creates a user and their first session in one transaction; with `invite`, that
    /// transaction also uses the invite with that digest (marks it used by the new user).
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when `invite` is given and no invite with that
    /// digest is unused and unexpired — claimed atomically, so of two sign-ups racing for
    /// one code exactly one succeeds — and then write nothing; [`StoreError::Conflict`]
    /// when the email is taken (by the unique index, not a racy pre-check; the invite
    /// stays unused); [`StoreError::Unavailable`] when storage fails.
    async fn create_user(
        &self,
        email: &Email,
        display_name: Option<&DisplayName>,
        hash: &PasswordHash,
        session: &NewSession,
        invite: Option<&TokenDigest>,
    ) -> Result<User, StoreError>;

    /// How many users exist.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn count_users(&self) -> Result<u64, StoreError>;

    /// Stores an invite made by `maker` (`None`: the operator) and returns it with its
    /// code (which is never stored). When the request carried an `Idempotency-Key`, the
    /// response is saved in the same transaction, from the returned [`CreatedInvite`].
    ///
    /// # Errors
    /// [`StoreError::IdempotencyRace`] when another request saved the same key first,
    /// [`StoreError::Unavailable`].
    async fn create_invite(
        &self,
        maker: Option<UserId>,
        invite: &NewInvite,
    ) -> Result<CreatedInvite, StoreError>;

    /// Invites made by `maker` (`None`: all), newest first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn list_invites(
        &self,
        maker: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<Invite>, StoreError>;

    /// Deletes an unused invite made by `maker` (`None`: any).
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when there is no such invite *of `maker`'s*,
    /// [`StoreError::Conflict`] when it was already used (it is kept: it records how the
    /// account came to be), [`StoreError::Unavailable`].
    async fn revoke_invite(&self, maker: Option<UserId>, id: i64) -> Result<(), StoreError>;

    /// The user and password hash for a login email.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] only; an unknown email is `Ok(None)`.
    async fn find_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<(User, PasswordHash)>, StoreError>;

    /// The user and password hash by id.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when the user does not exist.
    async fn find_user(&self, user: UserId) -> Result<(User, PasswordHash), StoreError>;

    /// Starts a session for an existing user.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn create_session(&self, user: UserId, session: &NewSession) -> Result<(), StoreError>;

    /// Whether the session exists, belongs to the user and is not revoked.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn session_active(&self, user: UserId, session: SessionId) -> Result<bool, StoreError>;

    /// A refresh token by digest, in any state.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`]; unknown is `Ok(None)`.
    async fn find_refresh(&self, digest: &TokenDigest)
    -> Result<Option<RefreshRecord>, StoreError>;

    /// Marks `old` used and stores `new` in the same family, atomically: of two
    /// concurrent calls with the same `old`, exactly one returns `true`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`]. Returns `Ok(false)` when `old` was already used.
    async fn rotate_refresh(
        &self,
        user: UserId,
        old: &TokenDigest,
        new: &TokenDigest,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Revokes one session (its refresh tokens and access tokens stop working).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn revoke_session(
        &self,
        user: UserId,
        session: SessionId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Sets a new password hash, revokes every session, deletes every personal access
    /// token, and starts `session` — one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the user is gone, [`StoreError::Unavailable`].
    async fn change_password(
        &self,
        user: UserId,
        hash: &PasswordHash,
        session: &NewSession,
    ) -> Result<(), StoreError>;

    /// Deletes the user and, by cascade, every row they own.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the user is gone, [`StoreError::Unavailable`].
    async fn delete_user(&self, user: UserId) -> Result<(), StoreError>;

    /// Stores a personal access token and returns it with its secret (which is never
    /// stored, only its digest). When the request carried an `Idempotency-Key`, the
    /// response is saved in the same transaction, from the returned [`CreatedToken`].
    ///
    /// # Errors
    /// [`StoreError::IdempotencyRace`] when another request saved the same key first
    /// (nothing is written), [`StoreError::Unavailable`].
    async fn create_token(
        &self,
        user: UserId,
        token: &NewPersonalToken,
    ) -> Result<CreatedToken, StoreError>;

    /// The user's personal access tokens, newest first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn list_tokens(&self, user: UserId, limit: u32)
    -> Result<Vec<PersonalToken>, StoreError>;

    /// Deletes one of the user's personal access tokens.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when it does not exist *for this user*.
    async fn delete_token(&self, user: UserId, id: i64) -> Result<(), StoreError>;

    /// A personal access token by digest.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`]; unknown is `Ok(None)`.
    async fn find_token(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<PersonalTokenRecord>, StoreError>;

    /// Housekeeping across all users: deletes refresh tokens that expired before `now`,
    /// then sessions left with no refresh token (their access tokens expired long ago).
    /// Returns how many rows went.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Records a use of a personal access token.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn touch_token(
        &self,
        user: UserId,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// Password hashing (Argon2id in production).
#[async_trait::async_trait]
pub trait PasswordHasher: Send + Sync + std::fmt::Debug {
    /// Hashes a new password into a PHC string.
    ///
    /// # Errors
    /// [`crate::IdentityError::Store`] with [`StoreError::Unavailable`] when the hashing
    /// pool is gone.
    async fn hash(&self, password: &Password) -> Result<PasswordHash>;

    /// Whether `password` matches `hash`. With `hash = None` it MUST still spend the same
    /// work as a real check (against a fixed dummy hash) and return `false`, so response
    /// time does not reveal whether an email is registered.
    ///
    /// # Errors
    /// As [`PasswordHasher::hash`].
    async fn verify(&self, password: &Password, hash: Option<&PasswordHash>) -> Result<bool>;
}

/// Signs and verifies access tokens.
pub trait AccessTokens: Send + Sync + std::fmt::Debug {
    /// A signed access token for the session, and its lifetime in seconds.
    ///
    /// # Errors
    /// [`crate::IdentityError::Store`] if signing fails.
    fn issue(&self, claims: AccessClaims, now: DateTime<Utc>) -> Result<(String, i64)>;

    /// Verifies signature, algorithm and expiry and returns the claims and when the
    /// token expires (long-lived connections close then).
    ///
    /// # Errors
    /// MUST return [`crate::IdentityError::Unauthenticated`] for any token that is not
    /// one this server issued and that is still unexpired.
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<(AccessClaims, DateTime<Utc>)>;

    /// A signed, long-lived device token: proof that this device once logged in to the
    /// account, for as long as `claims.binding` stays the account's.
    ///
    /// # Errors
    /// [`crate::IdentityError::Store`] if signing fails.
    fn issue_device(&self, claims: &DeviceClaims, now: DateTime<Utc>) -> Result<String>;

    /// Verifies a device token's signature, kind and expiry.
    ///
    /// # Errors
    /// MUST return [`crate::IdentityError::Unauthenticated`] for anything that is not an
    /// unexpired device token this server issued (an access token included).
    fn verify_device(&self, token: &str, now: DateTime<Utc>) -> Result<DeviceClaims>;
}

/// Told when credentials of a user stop working before they expire (logout, password
/// change, account deletion, a revoked personal access token, refresh-token reuse), so
/// connections that authenticated once — live sync sockets — check again at once.
pub trait Revocations: Send + Sync + std::fmt::Debug {
    /// Some of `user`'s credentials were revoked. Must not block.
    fn revoked(&self, user: UserId);
}

/// A memory of sessions known to be active, so an access token need not be checked
/// against the store on every request. Its owner must forget a user's sessions when told
/// of a revocation ([`Revocations::revoked`] runs before a revoking request is answered),
/// and must not claim to know anything it could have missed a revocation for.
pub trait SessionCache: Send + Sync + std::fmt::Debug {
    /// `Ok(())` when `session` is known active. Otherwise `Err(stamp)`: check the store
    /// and, if the session is active, [`SessionCache::remember`] it with that stamp — a
    /// revocation in between makes the stamp stale and the memory void.
    ///
    /// # Errors
    /// `Err(stamp)` is not a failure: it means "not known, ask the store".
    fn known_active(&self, user: UserId, session: SessionId) -> Result<(), u64>;

    /// The store said `session` is active, as of `stamp`.
    fn remember(&self, user: UserId, session: SessionId, stamp: u64);
}

/// Opaque secrets (refresh tokens, personal access tokens) and their digests.
pub trait Secrets: Send + Sync + std::fmt::Debug {
    /// A new random secret with ≥ 256 bits of entropy, prefixed with `prefix`.
    fn generate(&self, prefix: &str) -> String;

    /// The digest stored for a secret (deterministic, one-way).
    fn digest(&self, secret: &str) -> TokenDigest;
}
