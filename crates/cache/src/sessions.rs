//! Sessions known to be active, in this process: an access token is then checked
//! against the database once per `auth.session_cache_secs` instead of on every request.
//!
//! Safe only while no revocation can be missed. Every revocation on this instance runs
//! through [`LocalSessions::revoked`] before the revoking request is answered; one on
//! another instance arrives as the Redis revocation hint. So the memory is trusted only
//! while that hint can arrive: with Redis, while the subscription is up (and everything
//! is forgotten whenever it drops, since hints sent meanwhile are lost); without Redis,
//! only on SQLite, which one instance serves (a PostgreSQL deployment without Redis asks
//! the database every time). The window that remains is the hint's flight time between
//! instances — a request on another instance in that millisecond still gets in.

use ayubi_identity::SessionId;
use ayubi_identity::ports::SessionCache;
use ayubi_kernel::UserId;
use ayubi_sync::RevocationListener;
use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The memory.
#[derive(Debug)]
pub struct LocalSessions {
    known: moka::sync::Cache<(UserId, uuid::Uuid), u64>,
    /// Per-user revocation count: a stamp taken before a revocation no longer matches.
    epochs: RwLock<HashMap<UserId, u32>>,
    /// Bumped whenever everything must be forgotten (trust lost or regained).
    era: AtomicU64,
    trusted: AtomicBool,
}

impl LocalSessions {
    /// Remembers up to `capacity` sessions for `ttl` each; trusted from the start or not.
    #[must_use]
    pub fn new(capacity: u64, ttl: Duration, trusted: bool) -> Self {
        Self {
            known: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            epochs: RwLock::default(),
            era: AtomicU64::new(0),
            trusted: AtomicBool::new(trusted),
        }
    }

    fn stamp(&self, user: UserId) -> u64 {
        let epoch = self
            .epochs
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&user)
            .copied()
            .unwrap_or(0);
        (self.era.load(Ordering::Acquire) << 32) | u64::from(epoch)
    }

    /// Some of `user`'s credentials were revoked: forget their sessions.
    pub fn revoked(&self, user: UserId) {
        let mut epochs = self
            .epochs
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let e = epochs.entry(user).or_insert(0);
        *e = e.wrapping_add(1);
    }

    /// Whether revocations from other instances can reach this one (the Redis
    /// subscription's state). Either way, what was known is forgotten.
    pub fn set_trusted(&self, trusted: bool) {
        self.era.fetch_add(1, Ordering::AcqRel);
        self.trusted.store(trusted, Ordering::Release);
    }
}

impl RevocationListener for LocalSessions {
    fn revoked(&self, user: UserId) {
        LocalSessions::revoked(self, user);
    }
}

impl SessionCache for LocalSessions {
    fn known_active(&self, user: UserId, session: SessionId) -> Result<(), u64> {
        let stamp = self.stamp(user);
        if self.trusted.load(Ordering::Acquire) && self.known.get(&(user, session.0)) == Some(stamp)
        {
            Ok(())
        } else {
            Err(stamp)
        }
    }

    fn remember(&self, user: UserId, session: SessionId, stamp: u64) {
        if self.trusted.load(Ordering::Acquire) {
            self.known.insert((user, session.0), stamp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(n: u128) -> SessionId {
        SessionId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn a_revocation_voids_what_was_known_and_what_was_being_learned() {
        let c = LocalSessions::new(100, Duration::from_secs(60), true);
        let (u, other) = (UserId::new(1), UserId::new(2));
        let stamp = c.known_active(u, sid(1)).unwrap_err();
        c.remember(u, sid(1), stamp);
        assert_eq!(c.known_active(u, sid(1)), Ok(()));
        // A check that read the store before a revocation remembers too late.
        let slow = c.known_active(u, sid(2)).unwrap_err();
        c.revoked(u);
        c.remember(u, sid(2), slow);
        assert!(c.known_active(u, sid(1)).is_err());
        assert!(c.known_active(u, sid(2)).is_err());
        // Other users are untouched.
        let s = c.known_active(other, sid(3)).unwrap_err();
        c.remember(other, sid(3), s);
        c.revoked(u);
        assert_eq!(c.known_active(other, sid(3)), Ok(()));
    }

    #[test]
    fn nothing_is_known_while_untrusted_and_all_is_forgotten_on_a_change() {
        let c = LocalSessions::new(100, Duration::from_secs(60), true);
        let u = UserId::new(1);
        let s = c.known_active(u, sid(1)).unwrap_err();
        c.remember(u, sid(1), s);
        c.set_trusted(false);
        assert!(c.known_active(u, sid(1)).is_err());
        let s = c.known_active(u, sid(1)).unwrap_err();
        c.remember(u, sid(1), s);
        assert!(
            c.known_active(u, sid(1)).is_err(),
            "not remembered while untrusted"
        );
        c.set_trusted(true);
        assert!(
            c.known_active(u, sid(1)).is_err(),
            "forgotten when trust returns"
        );
    }
}
