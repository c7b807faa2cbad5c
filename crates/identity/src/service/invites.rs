//! Sign-up and invite use cases (the rules and types are in [`crate::invite`]).

use super::IdentityService;
use crate::error::{IdentityError, Result};
use crate::invite::{
    CreatedInvite, INVITE_PREFIX, Invite, InviteLifetime, InviteNote, NewInvite, Registration,
    SignUpRefused,
};
use crate::model::{DisplayName, Email, Password, TokenPair, User};
use ayubi_kernel::{Limit, StoreError, UserId};

impl IdentityService {
    /// Registers a user and logs them in, as the deployment's sign-up mode allows. A
    /// refused sign-up costs the same password hash as an accepted one and writes
    /// nothing; using the invite and creating the user are one transaction.
    ///
    /// # Errors
    /// `Invalid` for a bad email or password, `SignUpRefused`, `EmailTaken`, `Store`.
    pub async fn register(
        &self,
        email: &str,
        password: String,
        display_name: Option<&str>,
        invite: Option<&str>,
    ) -> Result<(User, TokenPair)> {
        let email = Email::parse(email)?;
        let password = Password::new("password", password)?;
        let display_name = display_name.map(DisplayName::parse).transpose()?;
        let hash = self.hasher.hash(&password).await?;
        let invite = match self.config.registration {
            Registration::Open => None,
            Registration::Closed => {
                return Err(IdentityError::SignUpRefused(SignUpRefused::Closed));
            }
            Registration::Invite => match invite.map(str::trim).filter(|c| !c.is_empty()) {
                Some(code) => Some(self.secrets.digest(code)),
                None => return Err(IdentityError::SignUpRefused(SignUpRefused::InviteRequired)),
            },
        };
        let now = self.clock.now();
        let (session, refresh) = self.new_session(now);
        let user = self
            .store
            .create_user(
                &email,
                display_name.as_ref(),
                &hash,
                &session,
                invite.as_ref(),
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => IdentityError::EmailTaken,
                StoreError::NotFound => IdentityError::SignUpRefused(SignUpRefused::InviteRequired),
                other => other.into(),
            })?;
        let pair = self.pair(user.id, session.id, refresh, now)?;
        Ok((user, pair))
    }

    /// Creates an account whatever the sign-up mode: the operator's way in
    /// (`ayubi user create`). Nobody is logged in: the first session's refresh token is
    /// thrown away (its row is purged when it expires), and the owner logs in as usual.
    ///
    /// # Errors
    /// `Invalid`, `EmailTaken`, `Store`.
    pub async fn create_account(
        &self,
        email: &str,
        password: String,
        display_name: Option<&str>,
    ) -> Result<User> {
        let email = Email::parse(email)?;
        let password = Password::new("password", password)?;
        let display_name = display_name.map(DisplayName::parse).transpose()?;
        let hash = self.hasher.hash(&password).await?;
        let (session, _) = self.new_session(self.clock.now());
        self.store
            .create_user(&email, display_name.as_ref(), &hash, &session, None)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => IdentityError::EmailTaken,
                other => other.into(),
            })
    }

    /// Creates an invite, made by `maker` (`None`: the operator). Its code is in the
    /// result and nowhere else.
    ///
    /// # Errors
    /// `Invalid` on `expires_in_days` or `note`; `Store`, including
    /// [`StoreError::IdempotencyRace`].
    pub async fn create_invite(
        &self,
        maker: Option<UserId>,
        lifetime: InviteLifetime,
        note: InviteNote,
    ) -> Result<CreatedInvite> {
        let now = self.clock.now();
        let code = self.secrets.generate(INVITE_PREFIX);
        let new = NewInvite {
            digest: self.secrets.digest(&code),
            code,
            note,
            now,
            expires_at: now + lifetime.duration(),
        };
        self.store
            .create_invite(maker, &new)
            .await
            .map_err(IdentityError::Store)
    }

    /// Invites made by `maker` (`None`: every invite, for the operator), newest first.
    ///
    /// # Errors
    /// `Store`.
    pub async fn list_invites(&self, maker: Option<UserId>, limit: Limit) -> Result<Vec<Invite>> {
        Ok(self.store.list_invites(maker, limit.get()).await?)
    }

    /// Revokes an unused invite made by `maker` (`None`: any, for the operator).
    ///
    /// # Errors
    /// `NotFound` when there is no such invite of `maker`'s; `InviteUsed` when it already
    /// made an account; `Store`.
    pub async fn revoke_invite(&self, maker: Option<UserId>, id: i64) -> Result<()> {
        self.store
            .revoke_invite(maker, id)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => IdentityError::InviteUsed,
                other => other.into(),
            })
    }

    /// How many accounts exist (the server tells the operator how to make the first).
    ///
    /// # Errors
    /// `Store`.
    pub async fn count_users(&self) -> Result<u64> {
        Ok(self.store.count_users().await?)
    }

    /// The deployment's sign-up mode.
    #[must_use]
    pub fn registration(&self) -> Registration {
        self.config.registration
    }
}
