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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryHabitStore;
    use crate::{HabitError, HabitFields, Schedule, WeekStart};
    use ayubi_kernel::{FixedZone, ManualClock, TimeZone};

    #[tokio::test]
    async fn days_are_the_users_never_in_the_future_and_stats_count_from_them() {
        let store = Arc::new(MemoryHabitStore::new(WeekStart::Monday));
        let clock = Arc::new(ManualClock::new("2026-12-07T23:30:00Z".parse().unwrap()));
        let zone = Arc::new(FixedZone(TimeZone::parse("Asia/Tokyo").unwrap()));
        let s = HabitService::new(store.clone(), zone, clock.clone());
        let u = UserId::new(1);
        let fields = HabitFields::new("read", None, Schedule::Daily, false).unwrap();
        let h = s.create(u, fields).await.unwrap();
        // Already the 8th in Tokyo: "today" is the 8th, and the 9th is the future.
        let (day, new) = s.complete(u, h.id, None).await.unwrap();
        assert_eq!((day.date.to_string(), new), ("2026-12-08".to_owned(), true));
        let (_, again) = s.complete(u, h.id, None).await.unwrap();
        assert!(!again, "completing the same day twice writes nothing");
        let future = s.complete(u, h.id, "2026-12-09".parse().ok()).await;
        assert!(
            matches!(future, Err(HabitError::Invalid { field: "date", .. })),
            "{future:?}"
        );
        s.complete(u, h.id, "2026-12-07".parse().ok())
            .await
            .unwrap();
        let stats = s.stats(u).await.unwrap();
        assert_eq!(
            (stats[0].current_streak, stats[0].completed_today),
            (2, true)
        );
        assert_eq!(
            store.events(u),
            ["habit:created", "habit:completed", "habit:completed"]
        );
        // Someone else's habit is not there for them.
        let theirs = s.complete(UserId::new(2), h.id, None).await;
        assert!(matches!(theirs, Err(HabitError::NotFound)), "{theirs:?}");
    }
}
