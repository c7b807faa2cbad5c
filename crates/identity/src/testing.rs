//! In-memory fakes of identity's ports (feature `testing`): storage, a hasher that keeps
//! passwords readable, tokens that are just their claims, and counted secrets. For the
//! service's rules (sign-up modes, refresh rotation and reuse, revocation) without a
//! database or cryptography — never for production.

use crate::error::{IdentityError, Result};
use crate::invite::{CreatedInvite, Invite, NewInvite};
use crate::model::*;
use crate::ports::{AccessTokens, IdentityStore, PasswordHasher, Secrets};
use ayubi_kernel::{StoreError, UserId};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
struct State {
    last_id: i64,
    users: Vec<(User, PasswordHash)>,
    sessions: HashMap<SessionId, (UserId, bool)>,
    refresh: Vec<(TokenDigest, RefreshRecord)>,
    tokens: Vec<(TokenDigest, PersonalToken)>,
    invites: Vec<(TokenDigest, Invite)>,
}

impl State {
    fn id(&mut self) -> i64 {
        self.last_id += 1;
        self.last_id
    }

    fn start(&mut self, user: UserId, s: &NewSession) {
        self.sessions.insert(s.id, (user, false));
        self.refresh.push((
            s.refresh.clone(),
            RefreshRecord {
                user,
                session: s.id,
                used: false,
                revoked: false,
                expires_at: s.refresh_expires_at,
            },
        ));
    }

    fn revoke(&mut self, session: SessionId) {
        if let Some(s) = self.sessions.get_mut(&session) {
            s.1 = true;
        }
        for (_, r) in &mut self.refresh {
            if r.session == session {
                r.revoked = true;
            }
        }
    }
}

/// Users, sessions, refresh tokens, personal access tokens and invites in memory.
#[derive(Debug, Default)]
pub struct MemoryIdentityStore {
    state: Mutex<State>,
}

impl MemoryIdentityStore {
    /// Empty.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl IdentityStore for MemoryIdentityStore {
    async fn create_user(
        &self,
        email: &Email,
        display_name: Option<&DisplayName>,
        hash: &PasswordHash,
        session: &NewSession,
        invite: Option<&TokenDigest>,
    ) -> std::result::Result<User, StoreError> {
        let mut s = self.lock();
        let now = session.now;
        let usable = |(d, i): &(TokenDigest, Invite)| {
            Some(d) == invite && i.used_at.is_none() && i.expires_at > now
        };
        if invite.is_some() && !s.invites.iter().any(usable) {
            return Err(StoreError::NotFound);
        }
        if s.users.iter().any(|(u, _)| u.email == *email) {
            return Err(StoreError::Conflict("email".into()));
        }
        let user = User {
            id: UserId::new(s.id()),
            email: email.clone(),
            display_name: display_name.cloned(),
            created_at: now,
        };
        if let Some((_, i)) = s.invites.iter_mut().find(|x| usable(x)) {
            i.used_at = Some(now);
        }
        s.users.push((user.clone(), hash.clone()));
        s.start(user.id, session);
        Ok(user)
    }

    async fn count_users(&self) -> std::result::Result<u64, StoreError> {
        Ok(self.lock().users.len() as u64)
    }

    async fn create_invite(
        &self,
        maker: Option<UserId>,
        new: &NewInvite,
    ) -> std::result::Result<CreatedInvite, StoreError> {
        let mut s = self.lock();
        let invite = Invite {
            id: s.id(),
            created_by: maker,
            note: new.note.clone(),
            created_at: new.now,
            expires_at: new.expires_at,
            used_at: None,
        };
        s.invites.push((new.digest.clone(), invite.clone()));
        Ok(CreatedInvite {
            invite,
            code: new.code.clone(),
        })
    }

    async fn list_invites(
        &self,
        maker: Option<UserId>,
        limit: u32,
    ) -> std::result::Result<Vec<Invite>, StoreError> {
        let s = self.lock();
        Ok(s.invites
            .iter()
            .rev()
            .filter(|(_, i)| maker.is_none() || i.created_by == maker)
            .take(limit as usize)
            .map(|(_, i)| i.clone())
            .collect())
    }

