//! In-memory fakes of the habits port (feature `testing`): for the service's rules and
//! for trying the API. Nothing persists.

use crate::model::{Habit, HabitDay, HabitFields, HabitHistory, WeekStart};
use crate::ports::HabitStore;
use ayubi_kernel::{Event, Limit, StoreError, UserId, Write};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeSet;
use std::sync::Mutex;

#[derive(Debug, Default)]
struct State {
    last_id: i64,
    habits: Vec<(UserId, HabitHistory)>,
    week_start: WeekStart,
    events: Vec<(UserId, &'static str)>,
}

/// Habits with their completions and skips in memory; the events of its writes.
#[derive(Debug, Default)]
pub struct MemoryHabitStore {
    state: Mutex<State>,
}

impl MemoryHabitStore {
    /// Empty; weeks start on `week_start` for everyone.
    #[must_use]
    pub fn new(week_start: WeekStart) -> Self {
        Self {
            state: Mutex::new(State {
                week_start,
                ..State::default()
            }),
        }
    }

    /// The events recorded for `user`, oldest first.
    #[must_use]
    pub fn events(&self, user: UserId) -> Vec<&'static str> {
        let s = self.lock();
        s.events
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
    fn find(&mut self, user: UserId, id: i64) -> Result<&mut HabitHistory, StoreError> {
        self.habits
            .iter_mut()
            .find(|(u, h)| *u == user && h.habit.id == id)
            .map(|(_, h)| h)
            .ok_or(StoreError::NotFound)
    }
}

fn apply(h: &mut Habit, f: &HabitFields, now: DateTime<Utc>) {
    h.name = f.name().to_owned();
    h.description = f.description().map(str::to_owned);
    h.schedule = f.schedule().clone();
    h.archived = f.archived();
    h.updated_at = now;
}

#[async_trait::async_trait]
impl HabitStore for MemoryHabitStore {
    async fn create(
        &self,
        user: UserId,
        f: &HabitFields,
        write: Write,
    ) -> Result<Habit, StoreError> {
        let mut s = self.lock();
        s.last_id += 1;
        let mut habit = Habit {
            id: s.last_id,
            name: String::new(),
            description: None,
            schedule: f.schedule().clone(),
            archived: false,
            created_at: write.now,
            updated_at: write.now,
        };
        apply(&mut habit, f, write.now);
        s.habits.push((
            user,
            HabitHistory {
                habit: habit.clone(),
                completions: BTreeSet::new(),
                skips: BTreeSet::new(),
            },
        ));
        s.events.push((user, write.event.name));
        Ok(habit)
    }

    async fn list(
        &self,
        user: UserId,
        archived: Option<bool>,
        limit: u32,
    ) -> Result<Vec<Habit>, StoreError> {
        let s = self.lock();
        Ok(s.habits
            .iter()
            .filter(|(u, h)| *u == user && archived.is_none_or(|a| h.habit.archived == a))
            .map(|(_, h)| h.habit.clone())
            .take(limit as usize)
            .collect())
    }

    async fn get(&self, user: UserId, id: i64) -> Result<Habit, StoreError> {
        Ok(self.lock().find(user, id)?.habit.clone())
    }

    async fn update(
        &self,
        user: UserId,
        id: i64,
        f: &HabitFields,
        write: Write,
    ) -> Result<Habit, StoreError> {
        let mut s = self.lock();
        let h = s.find(user, id)?;
        apply(&mut h.habit, f, write.now);
        let habit = h.habit.clone();
        s.events.push((user, write.event.name));
        Ok(habit)
    }

    async fn delete(
        &self,
        user: UserId,
        id: i64,
        event: Event,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        s.find(user, id)?;
        s.habits.retain(|(u, h)| !(*u == user && h.habit.id == id));
        s.events.push((user, event.name));
        Ok(())
    }

    async fn mark(
        &self,
        user: UserId,
        day: HabitDay,
        skip: bool,
        write: Write,
    ) -> Result<(HabitDay, bool), StoreError> {
        let mut s = self.lock();
        let h = s.find(user, day.habit_id)?;
        let set = if skip {
            &mut h.skips
        } else {
            &mut h.completions
        };
        if !set.insert(day.date) {
            return Ok((day, false));
        }
        s.events.push((user, write.event.name));
        Ok((day, true))
    }

    async fn unmark(
        &self,
        user: UserId,
        day: HabitDay,
        skip: bool,
        event: Event,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let h = s.find(user, day.habit_id)?;
        let set = if skip {
            &mut h.skips
        } else {
            &mut h.completions
        };
        if !set.remove(&day.date) {
            return Err(StoreError::NotFound);
        }
        s.events.push((user, event.name));
        Ok(())
    }

    async fn completions(
        &self,
        user: UserId,
        id: i64,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        limit: Limit,
    ) -> Result<Vec<NaiveDate>, StoreError> {
        let mut s = self.lock();
        let h = s.find(user, id)?;
        Ok(h.completions
            .iter()
            .rev()
            .filter(|d| from.is_none_or(|f| **d >= f) && to.is_none_or(|t| **d <= t))
            .take(limit.get() as usize)
            .copied()
            .collect())
    }

    async fn histories(&self, user: UserId) -> Result<Vec<HabitHistory>, StoreError> {
        let s = self.lock();
        Ok(s.habits
            .iter()
            .filter(|(u, h)| *u == user && !h.habit.archived)
            .map(|(_, h)| h.clone())
            .collect())
    }

    async fn week_start(&self, _user: UserId) -> Result<WeekStart, StoreError> {
        Ok(self.lock().week_start)
    }
}
