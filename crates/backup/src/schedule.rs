//! Backup schedules: how often, how many to keep, when the next run is due.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// How often a scheduled backup runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    /// Every 24 hours.
    Daily,
    /// Every 7 days.
    Weekly,
    /// Never.
    Off,
}

impl Interval {
    /// Parses `daily` / `weekly` / `off`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "daily" => Some(Self::Daily),
            "weekly" => Some(Self::Weekly),
            "off" => Some(Self::Off),
            _ => None,
        }
    }

    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Off => "off",
        }
    }

    /// The period (`None` when off).
    #[must_use]
    pub fn period(self) -> Option<Duration> {
        match self {
            Self::Daily => Some(Duration::days(1)),
            Self::Weekly => Some(Duration::days(7)),
            Self::Off => None,
        }
    }
}

/// How many scheduled backups to keep: 1–100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Keep(u8);

impl Keep {
    /// Kept when the user does not say: a week of daily backups.
    pub const DEFAULT: Self = Self(7);

    /// Parses 1–100.
    #[must_use]
    pub fn new(n: i64) -> Option<Self> {
        u8::try_from(n)
            .ok()
            .filter(|n| (1..=100).contains(n))
            .map(Self)
    }

    /// The number.
    #[must_use]
    pub fn get(self) -> u8 {
        self.0
    }
}

impl Default for Keep {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A user's schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// How often.
    pub interval: Interval,
    /// How many scheduled backups to keep.
    pub keep: Keep,
    /// When the next run is due (`None` when off).
    pub next_run_at: Option<DateTime<Utc>>,
}

impl Schedule {
    /// No schedule.
    pub const OFF: Self = Self {
        interval: Interval::Off,
        keep: Keep::DEFAULT,
        next_run_at: None,
    };

    /// The schedule after the user sets `interval` and `keep` at `now`: an unchanged
    /// interval keeps its due time; a new one is first due one period from now.
    #[must_use]
    pub fn set(self, interval: Interval, keep: Keep, now: DateTime<Utc>) -> Self {
        let next_run_at = if interval == self.interval && self.next_run_at.is_some() {
            self.next_run_at
        } else {
            interval.period().map(|p| now + p)
        };
        Self {
            interval,
            keep,
            next_run_at,
        }
    }
}

/// The next due time after a run that was due at `due` and ran at `now`: the first
/// `due + k × period` after `now`. However long the app was down, one run covers
/// everything missed, and the schedule keeps its time of day.
#[must_use]
pub fn next_after(
    interval: Interval,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let period = interval.period()?;
    let behind = (now - due).num_seconds().max(0);
    let periods = behind / period.num_seconds() + 1;
    Some(due + period * i32::try_from(periods).unwrap_or(i32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap()
    }

    #[test]
    fn a_missed_run_is_not_repeated_and_keeps_its_hour() {
        // Due on the 1st at 03:00, the app was down until the 4th at 10:00.
        assert_eq!(
            next_after(Interval::Daily, at(1, 3), at(4, 10)),
            Some(at(5, 3))
        );
        // On time.
        assert_eq!(
            next_after(Interval::Daily, at(1, 3), at(1, 3)),
            Some(at(2, 3))
        );
        assert_eq!(
            next_after(Interval::Weekly, at(1, 3), at(9, 3)),
            Some(at(15, 3))
        );
        assert_eq!(next_after(Interval::Off, at(1, 3), at(1, 3)), None);
    }

    #[test]
    fn setting_a_schedule() {
        let keep = Keep::new(3).unwrap();
        let s = Schedule::OFF.set(Interval::Daily, keep, at(1, 3));
        assert_eq!(s.next_run_at, Some(at(2, 3)));
        // Changing only `keep` leaves the due time.
        assert_eq!(
            s.set(Interval::Daily, Keep::new(5).unwrap(), at(1, 9))
                .next_run_at,
            Some(at(2, 3))
        );
        assert_eq!(
            s.set(Interval::Weekly, keep, at(1, 9)).next_run_at,
            Some(at(8, 9))
        );
        assert_eq!(s.set(Interval::Off, keep, at(1, 9)).next_run_at, None);
        assert!(Keep::new(0).is_none() && Keep::new(101).is_none() && Keep::new(100).is_some());
    }
}
