//! Sport use cases.

use crate::commands::{AddFood, AddWater, AddWorkout, SetGoals};
use crate::error::{Result, SportError, invalid};
use crate::events;
use crate::model::*;
use crate::ports::SportStore;
use ayubi_kernel::{
    Clock, DateRange, DateRangeError, Limit, StoreError, UserId, UserTimeZones, Write,
};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::Arc;

/// The longest range `stats` covers.
pub const MAX_STATS_DAYS: i64 = 366;

/// A list query: `from`/`to` inclusive, defaulting to today in the user's time zone.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListQuery {
    /// First day (default: `to`).
    pub from: Option<NaiveDate>,
    /// Last day (default: today).
    pub to: Option<NaiveDate>,
    /// Page size.
    pub limit: Limit,
}

/// A stats query: one `date` (default today) or a `from`+`to` range of ≤ 366 days.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatsQuery {
    /// A single day.
    pub date: Option<NaiveDate>,
    /// Range start.
    pub from: Option<NaiveDate>,
    /// Range end.
    pub to: Option<NaiveDate>,
}

/// Stats for one day or for each day of a range.
#[derive(Debug, Clone, PartialEq)]
pub enum Stats {
    /// `?date=` (or nothing): one object.
    Day(DayStats),
    /// `?from=&to=`: one per day, oldest first, days without entries at zero.
    Range(Vec<DayStats>),
}

/// The sport use cases.
#[derive(Debug, Clone)]
pub struct SportService {
    store: Arc<dyn SportStore>,
    zones: Arc<dyn UserTimeZones>,
    clock: Arc<dyn Clock>,
}

fn range_error(e: DateRangeError) -> SportError {
    match e {
        DateRangeError::Reversed => invalid("from", e.to_string()),
        DateRangeError::TooLong(_) => invalid("to", e.to_string()),
    }
}

