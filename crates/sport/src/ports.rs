//! Driven ports of sport. Every method takes the user first; an entry of another user
//! behaves exactly like one that does not exist.

use crate::model::*;
use ayubi_kernel::{DateRange, Event, StoreError, UserId, Write};

/// Storage of the logs and goals. Every write method commits its rows, the change-log
/// entry of `write.event` (with the next per-user `seq`) and, when present, the
/// idempotent response in ONE transaction.
#[async_trait::async_trait]
pub trait SportStore: Send + Sync + std::fmt::Debug {
    /// Logs water.
    ///
    /// # Errors
    /// [`StoreError::IdempotencyRace`] when a concurrent request saved the same key first
    /// (nothing written); [`StoreError::Unavailable`].
    async fn add_water(
        &self,
        user: UserId,
        new: &NewWater,
        write: Write,
    ) -> Result<WaterEntry, StoreError>;

    /// Logs a meal. Errors as [`SportStore::add_water`].
    ///
    /// # Errors
    /// As [`SportStore::add_water`].
    async fn add_food(
        &self,
        user: UserId,
        new: &NewFood,
        write: Write,
    ) -> Result<FoodEntry, StoreError>;

    /// Logs a workout.
    ///
    /// # Errors
    /// As [`SportStore::add_water`].
    async fn add_workout(
        &self,
        user: UserId,
        new: &NewWorkout,
        write: Write,
    ) -> Result<WorkoutEntry, StoreError>;

    /// Water entries in `range`, newest date first, then newest id first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn list_water(
        &self,
        user: UserId,
        range: DateRange,
        limit: u32,
    ) -> Result<Vec<WaterEntry>, StoreError>;

    /// The same list as [`SportStore::list_water`], as a JSON array of [`WaterEntry`]'s
    /// serde form, when the adapter can write it without building the entries (SQLite's
    /// adapter writes it from the rows where SQLite keeps them: no row becomes an entry,
    /// no date is parsed and formatted again).
    /// `None`: not supported here; the caller asks `list_water`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn list_water_json(
        &self,
        user: UserId,
        range: DateRange,
        limit: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let _ = (user, range, limit);
        Ok(None)
    }

    /// Meals in `range`, ordered as [`SportStore::list_water`].
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn list_food(
        &self,
        user: UserId,
        range: DateRange,
        limit: u32,
    ) -> Result<Vec<FoodEntry>, StoreError>;

    /// Workouts in `range`, ordered as [`SportStore::list_water`].
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn list_workouts(
        &self,
        user: UserId,
        range: DateRange,
        limit: u32,
    ) -> Result<Vec<WorkoutEntry>, StoreError>;

    /// Deletes one entry of `event.entity` (`sport_water`, `sport_food`,
    /// `sport_workout`) and records `event` with `{"id": id}`.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when the user has no such entry (nothing is
    /// recorded then); [`StoreError::Unavailable`].
    async fn delete_entry(
        &self,
        user: UserId,
        id: i64,
        event: Event,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError>;

    /// The user's goals, [`Goals::DEFAULT`] when never set.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn goals(&self, user: UserId) -> Result<Goals, StoreError>;

    /// Sets the goals (insert or update; `updated_at` is kept by the database).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn set_goals(
        &self,
        user: UserId,
        goals: &Goals,
        write: Write,
    ) -> Result<Goals, StoreError>;

    /// Per-day totals over `range` (days without entries left out) and the goals, in
    /// one query.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn day_totals(
        &self,
        user: UserId,
        range: DateRange,
    ) -> Result<(Vec<(chrono::NaiveDate, DayTotals)>, Goals), StoreError>;
}
