//! Sport's entries, goals and stats. Inputs are parsed into bounded values; a value that
//! exists is within its bounds.

use crate::error::{Result, invalid};
use chrono::{DateTime, NaiveDate, Utc};

fn bounded(field: &'static str, v: i64, lo: i64, hi: i64) -> Result<i32> {
    if (lo..=hi).contains(&v) {
        // lo..=hi lies within i32 for every bound used here.
        Ok(i32::try_from(v).unwrap_or(i32::MAX))
    } else {
        Err(invalid(field, format!("must be between {lo} and {hi}")))
    }
}

/// A trimmed, non-blank name of 1–255 characters (meals, workouts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryName(String);

impl EntryName {
    /// Parses a name.
    ///
    /// # Errors
    /// `Invalid` on `name` when blank or longer than 255 characters.
    pub fn parse(raw: &str) -> Result<Self> {
        // The length as sent (the API document can state that one), emptiness once trimmed.
        let s = raw.trim();
        if s.is_empty() || raw.chars().count() > 255 {
            return Err(invalid("name", "must be between 1 and 255 characters"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Grams with one decimal place, 0–2000, held as tenths of a gram so sums are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grams(i32);

impl Grams {
    /// Parses a JSON number of grams.
    ///
    /// # Errors
    /// `Invalid` on `field` when outside 0–2000 or with more than one decimal place.
    pub fn parse(field: &'static str, grams: f64) -> Result<Self> {
        if !grams.is_finite() || !(0.0..=2000.0).contains(&grams) {
            return Err(invalid(field, "must be between 0 and 2000"));
        }
        let tenths = (grams * 10.0).round();
        // The error of a binary double is relative: 0.3 is 2.9999999999999996 tenths, but
        // 5e-289 is no multiple of a tenth however close it is to 0.
        let error = (tenths - grams * 10.0).abs();
        if error > 1e-6_f64.min(1e-9 * (grams * 10.0).abs()) {
            return Err(invalid(field, "must have at most one decimal place"));
        }
        // 0..=20000 fits i32.
        Ok(Self(tenths as i32))
    }

    /// From stored tenths of a gram.
    #[must_use]
    pub fn from_tenths(tenths: i32) -> Self {
        Self(tenths)
    }

    /// Tenths of a gram.
    #[must_use]
    pub fn tenths(self) -> i32 {
        self.0
    }

    /// Grams, for display (exact to one decimal).
    #[must_use]
    pub fn grams(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

/// Sums of tenths of a gram (a range of days can exceed `i32`).
#[must_use]
pub fn tenths_to_grams(tenths: i64) -> f64 {
    tenths as f64 / 10.0
}

/// A logged glass of water. Its serde form (these four fields, in this order) is the one
/// an adapter writes for [`crate::ports::SportStore::list_water_json`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WaterEntry {
    /// Server-assigned id.
    pub id: i64,
    /// The day it counts for.
    pub date: NaiveDate,
    /// Millilitres, 1–10000.
    pub ml: i32,
    /// When it was logged.
    pub created_at: DateTime<Utc>,
}

/// A list as the store answered it: entries, or the same entries already serialized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed<T> {
    /// The entries.
    Entries(Vec<T>),
    /// The entries as a JSON array of their serde form, written by the store itself.
    Json(Vec<u8>),
}

/// A new water entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWater {
    /// The day.
    date: NaiveDate,
    /// Millilitres.
    ml: i32,
}

impl NewWater {
    /// Parses `ml` (1–10000).
    ///
    /// # Errors
    /// `Invalid` on `ml`.
    pub fn new(date: NaiveDate, ml: i64) -> Result<Self> {
        Ok(Self {
            date,
            ml: bounded("ml", ml, 1, 10_000)?,
        })
    }

    /// The day.
    #[must_use]
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// Millilitres.
    #[must_use]
    pub fn ml(&self) -> i32 {
        self.ml
    }

    /// The same entry on `day`.
    #[must_use]
    pub fn on(mut self, day: NaiveDate) -> Self {
        self.date = day;
        self
    }
}

/// A logged meal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoodEntry {
    /// Server-assigned id.
    pub id: i64,
    /// The day.
    pub date: NaiveDate,
    /// What it was.
    pub name: String,
    /// Energy, 0–20000 kcal.
    pub kcal: i32,
    /// Protein.
    pub protein: Option<Grams>,
    /// Carbohydrates.
    pub carbs: Option<Grams>,
    /// Fat.
    pub fat: Option<Grams>,
    /// When it was logged.
    pub created_at: DateTime<Utc>,
}

/// A new meal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFood {
    /// The day.
    date: NaiveDate,
    /// What it was.
    name: EntryName,
    /// Energy.
    kcal: i32,
    /// Protein.
    protein: Option<Grams>,
    /// Carbohydrates.
    carbs: Option<Grams>,
    /// Fat.
    fat: Option<Grams>,
}

impl NewFood {
    /// Parses a meal: `name` 1–255, `kcal` 0–20000, macros 0–2000 g.
    ///
    /// # Errors
    /// `Invalid` naming the first field at fault.
    pub fn new(
        date: NaiveDate,
        name: &str,
        kcal: i64,
        protein: Option<f64>,
        carbs: Option<f64>,
        fat: Option<f64>,
    ) -> Result<Self> {
        Ok(Self {
            date,
            name: EntryName::parse(name)?,
            kcal: bounded("kcal", kcal, 0, 20_000)?,
            protein: protein.map(|g| Grams::parse("protein", g)).transpose()?,
            carbs: carbs.map(|g| Grams::parse("carbs", g)).transpose()?,
            fat: fat.map(|g| Grams::parse("fat", g)).transpose()?,
        })
    }

    /// The day.
    #[must_use]
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// What it was.
    #[must_use]
    pub fn name(&self) -> &EntryName {
        &self.name
    }

    /// Energy.
    #[must_use]
    pub fn kcal(&self) -> i32 {
        self.kcal
    }

    /// Protein.
    #[must_use]
    pub fn protein(&self) -> Option<Grams> {
        self.protein
    }

    /// Carbohydrates.
    #[must_use]
    pub fn carbs(&self) -> Option<Grams> {
        self.carbs
    }

    /// Fat.
    #[must_use]
    pub fn fat(&self) -> Option<Grams> {
        self.fat
    }

    /// The same entry on `day`.
    #[must_use]
    pub fn on(mut self, day: NaiveDate) -> Self {
        self.date = day;
        self
    }
}

/// A logged workout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkoutEntry {
    /// Server-assigned id.
    pub id: i64,
    /// The day.
    pub date: NaiveDate,
    /// What it was.
    pub name: String,
    /// Minutes, 1–1440.
    pub duration_min: i32,
    /// Energy burned, 0–20000 kcal.
    pub kcal_burned: i32,
    /// When it was logged.
    pub created_at: DateTime<Utc>,
}

/// A new workout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWorkout {
    /// The day.
    date: NaiveDate,
    /// What it was.
    name: EntryName,
    /// Minutes.
    duration_min: i32,
    /// Energy burned.
    kcal_burned: i32,
}