impl SportService {
    /// Wires the service.
    #[must_use]
    pub fn new(
        store: Arc<dyn SportStore>,
        zones: Arc<dyn UserTimeZones>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            zones,
            clock,
        }
    }

    /// Today in the user's time zone.
    ///
    /// # Errors
    /// `Store`.
    pub async fn today(&self, user: UserId) -> Result<NaiveDate> {
        Ok(ayubi_kernel::today(&*self.zones, &*self.clock, user).await?)
    }

    async fn date_or_today(&self, user: UserId, date: Option<NaiveDate>) -> Result<NaiveDate> {
        match date {
            Some(d) => Ok(d),
            None => self.today(user).await,
        }
    }

    async fn list_range(&self, user: UserId, q: &ListQuery) -> Result<DateRange> {
        let to = match q.to {
            Some(to) => to,
            None => self.today(user).await?,
        };
        let from = q.from.unwrap_or(to);
        DateRange::new(from, to).map_err(range_error)
    }

    fn write(&self, event: ayubi_kernel::Event) -> Write {
        Write::new(event, self.clock.now())
    }

    /// Logs water on the command's day (default: today in the user's zone).
    ///
    /// # Errors
    /// `Store`.
    pub async fn add_water(&self, user: UserId, cmd: AddWater) -> Result<WaterEntry> {
        let day = self.date_or_today(user, cmd.date()).await?;
        let w = self.write(events::WATER_ADDED);
        Ok(self.store.add_water(user, &cmd.on(day), w).await?)
    }

    /// Logs a meal on the command's day (default: today in the user's zone).
    ///
    /// # Errors
    /// `Store`.
    pub async fn add_food(&self, user: UserId, cmd: AddFood) -> Result<FoodEntry> {
        let day = self.date_or_today(user, cmd.date()).await?;
        let w = self.write(events::FOOD_ADDED);
        Ok(self.store.add_food(user, &cmd.on(day), w).await?)
    }

    /// Logs a workout on the command's day (default: today in the user's zone).
    ///
    /// # Errors
    /// `Store`.
    pub async fn add_workout(&self, user: UserId, cmd: AddWorkout) -> Result<WorkoutEntry> {
        let day = self.date_or_today(user, cmd.date()).await?;
        let w = self.write(events::WORKOUT_ADDED);
        Ok(self.store.add_workout(user, &cmd.on(day), w).await?)
    }

    /// Water entries.
    ///
    /// # Errors
    /// `Invalid` on `from` after `to`; `Store`.
    pub async fn list_water(&self, user: UserId, q: ListQuery) -> Result<Vec<WaterEntry>> {
        let range = self.list_range(user, &q).await?;
        Ok(self.store.list_water(user, range, q.limit.get()).await?)
    }

    /// Meals.
    ///
    /// # Errors
    /// As [`SportService::list_water`].
    pub async fn list_food(&self, user: UserId, q: ListQuery) -> Result<Vec<FoodEntry>> {
        let range = self.list_range(user, &q).await?;
        Ok(self.store.list_food(user, range, q.limit.get()).await?)
    }

    /// Workouts.
    ///
    /// # Errors
    /// As [`SportService::list_water`].
    pub async fn list_workouts(&self, user: UserId, q: ListQuery) -> Result<Vec<WorkoutEntry>> {
        let range = self.list_range(user, &q).await?;
        Ok(self.store.list_workouts(user, range, q.limit.get()).await?)
    }

    /// Deletes a water entry.
    ///
    /// # Errors
    /// `NotFound`; `Store`.
    pub async fn delete_water(&self, user: UserId, id: i64) -> Result<()> {
        Ok(self
            .store
            .delete_entry(user, id, events::WATER_DELETED, self.clock.now())
            .await?)
    }

    /// Deletes a meal.
    ///
    /// # Errors
    /// `NotFound`; `Store`.
    pub async fn delete_food(&self, user: UserId, id: i64) -> Result<()> {
        Ok(self
            .store
            .delete_entry(user, id, events::FOOD_DELETED, self.clock.now())
            .await?)
    }

    /// Deletes a workout.
    ///
    /// # Errors
    /// `NotFound`; `Store`.
    pub async fn delete_workout(&self, user: UserId, id: i64) -> Result<()> {
        Ok(self
            .store
            .delete_entry(user, id, events::WORKOUT_DELETED, self.clock.now())
            .await?)
    }

    /// The goals (defaults when never set).
    ///
    /// # Errors
    /// `Store`.
    pub async fn goals(&self, user: UserId) -> Result<Goals> {
        Ok(self.store.goals(user).await?)
    }

    /// Replaces the goals.
    ///
    /// # Errors
    /// `Invalid` naming the field; `Store`.
    pub async fn set_goals(&self, user: UserId, cmd: SetGoals) -> Result<Goals> {
        let goals = cmd.goals();
        let w = self.write(events::GOALS_UPDATED);
        Ok(self.store.set_goals(user, &goals, w).await?)
    }

    /// Per-day totals against the goals.
    ///
    /// # Errors
    /// `Invalid` for `date` combined with a range, a half range, a reversed range or one
    /// over 366 days; `Store`.
    pub async fn stats(&self, user: UserId, q: StatsQuery) -> Result<Stats> {
        let (range, single) = match (q.date, q.from, q.to) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(invalid("date", "give either date or from and to, not both"));
            }
            (date, None, None) => (DateRange::day(self.date_or_today(user, date).await?), true),
            (None, Some(from), Some(to)) => (
                DateRange::new(from, to)
                    .and_then(|r| r.at_most(MAX_STATS_DAYS))
                    .map_err(range_error)?,
                false,
            ),
            (None, Some(_), None) => return Err(invalid("to", "is required with from")),
            (None, None, Some(_)) => return Err(invalid("from", "is required with to")),
        };
        let (totals, goals) = self.store.day_totals(user, range).await?;
        let by_day: HashMap<NaiveDate, DayTotals> = totals.into_iter().collect();
        let mut days = range.iter().map(|date| DayStats {
            date,
            totals: by_day.get(&date).copied().unwrap_or_default(),
            goals,
        });
        if single {
            days.next()
                .map(Stats::Day)
                .ok_or(SportError::Store(StoreError::NotFound))
        } else {
            Ok(Stats::Range(days.collect()))
        }
    }
}
