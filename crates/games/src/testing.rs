//! In-memory fakes of the game-stats ports (feature `testing`): a cache that keeps its
//! copies and leases in memory, and platforms that answer what they are told to, counting
//! their calls. For the service's rules (freshness, back-off, one call at a time) without a
//! database or the internet.

use crate::model::{Cached, Platform, PlatformError};
use crate::ports::{GamePlatforms, StatsCache};
use ayubi_kernel::{StoreError, UserId};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Debug, Default)]
struct State {
    linked: HashMap<(UserId, Platform), String>,
    copies: HashMap<(UserId, Platform), Cached>,
    leases: HashMap<(UserId, Platform), DateTime<Utc>>,
}

/// The cache table and the linked accounts, in memory.
#[derive(Debug, Default)]
pub struct MemoryStatsCache {
    state: Mutex<State>,
}

impl MemoryStatsCache {
    /// Empty.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Links `account` on `platform` to `user`'s profile.
    pub fn link(&self, user: UserId, platform: Platform, account: &str) {
        self.lock()
            .linked
            .insert((user, platform), account.to_owned());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl StatsCache for MemoryStatsCache {
    async fn linked(&self, user: UserId, platform: Platform) -> Result<Option<String>, StoreError> {
        Ok(self.lock().linked.get(&(user, platform)).cloned())
    }

    async fn get(&self, user: UserId, platform: Platform) -> Result<Option<Cached>, StoreError> {
        Ok(self.lock().copies.get(&(user, platform)).cloned())
    }

    async fn claim(
        &self,
        user: UserId,
        platform: Platform,
        account: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock();
        if s.leases
            .get(&(user, platform))
            .is_some_and(|held| *held > now)
        {
            return Ok(false);
        }
        s.leases.insert((user, platform), until);
        s.copies.entry((user, platform)).or_insert_with(|| Cached {
            account: account.to_owned(),
            raw: None,
            complete: false,
            updated_at: None,
            retry_at: None,
            last_error: None,
        });
        Ok(true)
    }

    async fn wait(
        &self,
        user: UserId,
        platform: Platform,
        _patience: Duration,
    ) -> Result<Option<Cached>, StoreError> {
        // One process: whoever holds the lease here has already saved (the service lets
        // one call at a time through per user and platform).
        Ok(self.lock().copies.get(&(user, platform)).cloned())
    }

    async fn save(
        &self,
        user: UserId,
        platform: Platform,
        copy: &Cached,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        s.copies.insert((user, platform), copy.clone());
        s.leases.remove(&(user, platform));
        Ok(())
    }
}

/// Platforms that answer with what they are given, counting the calls.
#[derive(Debug, Default)]
pub struct ScriptedPlatforms {
    answer: Mutex<Option<Result<serde_json::Value, PlatformError>>>,
    calls: AtomicUsize,
}

impl ScriptedPlatforms {
    /// Answers every fetch with `answer` from now on.
    pub fn answer(&self, answer: Result<serde_json::Value, PlatformError>) {
        *self
            .answer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(answer);
    }

    /// How many fetches were made.
    #[must_use]
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }
}

#[async_trait::async_trait]
impl GamePlatforms for ScriptedPlatforms {
    fn configured(&self, _platform: Platform) -> bool {
        true
    }

    async fn fetch(
        &self,
        _platform: Platform,
        _account: &str,
    ) -> Result<serde_json::Value, PlatformError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.answer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .unwrap_or(Err(PlatformError::NotFound))
    }
}
