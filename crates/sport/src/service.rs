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
///
/// # Example
///
/// Log water and read today's totals, here over the in-memory fakes (feature `testing`);
/// a service links `ayubi-db` with its `sqlite` and `sport` features instead
/// (`examples/water-log`).
///
/// ```
/// use ayubi_kernel::{ManualClock, TimeZone, UserId};
/// use ayubi_sport::service::Stats;
/// use ayubi_sport::testing::{FixedZone, MemorySportStore};
/// use ayubi_sport::{AddWater, SportService};
/// use std::sync::Arc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Arc::new(MemorySportStore::new());
/// let sport = SportService::new(
///     store.clone(),
///     Arc::new(FixedZone(TimeZone::parse("Europe/Berlin")?)),
///     Arc::new(ManualClock::new("2026-12-07T21:30:00Z".parse()?)),
/// );
/// let me = UserId::new(1);
///
/// let entry = sport.add_water(me, AddWater::new(None, 250)?).await?;
/// assert_eq!(entry.date.to_string(), "2026-12-07"); // today in Berlin
/// assert!(AddWater::new(None, 0).is_err()); // the command refuses it, naming `ml`
///
/// let Stats::Day(today) = sport.stats(me, Default::default()).await? else { unreachable!() };
/// assert_eq!(today.totals.water_ml, 250);
/// assert_eq!(store.events(me), ["water:added"]);
/// # Ok(())
/// # }
/// ```
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

    /// [`SportService::list_water`], already serialized when the store can write it so.
    ///
    /// # Errors
    /// As [`SportService::list_water`].
    pub async fn water_listing(&self, user: UserId, q: ListQuery) -> Result<Listed<WaterEntry>> {
        let range = self.list_range(user, &q).await?;
        let limit = q.limit.get();
        if let Some(json) = self.store.list_water_json(user, range, limit).await? {
            return Ok(Listed::Json(json));
        }
        Ok(Listed::Entries(
            self.store.list_water(user, range, limit).await?,
        ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FixedZone, MemorySportStore};
    use crate::{AddFood, AddWater, AddWorkout, Macros, SetGoals};
    use ayubi_kernel::{ManualClock, TimeZone};

    fn service(zone: &str, now: &str) -> (SportService, Arc<MemorySportStore>, Arc<ManualClock>) {
        let store = Arc::new(MemorySportStore::new());
        let clock = Arc::new(ManualClock::new(now.parse().unwrap()));
        let zone = TimeZone::parse(zone).unwrap();
        let s = SportService::new(store.clone(), Arc::new(FixedZone(zone)), clock.clone());
        (s, store, clock)
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn today_is_the_users_day_not_the_servers() {
        // 23:30 UTC is already tomorrow in Tokyo and still today in Los Angeles.
        let now = "2026-12-07T23:30:00Z";
        let (tokyo, _, _) = service("Asia/Tokyo", now);
        let (la, _, _) = service("America/Los_Angeles", now);
        let u = UserId::new(1);
        let a = tokyo
            .add_water(u, AddWater::new(None, 200).unwrap())
            .await
            .unwrap();
        let b = la
            .add_water(u, AddWater::new(None, 200).unwrap())
            .await
            .unwrap();
        assert_eq!(a.date, day("2026-12-08"));
        assert_eq!(b.date, day("2026-12-07"));
        // A day given is kept as given.
        let c = la
            .add_water(u, AddWater::new(Some(day("2026-01-02")), 200).unwrap())
            .await
            .unwrap();
        assert_eq!(c.date, day("2026-01-02"));
    }

    #[tokio::test]
    async fn stats_sum_each_day_against_the_goals_and_fill_empty_days() {
        let (s, store, _) = service("UTC", "2026-12-07T12:00:00Z");
        let u = UserId::new(7);
        s.set_goals(u, SetGoals::new(2000, 1800).unwrap())
            .await
            .unwrap();
        let d5 = Some(day("2026-12-05"));
        s.add_water(u, AddWater::new(d5, 300).unwrap())
            .await
            .unwrap();
        s.add_water(u, AddWater::new(d5, 200).unwrap())
            .await
            .unwrap();
        let macros = Macros {
            protein: Some(12.5),
            ..Macros::default()
        };
        s.add_food(u, AddFood::new(d5, "soup", 400, macros).unwrap())
            .await
            .unwrap();
        s.add_workout(u, AddWorkout::new(None, "run", 30, 250).unwrap())
            .await
            .unwrap();
        // Another user's entries never count.
        s.add_water(UserId::new(8), AddWater::new(d5, 999).unwrap())
            .await
            .unwrap();
        let q = StatsQuery {
            from: Some(day("2026-12-05")),
            to: Some(day("2026-12-07")),
            ..StatsQuery::default()
        };
        let Stats::Range(days) = s.stats(u, q).await.unwrap() else {
            panic!("a range")
        };
        let got: Vec<(i64, i64, i64, i64)> = days
            .iter()
            .map(|d| {
                let t = d.totals;
                (t.water_ml, t.kcal_in, t.kcal_burned, t.protein_tenths)
            })
            .collect();
        assert_eq!(got, [(500, 400, 0, 125), (0, 0, 0, 0), (0, 0, 250, 0)]);
        assert!(days.iter().all(|d| d.goals.water_ml_per_day == 2000));
        assert_eq!(
            store.events(u),
            [
                "goals:updated",
                "water:added",
                "water:added",
                "food:added",
                "workout:added"
            ]
        );
    }

    #[tokio::test]
    async fn stats_ranges_are_checked_before_any_read() {
        let (s, _, _) = service("UTC", "2026-12-07T12:00:00Z");
        let u = UserId::new(1);
        let field = |q: StatsQuery| {
            let s = s.clone();
            async move {
                match s.stats(u, q).await {
                    Err(SportError::Invalid { field, .. }) => field,
                    other => panic!("expected a refusal, got {other:?}"),
                }
            }
        };
        let (a, b) = (Some(day("2026-01-01")), Some(day("2026-12-07")));
        assert_eq!(
            field(StatsQuery {
                date: a,
                from: a,
                to: b
            })
            .await,
            "date"
        );
        assert_eq!(
            field(StatsQuery {
                from: a,
                ..Default::default()
            })
            .await,
            "to"
        );
        assert_eq!(
            field(StatsQuery {
                to: b,
                ..Default::default()
            })
            .await,
            "from"
        );
        assert_eq!(
            field(StatsQuery {
                from: b,
                to: a,
                ..Default::default()
            })
            .await,
            "from"
        );
        let long = Some(day("2025-01-01"));
        assert_eq!(
            field(StatsQuery {
                from: long,
                to: b,
                ..Default::default()
            })
            .await,
            "to"
        );
    }

    #[tokio::test]
    async fn deleting_another_users_entry_is_not_found() {
        let (s, store, _) = service("UTC", "2026-12-07T12:00:00Z");
        let (me, other) = (UserId::new(1), UserId::new(2));
        let w = s
            .add_water(me, AddWater::new(None, 250).unwrap())
            .await
            .unwrap();
        assert!(matches!(
            s.delete_water(other, w.id).await,
            Err(SportError::NotFound)
        ));
        s.delete_water(me, w.id).await.unwrap();
        assert_eq!(store.events(me), ["water:added", "water:deleted"]);
        assert!(store.events(other).is_empty());
    }
}
