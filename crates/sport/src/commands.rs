//! The writes of sport, one command each: built only through a validating constructor
//! (`AddWater::new(None, 250)?`), so a service never sees an invalid one. The day may be
//! left out; the service then uses today in the user's time zone.

use crate::error::Result;
use crate::model::{Goals, NewFood, NewWater, NewWorkout};
use chrono::NaiveDate;

/// Log water.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddWater {
    date: Option<NaiveDate>,
    water: NewWater,
}

impl AddWater {
    /// `ml` millilitres (1–10000) on `date` (default: today).
    ///
    /// # Errors
    /// `Invalid` on `ml`.
    pub fn new(date: Option<NaiveDate>, ml: i64) -> Result<Self> {
        Ok(Self {
            date,
            water: NewWater::new(date.unwrap_or_default(), ml)?,
        })
    }

    /// The day asked for, if any.
    #[must_use]
    pub fn date(&self) -> Option<NaiveDate> {
        self.date
    }

    /// The entry to store on `day`.
    pub(crate) fn on(self, day: NaiveDate) -> NewWater {
        self.water.on(day)
    }
}

/// Log a meal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddFood {
    date: Option<NaiveDate>,
    food: NewFood,
}

/// A meal's macronutrients in grams (0–2000 each, one decimal kept).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Macros {
    /// Protein.
    pub protein: Option<f64>,
    /// Carbohydrates.
    pub carbs: Option<f64>,
    /// Fat.
    pub fat: Option<f64>,
}

impl AddFood {
    /// `name` (1–255 characters) with `kcal` (0–20000) and `macros` on `date`
    /// (default: today).
    ///
    /// # Errors
    /// `Invalid` naming the first field at fault.
    pub fn new(date: Option<NaiveDate>, name: &str, kcal: i64, macros: Macros) -> Result<Self> {
        Ok(Self {
            date,
            food: NewFood::new(
                date.unwrap_or_default(),
                name,
                kcal,
                macros.protein,
                macros.carbs,
                macros.fat,
            )?,
        })
    }

    /// The day asked for, if any.
    #[must_use]
    pub fn date(&self) -> Option<NaiveDate> {
        self.date
    }

    pub(crate) fn on(self, day: NaiveDate) -> NewFood {
        self.food.on(day)
    }
}

/// Log a workout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddWorkout {
    date: Option<NaiveDate>,
    workout: NewWorkout,
}

impl AddWorkout {
    /// `name` (1–255 characters), `duration_min` (1–1440) and `kcal_burned` (0–20000) on
    /// `date` (default: today).
    ///
    /// # Errors
    /// `Invalid` naming the first field at fault.
    pub fn new(
        date: Option<NaiveDate>,
        name: &str,
        duration_min: i64,
        kcal_burned: i64,
    ) -> Result<Self> {
        Ok(Self {
            date,
            workout: NewWorkout::new(date.unwrap_or_default(), name, duration_min, kcal_burned)?,
        })
    }

    /// The day asked for, if any.
    #[must_use]
    pub fn date(&self) -> Option<NaiveDate> {
        self.date
    }

    pub(crate) fn on(self, day: NaiveDate) -> NewWorkout {
        self.workout.on(day)
    }
}

/// Replace the daily goals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetGoals {
    goals: Goals,
}

impl SetGoals {
    /// `water_ml_per_day` (250–20000) and `kcal_per_day` (500–10000).
    ///
    /// # Errors
    /// `Invalid` naming the field.
    pub fn new(water_ml_per_day: i64, kcal_per_day: i64) -> Result<Self> {
        Ok(Self {
            goals: Goals::new(water_ml_per_day, kcal_per_day)?,
        })
    }

    pub(crate) fn goals(self) -> Goals {
        self.goals
    }
}
