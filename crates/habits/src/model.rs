//! Habits, schedules, completions and skips.

use crate::error::{Result, invalid};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeSet;

/// When a habit is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every day.
    Daily,
    /// On these weekdays (at least one).
    Weekdays(BTreeSet<WeekdayKey>),
    /// This many days a week (1–7), any days.
    TimesPerWeek(u8),
}

/// A weekday, ordered Monday first (for stable storage and output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WeekdayKey(pub u8);

impl WeekdayKey {
    const NAMES: [&'static str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    /// Parses `mon`…`sun`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .and_then(|i| u8::try_from(i).ok())
            .map(Self)
    }

    /// The weekday of a date.
    #[must_use]
    pub fn of(date: NaiveDate) -> Self {
        use chrono::Datelike;
        Self(u8::try_from(date.weekday().num_days_from_monday()).unwrap_or(0))
    }

    /// `mon`…`sun`.
    #[must_use]
    pub fn name(self) -> &'static str {
        Self::NAMES[usize::from(self.0 % 7)]
    }
}

impl Schedule {
    /// Parses a schedule as clients send it.
    ///
    /// # Errors
    /// `Invalid` on `schedule` for an unknown kind, missing or unknown days, or `times`
    /// outside 1–7.
    pub fn parse(kind: &str, days: Option<&[String]>, times: Option<i64>) -> Result<Self> {
        match kind {
            "daily" => Ok(Self::Daily),
            "weekdays" => {
                let days = days.unwrap_or_default();
                let parsed: Option<BTreeSet<_>> =
                    days.iter().map(|d| WeekdayKey::parse(d)).collect();
                match parsed {
                    Some(set) if !set.is_empty() => Ok(Self::Weekdays(set)),
                    _ => Err(invalid(
                        "schedule",
                        "days must be one or more of mon, tue, wed, thu, fri, sat, sun",
                    )),
                }
            }
            "times_per_week" => match times {
                Some(t @ 1..=7) => Ok(Self::TimesPerWeek(u8::try_from(t).unwrap_or(1))),
                _ => Err(invalid("schedule", "times must be between 1 and 7")),
            },
            _ => Err(invalid(
                "schedule",
                "kind must be daily, weekdays or times_per_week",
            )),
        }
    }

    /// Whether a single day is due (every day for `times_per_week`).
    #[must_use]
    pub fn includes(&self, date: NaiveDate) -> bool {
        match self {
            Self::Daily | Self::TimesPerWeek(_) => true,
            Self::Weekdays(days) => days.contains(&WeekdayKey::of(date)),
        }
    }
}

/// The first day of a week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeekStart {
    /// ISO weeks.
    #[default]
    Monday,
    /// US weeks.
    Sunday,
}

impl WeekStart {
    /// The first day of the week containing `date`.
    #[must_use]
    pub fn week_of(self, date: NaiveDate) -> NaiveDate {
        use chrono::Datelike;
        let back = match self {
            Self::Monday => date.weekday().num_days_from_monday(),
            Self::Sunday => date.weekday().num_days_from_sunday(),
        };
        date - chrono::Duration::days(i64::from(back))
    }

    /// From the `week_start` setting (`sunday`; anything else is Monday).
    #[must_use]
    pub fn from_setting(s: Option<&str>) -> Self {
        if s == Some("sunday") {
            Self::Sunday
        } else {
            Self::Monday
        }
    }
}

/// A habit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Habit {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Schedule.
    pub schedule: Schedule,
    /// Archived habits are kept but not tracked in stats.
    pub archived: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A habit's editable fields, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HabitFields {
    name: String,
    description: Option<String>,
    schedule: Schedule,
    archived: bool,
}

impl HabitFields {
    /// Parses the fields.
    ///
    /// # Errors
    /// `Invalid` on `name` or `description`.
    pub fn new(
        name: &str,
        description: Option<String>,
        schedule: Schedule,
        archived: bool,
    ) -> Result<Self> {
        // The length as sent (the API document can state that one), emptiness once trimmed.
        let sent = name.chars().count();
        let name = name.trim();
        if name.is_empty() || sent > 100 {
            return Err(invalid(
                "name",
                "must be between 1 and 100 characters and not blank",
            ));
        }
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 2000)
        {
            return Err(invalid("description", "must be at most 2000 characters"));
        }
        Ok(Self {
            name: name.to_owned(),
            description,
            schedule,
            archived,
        })
    }

    /// 1–100 characters, trimmed, not blank.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// ≤ 2000 characters.
    #[must_use]
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Schedule (default daily).
    #[must_use]
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Archived.
    #[must_use]
    pub fn archived(&self) -> bool {
        self.archived
    }
}

/// A completed or skipped day of a habit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HabitDay {
    /// The habit.
    pub habit_id: i64,
    /// The day.
    pub date: NaiveDate,
}

/// A habit with its whole history, for stats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HabitHistory {
    /// The habit.
    pub habit: Habit,
    /// Completed days.
    pub completions: BTreeSet<NaiveDate>,
    /// Skipped days.
    pub skips: BTreeSet<NaiveDate>,
}
