//! Driven ports of habits. A habit of another user behaves as one that does not exist.

use crate::model::*;
use ayubi_kernel::{Event, Limit, StoreError, UserId, Write};
use chrono::{DateTime, NaiveDate, Utc};

/// Storage of habits, completions and skips. Writes commit their rows, the change-log
/// entry and the idempotent response in one transaction.
#[async_trait::async_trait]
pub trait HabitStore: Send + Sync + std::fmt::Debug {
    /// Creates a habit.
    ///
    /// # Errors
    /// [`StoreError::IdempotencyRace`]; [`StoreError::Unavailable`].
    async fn create(
        &self,
        user: UserId,
        fields: &HabitFields,
        write: Write,
    ) -> Result<Habit, StoreError>;

    /// Habits, newest first; `archived` filters when given.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn list(
        &self,
        user: UserId,
        archived: Option<bool>,
        limit: u32,
    ) -> Result<Vec<Habit>, StoreError>;

    /// One habit.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when the user has no such habit.
    async fn get(&self, user: UserId, id: i64) -> Result<Habit, StoreError>;

    /// Replaces a habit's editable fields.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when the user has no such habit.
    async fn update(
        &self,
        user: UserId,
        id: i64,
        fields: &HabitFields,
        write: Write,
    ) -> Result<Habit, StoreError>;

    /// Deletes a habit with its completions and skips.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when the user has no such habit.
    async fn delete(
        &self,
        user: UserId,
        id: i64,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Marks a day (`skip = false`: completed; `true`: skipped). Returns whether a row was
    /// written: an existing one is returned as is, and nothing is recorded.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when the user has no such habit.
    async fn mark(
        &self,
        user: UserId,
        day: HabitDay,
        skip: bool,
        write: Write,
    ) -> Result<(HabitDay, bool), StoreError>;

    /// Removes a completion (`skip = false`) or skip.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when there is none for this user's habit.
    async fn unmark(
        &self,
        user: UserId,
        day: HabitDay,
        skip: bool,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Completed days between `from` and `to` (each inclusive, open when `None`), newest
    /// first, at most `limit` of them.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when the user has no such habit.
    async fn completions(
        &self,
        user: UserId,
        id: i64,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        limit: Limit,
    ) -> Result<Vec<NaiveDate>, StoreError>;

    /// Every habit that is not archived, with all its completions and skips.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn histories(&self, user: UserId) -> Result<Vec<HabitHistory>, StoreError>;

    /// The user's `week_start` setting.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn week_start(&self, user: UserId) -> Result<WeekStart, StoreError>;
}
