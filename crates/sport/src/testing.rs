//! In-memory fakes of sport's ports (feature `testing`): for rules of the service that
//! need no database, and for trying the API. Not an adapter to deploy: nothing persists.

use crate::model::*;
use crate::ports::SportStore;
use ayubi_kernel::{DateRange, Event, StoreError, UserId, Write};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
struct State {
    next_id: i64,
    water: Vec<(UserId, WaterEntry)>,
    food: Vec<(UserId, FoodEntry)>,
    workouts: Vec<(UserId, WorkoutEntry)>,
    goals: HashMap<UserId, Goals>,
    events: Vec<(UserId, &'static str)>,
}

/// Sport's storage in memory. Records the events of its writes, in order.
#[derive(Debug, Default)]
pub struct MemorySportStore {
    state: Mutex<State>,
}

impl MemorySportStore {
    /// Empty.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The events recorded for `user`, oldest first (`water:added`, …).
    #[must_use]
    pub fn events(&self, user: UserId) -> Vec<&'static str> {
        self.lock()
            .events
            .iter()
            .filter(|(u, _)| *u == user)
            .map(|(_, e)| *e)
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl State {
    fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }
}

fn newest_first<T: Clone>(
    rows: &[(UserId, T)],
    user: UserId,
    range: DateRange,
    limit: u32,
    key: impl Fn(&T) -> (NaiveDate, i64),
) -> Vec<T> {
    let mut out: Vec<T> = rows
        .iter()
        .filter(|(u, r)| *u == user && range.contains(key(r).0))
        .map(|(_, r)| r.clone())
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(key(r)));
    out.truncate(limit as usize);
    out
}

#[async_trait::async_trait]
impl SportStore for MemorySportStore {
    async fn add_water(
        &self,
        user: UserId,
        new: &NewWater,
        write: Write,
    ) -> Result<WaterEntry, StoreError> {
        let mut s = self.lock();
        let entry = WaterEntry {
            id: s.id(),
            date: new.date(),
            ml: new.ml(),
            created_at: write.now,
        };
        s.water.push((user, entry.clone()));
        s.events.push((user, write.event.name));
        Ok(entry)
    }

    async fn add_food(
        &self,
        user: UserId,
        new: &NewFood,
        write: Write,
    ) -> Result<FoodEntry, StoreError> {
        let mut s = self.lock();
        let entry = FoodEntry {
            id: s.id(),
            date: new.date(),
            name: new.name().as_str().to_owned(),
            kcal: new.kcal(),
            protein: new.protein(),
            carbs: new.carbs(),
            fat: new.fat(),
            created_at: write.now,
        };
        s.food.push((user, entry.clone()));
        s.events.push((user, write.event.name));
        Ok(entry)
    }

    async fn add_workout(
        &self,
        user: UserId,
        new: &NewWorkout,
        write: Write,
    ) -> Result<WorkoutEntry, StoreError> {
        let mut s = self.lock();
        let entry = WorkoutEntry {
            id: s.id(),
            date: new.date(),
            name: new.name().as_str().to_owned(),
            duration_min: new.duration_min(),
            kcal_burned: new.kcal_burned(),
            created_at: write.now,
        };
        s.workouts.push((user, entry.clone()));
        s.events.push((user, write.event.name));
        Ok(entry)
    }

    async fn list_water(
        &self,
        user: UserId,
        range: DateRange,
        limit: u32,
    ) -> Result<Vec<WaterEntry>, StoreError> {
        Ok(newest_first(&self.lock().water, user, range, limit, |w| {
            (w.date, w.id)
        }))
    }

    async fn list_food(
        &self,
        user: UserId,
        range: DateRange,
        limit: u32,
    ) -> Result<Vec<FoodEntry>, StoreError> {
        Ok(newest_first(&self.lock().food, user, range, limit, |f| {
            (f.date, f.id)
        }))
    }

    async fn list_workouts(
        &self,
        user: UserId,
        range: DateRange,
        limit: u32,
    ) -> Result<Vec<WorkoutEntry>, StoreError> {
        Ok(newest_first(
            &self.lock().workouts,
            user,
            range,
            limit,
            |w| (w.date, w.id),
        ))
    }

    async fn delete_entry(
        &self,
        user: UserId,
        id: i64,
        event: Event,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let before = s.water.len() + s.food.len() + s.workouts.len();
        match event.entity {
            "sport_water" => s.water.retain(|(u, w)| !(*u == user && w.id == id)),
            "sport_food" => s.food.retain(|(u, f)| !(*u == user && f.id == id)),
            _ => s.workouts.retain(|(u, w)| !(*u == user && w.id == id)),
        }
        if s.water.len() + s.food.len() + s.workouts.len() == before {
            return Err(StoreError::NotFound);
        }
        s.events.push((user, event.name));
        Ok(())
    }

    async fn goals(&self, user: UserId) -> Result<Goals, StoreError> {
        Ok(self
            .lock()
            .goals
            .get(&user)
            .copied()
            .unwrap_or(Goals::DEFAULT))
    }

    async fn set_goals(
        &self,
        user: UserId,
        goals: &Goals,
        write: Write,
    ) -> Result<Goals, StoreError> {
        let mut s = self.lock();
        let stored = Goals {
            updated_at: Some(write.now),
            ..*goals
        };
        s.goals.insert(user, stored);
        s.events.push((user, write.event.name));
        Ok(stored)
    }

    async fn day_totals(
        &self,
        user: UserId,
        range: DateRange,
    ) -> Result<(Vec<(NaiveDate, DayTotals)>, Goals), StoreError> {
        let s = self.lock();
        let mut days: HashMap<NaiveDate, DayTotals> = HashMap::new();
        for (_, w) in s
            .water
            .iter()
            .filter(|(u, w)| *u == user && range.contains(w.date))
        {
            days.entry(w.date).or_default().water_ml += i64::from(w.ml);
        }
        for (_, f) in s
            .food
            .iter()
            .filter(|(u, f)| *u == user && range.contains(f.date))
        {
            let d = days.entry(f.date).or_default();
            d.kcal_in += i64::from(f.kcal);
            d.protein_tenths += i64::from(f.protein.map_or(0, Grams::tenths));
            d.carbs_tenths += i64::from(f.carbs.map_or(0, Grams::tenths));
            d.fat_tenths += i64::from(f.fat.map_or(0, Grams::tenths));
        }
        for (_, w) in s
            .workouts
            .iter()
            .filter(|(u, w)| *u == user && range.contains(w.date))
        {
            days.entry(w.date).or_default().kcal_burned += i64::from(w.kcal_burned);
        }
        let mut days: Vec<(NaiveDate, DayTotals)> = days.into_iter().collect();
        days.sort_by_key(|(d, _)| *d);
        let goals = s.goals.get(&user).copied().unwrap_or(Goals::DEFAULT);
        Ok((days, goals))
    }
}

pub use ayubi_kernel::FixedZone;