impl NewWorkout {
    /// Parses a workout: `name` 1–255, `duration_min` 1–1440, `kcal_burned` 0–20000.
    ///
    /// # Errors
    /// `Invalid` naming the first field at fault.
    pub fn new(date: NaiveDate, name: &str, duration_min: i64, kcal_burned: i64) -> Result<Self> {
        Ok(Self {
            date,
            name: EntryName::parse(name)?,
            duration_min: bounded("duration_min", duration_min, 1, 1440)?,
            kcal_burned: bounded("kcal_burned", kcal_burned, 0, 20_000)?,
        })
    }

    /// The day.
    #[must_use]
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// What it was.
    #[must_use]
    pub fn name(&self) -> &EntryName {
        &self.name
    }

    /// Minutes.
    #[must_use]
    pub fn duration_min(&self) -> i32 {
        self.duration_min
    }

    /// Energy burned.
    #[must_use]
    pub fn kcal_burned(&self) -> i32 {
        self.kcal_burned
    }

    /// The same entry on `day`.
    #[must_use]
    pub fn on(mut self, day: NaiveDate) -> Self {
        self.date = day;
        self
    }
}

/// Daily goals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Goals {
    /// Water a day, 250–20000 ml (default 3000).
    pub water_ml_per_day: i32,
    /// Energy a day, 500–10000 kcal (default 2200).
    pub kcal_per_day: i32,
    /// Last change; `None` while the defaults apply.
    pub updated_at: Option<DateTime<Utc>>,
}

