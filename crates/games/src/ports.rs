//! Driven ports of game stats.

use crate::Platform;
use crate::model::{Cached, PlatformError};
use ayubi_kernel::{StoreError, UserId};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The cache table (`game_stats_cache`, one row per user and platform) and the linked ids.
#[async_trait::async_trait]
pub trait StatsCache: Send + Sync + std::fmt::Debug {
    /// The account the profile links on `platform` (SteamID64 or FACEIT nickname).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the user is gone; [`StoreError::Unavailable`].
    async fn linked(&self, user: UserId, platform: Platform) -> Result<Option<String>, StoreError>;

    /// The stored copy, whatever account it belongs to.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn get(&self, user: UserId, platform: Platform) -> Result<Option<Cached>, StoreError>;

    /// Takes the fetch lease until `until`, creating the row for `account` when there is
    /// none. Of any number of callers across instances, exactly one gets `true` while the
    /// lease holds (no lease, or one older than `now`).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn claim(
        &self,
        user: UserId,
        platform: Platform,
        account: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Waits until no instance holds the lease (it saved its answer), or `patience` has
    /// passed, and returns the copy then.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn wait(
        &self,
        user: UserId,
        platform: Platform,
        patience: Duration,
    ) -> Result<Option<Cached>, StoreError>;

    /// Stores the copy (every field) and releases the lease.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the user is gone; [`StoreError::Unavailable`].
    async fn save(&self, user: UserId, platform: Platform, copy: &Cached)
    -> Result<(), StoreError>;
}

/// The platforms' web APIs.
#[async_trait::async_trait]
pub trait GamePlatforms: Send + Sync + std::fmt::Debug {
    /// Whether this server has an API key for `platform`.
    fn configured(&self, platform: Platform) -> bool;

    /// Everything we show of `account`, as the raw bundle
    /// ([`crate::present::steam_raw`], [`crate::present::faceit_raw`]). An empty or
    /// private answer is still `Ok`: the policy decides what it may replace.
    ///
    /// # Errors
    /// [`PlatformError::NotFound`] for an unknown account; [`PlatformError::KeyRejected`]
    /// on 401/403; [`PlatformError::Unavailable`] for anything else, after one retry of a
    /// 5xx, within the adapter's timeouts.
    async fn fetch(
        &self,
        platform: Platform,
        account: &str,
    ) -> Result<serde_json::Value, PlatformError>;
}