    async fn revoke_invite(
        &self,
        maker: Option<UserId>,
        id: i64,
    ) -> std::result::Result<(), StoreError> {
        let mut s = self.lock();
        let mine = |i: &Invite| i.id == id && (maker.is_none() || i.created_by == maker);
        match s.invites.iter().find(|(_, i)| mine(i)) {
            None => Err(StoreError::NotFound),
            Some((_, i)) if i.used_at.is_some() => Err(StoreError::Conflict("used".into())),
            Some(_) => {
                s.invites.retain(|(_, i)| !mine(i));
                Ok(())
            }
        }
    }

    async fn find_by_email(
        &self,
        email: &Email,
    ) -> std::result::Result<Option<(User, PasswordHash)>, StoreError> {
        Ok(self
            .lock()
            .users
            .iter()
            .find(|(u, _)| u.email == *email)
            .cloned())
    }

    async fn find_user(
        &self,
        user: UserId,
    ) -> std::result::Result<(User, PasswordHash), StoreError> {
        self.lock()
            .users
            .iter()
            .find(|(u, _)| u.id == user)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn create_session(
        &self,
        user: UserId,
        session: &NewSession,
    ) -> std::result::Result<(), StoreError> {
        self.lock().start(user, session);
        Ok(())
    }

    async fn session_active(
        &self,
        user: UserId,
        session: SessionId,
    ) -> std::result::Result<bool, StoreError> {
        Ok(self.lock().sessions.get(&session) == Some(&(user, false)))
    }

    async fn find_refresh(
        &self,
        digest: &TokenDigest,
    ) -> std::result::Result<Option<RefreshRecord>, StoreError> {
        Ok(self
            .lock()
            .refresh
            .iter()
            .find(|(d, _)| d == digest)
            .map(|(_, r)| r.clone()))
    }

    async fn rotate_refresh(
        &self,
        user: UserId,
        old: &TokenDigest,
        new: &TokenDigest,
        new_expires_at: DateTime<Utc>,
        _now: DateTime<Utc>,
    ) -> std::result::Result<bool, StoreError> {
        let mut s = self.lock();
        let Some((_, r)) = s
            .refresh
            .iter_mut()
            .find(|(d, r)| d == old && r.user == user)
        else {
            return Ok(false);
        };
        if r.used {
            return Ok(false);
        }
        r.used = true;
        let next = RefreshRecord {
            used: false,
            expires_at: new_expires_at,
            ..r.clone()
        };
        s.refresh.push((new.clone(), next));
        Ok(true)
    }

    async fn revoke_session(
        &self,
        _user: UserId,
        session: SessionId,
        _now: DateTime<Utc>,
    ) -> std::result::Result<(), StoreError> {
        self.lock().revoke(session);
        Ok(())
    }

    async fn change_password(
        &self,
        user: UserId,
        hash: &PasswordHash,
        session: &NewSession,
    ) -> std::result::Result<(), StoreError> {
        let mut s = self.lock();
        let Some((_, h)) = s.users.iter_mut().find(|(u, _)| u.id == user) else {
            return Err(StoreError::NotFound);
        };
        *h = hash.clone();
        let mine: Vec<SessionId> = s
            .sessions
            .iter()
            .filter(|(_, (u, _))| *u == user)
            .map(|(id, _)| *id)
            .collect();
        for id in mine {
            s.revoke(id);
        }
        s.tokens.retain(|(_, t)| t.user != user);
        s.start(user, session);
        Ok(())
    }

    async fn delete_user(&self, user: UserId) -> std::result::Result<(), StoreError> {
        let mut s = self.lock();
        let before = s.users.len();
        s.users.retain(|(u, _)| u.id != user);
        if s.users.len() == before {
            return Err(StoreError::NotFound);
        }
        s.sessions.retain(|_, (u, _)| *u != user);
        s.refresh.retain(|(_, r)| r.user != user);
        s.tokens.retain(|(_, t)| t.user != user);
        Ok(())
    }

    async fn create_token(
        &self,
        user: UserId,
        t: &NewPersonalToken,
    ) -> std::result::Result<CreatedToken, StoreError> {
        let mut s = self.lock();
        let token = PersonalToken {
            id: s.id(),
            user,
            name: t.name.clone(),
            created_at: t.now,
            expires_at: t.expires_at,
            last_used_at: None,
        };
        s.tokens.push((t.digest.clone(), token.clone()));
        Ok(CreatedToken {
            token,
            secret: t.secret.clone(),
        })
    }

    async fn list_tokens(
        &self,
        user: UserId,
        limit: u32,
    ) -> std::result::Result<Vec<PersonalToken>, StoreError> {
        let s = self.lock();
        Ok(s.tokens
            .iter()
            .rev()
            .filter(|(_, t)| t.user == user)
            .take(limit as usize)
            .map(|(_, t)| t.clone())
            .collect())
    }

    async fn delete_token(&self, user: UserId, id: i64) -> std::result::Result<(), StoreError> {
        let mut s = self.lock();
        let before = s.tokens.len();
        s.tokens.retain(|(_, t)| !(t.user == user && t.id == id));
        if s.tokens.len() == before {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn find_token(
        &self,
        digest: &TokenDigest,
    ) -> std::result::Result<Option<PersonalTokenRecord>, StoreError> {
        Ok(self
            .lock()
            .tokens
            .iter()
            .find(|(d, _)| d == digest)
            .map(|(_, t)| PersonalTokenRecord {
                id: t.id,
                user: t.user,
                expires_at: t.expires_at,
                last_used_at: t.last_used_at,
            }))
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> std::result::Result<u64, StoreError> {
        let mut s = self.lock();
        let before = s.refresh.len();
        s.refresh.retain(|(_, r)| r.expires_at > now);
        Ok((before - s.refresh.len()) as u64)
    }

    async fn touch_token(
        &self,
        user: UserId,
        id: i64,
        now: DateTime<Utc>,
    ) -> std::result::Result<(), StoreError> {
        if let Some((_, t)) = self
            .lock()
            .tokens
            .iter_mut()
            .find(|(_, t)| t.user == user && t.id == id)
        {
            t.last_used_at = Some(now);
        }
        Ok(())
    }
}

/// Keeps passwords readable (`plain:<password>`): instant, and never for production.
#[derive(Debug, Default, Clone, Copy)]
pub struct PlainHasher;

#[async_trait::async_trait]
impl PasswordHasher for PlainHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash> {
        Ok(PasswordHash::new(format!("plain:{}", password.expose())))
    }

    async fn verify(&self, password: &Password, hash: Option<&PasswordHash>) -> Result<bool> {
        Ok(hash.is_some_and(|h| h.as_str() == format!("plain:{}", password.expose())))
    }
}

/// Tokens that are their claims in plain text (`access.<user>.<session>.<exp>`).
#[derive(Debug, Clone, Copy)]
pub struct ClaimTokens {
    /// How long an access token lasts.
    pub ttl: Duration,
}

impl AccessTokens for ClaimTokens {
    fn issue(&self, claims: AccessClaims, now: DateTime<Utc>) -> Result<(String, i64)> {
        let exp = (now + self.ttl).timestamp();
        Ok((
            format!("access.{}.{}.{exp}", claims.user.get(), claims.session.0),
            self.ttl.num_seconds(),
        ))
    }

    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<(AccessClaims, DateTime<Utc>)> {
        let mut p = token
            .strip_prefix("access.")
            .ok_or(IdentityError::Unauthenticated)?
            .split('.');
        let mut parse = || -> Option<(AccessClaims, DateTime<Utc>)> {
            let user = UserId::new(p.next()?.parse().ok()?);
            let session = SessionId(p.next()?.parse().ok()?);
            let exp = DateTime::from_timestamp(p.next()?.parse().ok()?, 0)?;
            Some((AccessClaims { user, session }, exp))
        };
        match parse() {
            Some((claims, exp)) if exp > now => Ok((claims, exp)),
            _ => Err(IdentityError::Unauthenticated),
        }
    }

    fn issue_device(&self, claims: &DeviceClaims, _now: DateTime<Utc>) -> Result<String> {
        Ok(format!("device.{}.{}", claims.user.get(), claims.binding))
    }

    fn verify_device(&self, token: &str, _now: DateTime<Utc>) -> Result<DeviceClaims> {
        let (user, binding) = token
            .strip_prefix("device.")
            .and_then(|t| t.split_once('.'))
            .ok_or(IdentityError::Unauthenticated)?;
        Ok(DeviceClaims {
            user: UserId::new(user.parse().map_err(|_| IdentityError::Unauthenticated)?),
            binding: binding.to_owned(),
        })
    }
}

/// Secrets numbered in order, digested to their own bytes.
#[derive(Debug, Default)]
pub struct CountedSecrets(AtomicU64);

impl Secrets for CountedSecrets {
    fn generate(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.0.fetch_add(1, Ordering::Relaxed))
    }

    fn digest(&self, secret: &str) -> TokenDigest {
        TokenDigest(secret.as_bytes().to_vec())
    }
}