impl Goals {
    /// The goals of a user who never set any.
    pub const DEFAULT: Self = Self {
        water_ml_per_day: 3000,
        kcal_per_day: 2200,
        updated_at: None,
    };

    /// Parses new goals.
    ///
    /// # Errors
    /// `Invalid` naming the field out of range.
    pub fn new(water_ml_per_day: i64, kcal_per_day: i64) -> Result<Self> {
        Ok(Self {
            water_ml_per_day: bounded("water_ml_per_day", water_ml_per_day, 250, 20_000)?,
            kcal_per_day: bounded("kcal_per_day", kcal_per_day, 500, 10_000)?,
            updated_at: None,
        })
    }
}

/// Totals of one day, as the store sums them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayTotals {
    /// Water drunk (ml).
    pub water_ml: i64,
    /// Energy eaten (kcal).
    pub kcal_in: i64,
    /// Energy burned (kcal).
    pub kcal_burned: i64,
    /// Protein (tenths of a gram).
    pub protein_tenths: i64,
    /// Carbohydrates (tenths of a gram).
    pub carbs_tenths: i64,
    /// Fat (tenths of a gram).
    pub fat_tenths: i64,
}

/// One day against the goals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayStats {
    /// The day.
    pub date: NaiveDate,
    /// Its totals.
    pub totals: DayTotals,
    /// The goals it is measured against (the current goals).
    pub goals: Goals,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_named() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert!(NewWater::new(d, 1).is_ok() && NewWater::new(d, 10_000).is_ok());
        for bad in [0, 10_001, -5, i64::MAX] {
            let err = NewWater::new(d, bad).unwrap_err().to_string();
            assert!(err.starts_with("ml:"), "{err}");
        }
        assert!(
            NewWorkout::new(d, "run", 1441, 0)
                .unwrap_err()
                .to_string()
                .starts_with("duration_min")
        );
        assert!(
            NewFood::new(d, " ", 0, None, None, None)
                .unwrap_err()
                .to_string()
                .starts_with("name")
        );
        assert!(
            Goals::new(249, 2000)
                .unwrap_err()
                .to_string()
                .starts_with("water_ml_per_day")
        );
        assert!(
            Goals::new(3000, 10_001)
                .unwrap_err()
                .to_string()
                .starts_with("kcal_per_day")
        );
    }

    #[test]
    fn grams_keep_one_decimal_exactly() {
        assert_eq!(Grams::parse("fat", 12.5).unwrap().tenths(), 125);
        assert_eq!(Grams::parse("fat", 0.1).unwrap().grams(), 0.1);
        assert_eq!(Grams::parse("fat", 2000.0).unwrap().tenths(), 20_000);
        assert!(Grams::parse("fat", 12.25).is_err());
        assert!(
            Grams::parse("fat", 5.2e-289).is_err(),
            "not a tenth, however small"
        );
        assert_eq!(Grams::parse("fat", 0.3).map(Grams::tenths).ok(), Some(3));
        assert_eq!(Grams::parse("fat", 0.0).map(Grams::tenths).ok(), Some(0));
        assert!(Grams::parse("fat", -0.1).is_err());
        assert!(Grams::parse("fat", 2000.1).is_err());
        assert!(Grams::parse("fat", f64::NAN).is_err());
    }
}
