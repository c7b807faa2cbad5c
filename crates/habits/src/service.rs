//! Habit use cases.

use crate::error::{Result, invalid};
use crate::events;
use crate::model::*;
use crate::ports::HabitStore;
use crate::streak::Track;
use ayubi_kernel::{Clock, Limit, UserId, UserTimeZones, Write};
use chrono::NaiveDate;
use std::sync::Arc;

/// One habit's stats.
#[derive(Debug, Clone, PartialEq)]
pub struct HabitStats {
    /// The habit.
    pub habit_id: i64,
    /// Its name.
    pub name: String,
    /// Kept periods up to now.
    pub current_streak: u32,
    /// The best run ever.
    pub longest_streak: u32,
    /// Whether today is completed.
    pub completed_today: bool,
    /// 0–1.
    pub completion_rate_30d: f64,
}

/// The habit use cases.
#[derive(Debug, Clone)]
pub struct HabitService {
    store: Arc<dyn HabitStore>,
    zones: Arc<dyn UserTimeZones>,
    clock: Arc<dyn Clock>,
}

impl HabitService {
    /// Wires the service.
    #[must_use]
    pub fn new(
        store: Arc<dyn HabitStore>,
        zones: Arc<dyn UserTimeZones>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            zones,
            clock,
        }
    }

    async fn today(&self, user: UserId) -> Result<NaiveDate> {
        Ok(ayubi_kernel::today(&*self.zones, &*self.clock, user).await?)
    }

    fn write(&self, event: ayubi_kernel::Event) -> Write {
        Write::new(event, self.clock.now())
    }

    /// Creates a habit.
    ///
    /// # Errors
    /// `Store`.
    pub async fn create(&self, user: UserId, fields: HabitFields) -> Result<Habit> {
        Ok(self
            .store
            .create(user, &fields, self.write(events::CREATED))
            .await?)
    }

    /// Habits.
    ///
    /// # Errors
    /// `Store`.
    pub async fn list(
        &self,
        user: UserId,
        archived: Option<bool>,
        limit: Limit,
    ) -> Result<Vec<Habit>> {
        Ok(self.store.list(user, archived, limit.get()).await?)
    }

    /// One habit.
    ///
    /// # Errors
    /// `NotFound`; `Store`.
    pub async fn get(&self, user: UserId, id: i64) -> Result<Habit> {
        Ok(self.store.get(user, id).await?)
    }

    /// Replaces a habit.
    ///
    /// # Errors
    /// `NotFound`; `Store`.
    pub async fn update(&self, user: UserId, id: i64, fields: HabitFields) -> Result<Habit> {
        Ok(self
            .store
            .update(user, id, &fields, self.write(events::UPDATED))
            .await?)
    }

    /// Deletes a habit.
    ///
    /// # Errors
    /// `NotFound`; `Store`.
    pub async fn delete(&self, user: UserId, id: i64) -> Result<()> {
        Ok(self
            .store
            .delete(user, id, events::DELETED, self.clock.now())
            .await?)
    }

    async fn day(&self, user: UserId, habit_id: i64, date: Option<NaiveDate>) -> Result<HabitDay> {
        let today = self.today(user).await?;
        let date = date.unwrap_or(today);
        if date > today {
            return Err(invalid("date", "cannot be in the future"));
        }
        Ok(HabitDay { habit_id, date })
    }

    /// Completes a day (default today). Returns whether it was new: completing the same
    /// day again writes nothing.
    ///
    /// # Errors
    /// `Invalid` on `date` in the future; `NotFound`; `Store`.
    pub async fn complete(
        &self,
        user: UserId,
        habit_id: i64,
        date: Option<NaiveDate>,
    ) -> Result<(HabitDay, bool)> {
        let day = self.day(user, habit_id, date).await?;
        Ok(self
            .store
            .mark(user, day, false, self.write(events::COMPLETED))
            .await?)
    }

    /// Skips a day.
    ///
    /// # Errors
    /// As [`HabitService::complete`].
    pub async fn skip(
        &self,
        user: UserId,
        habit_id: i64,
        date: NaiveDate,
    ) -> Result<(HabitDay, bool)> {
        let day = self.day(user, habit_id, Some(date)).await?;
        Ok(self
            .store
            .mark(user, day, true, self.write(events::SKIPPED))
            .await?)
    }

    /// Removes a completion.
    ///
    /// # Errors
    /// `NotFound`; `Store`.
    pub async fn uncomplete(&self, user: UserId, habit_id: i64, date: NaiveDate) -> Result<()> {
        let day = HabitDay { habit_id, date };
        Ok(self
            .store
            .unmark(user, day, false, events::UNCOMPLETED, self.clock.now())
            .await?)
    }

    /// Removes a skip.
    ///
    /// # Errors
    /// `NotFound`; `Store`.
    pub async fn unskip(&self, user: UserId, habit_id: i64, date: NaiveDate) -> Result<()> {
        let day = HabitDay { habit_id, date };
        Ok(self
            .store
            .unmark(user, day, true, events::UNSKIPPED, self.clock.now())
            .await?)
    }

    /// Completed days from `from` to `to` (default: the last 30 days).
    ///
    /// # Errors
    /// `Invalid` on a reversed range; `NotFound`; `Store`.
    pub async fn completions(
        &self,
        user: UserId,
        habit_id: i64,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        limit: Limit,
    ) -> Result<Vec<NaiveDate>> {
        // Like every list: no date window unless the caller gives one.
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(invalid("from", "must not be after `to`"));
        }
        Ok(self
            .store
            .completions(user, habit_id, from, to, limit)
            .await?)
    }

    /// Streaks and rates of every habit that is not archived.
    ///
    /// # Errors
    /// `Store`.
    pub async fn stats(&self, user: UserId) -> Result<Vec<HabitStats>> {
        let tz = self.zones.time_zone(user).await?;
        let week_start = self.store.week_start(user).await?;
        let now = self.clock.now();
        let today = tz.today(now);
        let histories = self.store.histories(user).await?;
        Ok(histories
            .iter()
            .map(|h| {
                let track = Track {
                    schedule: &h.habit.schedule,
                    created: tz.today(h.habit.created_at),
                    completions: &h.completions,
                    skips: &h.skips,
                    week_start,
                };
                HabitStats {
                    habit_id: h.habit.id,
                    name: h.habit.name.clone(),
                    current_streak: track.current_streak(today),
                    longest_streak: track.longest_streak(today),
                    completed_today: track.completed_today(today),
                    completion_rate_30d: track.completion_rate_30d(today),
                }
            })
            .collect())
    }
}
