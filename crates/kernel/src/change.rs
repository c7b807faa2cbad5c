//! What a write records besides its rows: every write to a user's data is recorded, in
//! the same transaction, as an entry of the user's change log (read and delivered by
//! `ayubi-sync`). This is the part of that vocabulary the domain crates speak.

use crate::{StoreError, UserId};
use chrono::{DateTime, Utc};

/// What happened, named `<entity>:<verb>` (`water:added`), and to which table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// The event name clients switch on.
    pub name: &'static str,
    /// The entity (table) it concerns, e.g. `sport_water`.
    pub entity: &'static str,
}

/// What a repository records besides the rows of a write, in the same transaction: the
/// change-log entry of `event` (its data is the written resource as clients see it, which
/// the storage adapter was told at start-up how to render). When the write answers a
/// request that carried an `Idempotency-Key`, the adapter also saves the response in that
/// transaction; the key travels with the request, not through the domain's signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Write {
    /// What happened.
    pub event: Event,
    /// When (the service's clock): the change's `at` and any `created_at` written.
    pub now: DateTime<Utc>,
}

impl Write {
    /// `event`, now.
    #[must_use]
    pub fn new(event: Event, now: DateTime<Utc>) -> Self {
        Self { event, now }
    }
}

/// The user's time zone, for "today".
#[async_trait::async_trait]
pub trait UserTimeZones: Send + Sync + std::fmt::Debug {
    /// The user's zone (UTC when unset).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the user is gone; [`StoreError::Unavailable`].
    async fn time_zone(&self, user: UserId) -> Result<crate::TimeZone, StoreError>;
}

/// Every user in one time zone: for a service that keeps none per user, and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedZone(pub crate::TimeZone);

#[async_trait::async_trait]
impl UserTimeZones for FixedZone {
    async fn time_zone(&self, _user: UserId) -> Result<crate::TimeZone, StoreError> {
        Ok(self.0)
    }
}

/// Today in the user's time zone, by `clock`: the date every module defaults to.
///
/// # Errors
/// As [`UserTimeZones::time_zone`].
pub async fn today(
    zones: &dyn UserTimeZones,
    clock: &dyn crate::Clock,
    user: UserId,
) -> Result<chrono::NaiveDate, StoreError> {
    Ok(zones.time_zone(user).await?.today(clock.now()))
}
