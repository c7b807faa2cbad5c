//! What a write records besides its rows: every write to a user's data is recorded, in
//! the same transaction, as an entry of the user's change log (read and delivered by
//! `ayubi-sync`). This is the part of that vocabulary the domain crates speak.

use crate::{Idempotent, StoreError, UserId};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// What happened, named `<entity>:<verb>` (`water:added`), and to which table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// The event name clients switch on.
    pub name: &'static str,
    /// The entity (table) it concerns, e.g. `sport_water`.
    pub entity: &'static str,
}

/// How a resource is shown to clients (the REST representation), so the change log
/// carries exactly what the REST API returns. The HTTP layer supplies it.
pub type View<T> = Arc<dyn Fn(&T) -> serde_json::Value + Send + Sync>;

/// Everything a repository records besides the rows of a write, in the same transaction:
/// the change-log entry, and the saved response when an `Idempotency-Key` came along.
pub struct Write<T> {
    /// What happened.
    pub event: Event,
    /// When (the service's clock): the change's `at` and any `created_at` written.
    pub now: DateTime<Utc>,
    /// How the written resource is shown.
    pub view: View<T>,
    /// The saved response, for creates with an `Idempotency-Key`.
    pub idempotent: Option<Idempotent<T>>,
}

impl<T> std::fmt::Debug for Write<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Write")
            .field("event", &self.event)
            .field("idempotent", &self.idempotent)
            .finish_non_exhaustive()
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
