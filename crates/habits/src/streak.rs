//! Streaks and completion rates: pure functions over calendar dates.
//!
//! Everything here works on `NaiveDate`s that are already local to the user (a
//! completion's date is "today in the user's time zone" when it was made, and `today` is
//! computed the same way). Days are counted as dates, never as 24-hour spans, so a
//! 23- or 25-hour daylight-saving day is one day, and a user who changes time zone keeps
//! the days they completed.
//!
//! Rules:
//! - A *period* is a day for `daily` and `weekdays`, a week (from the `week_start`
//!   setting) for `times_per_week`.
//! - A day the schedule does not include is not a period: it never breaks a streak.
//! - A period is *kept* when completed (a week: `times` completions), *skipped* when a
//!   skip covers it (a week: completions + skips ≥ `times`), *missed* otherwise.
//! - Kept periods extend a streak, skipped ones neither extend nor break it, missed ones
//!   break it. The running period (today, this week) breaks nothing until it is over.
//! - History starts at the habit's creation date, or at its first completion or skip if
//!   one was backfilled earlier.

use crate::model::{Schedule, WeekStart};
use chrono::{Duration, NaiveDate};
use std::collections::BTreeSet;

/// The state of one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Done.
    Kept,
    /// Excused by a skip.
    Skipped,
    /// Not done, and over.
    Missed,
    /// Not done yet, still running (today / this week).
    Running,
}

/// What the rules need to know about a habit.
#[derive(Debug, Clone, Copy)]
pub struct Track<'a> {
    /// The schedule.
    pub schedule: &'a Schedule,
    /// The local date the habit was created.
    pub created: NaiveDate,
    /// Completed days.
    pub completions: &'a BTreeSet<NaiveDate>,
    /// Skipped days.
    pub skips: &'a BTreeSet<NaiveDate>,
    /// The first day of the week.
    pub week_start: WeekStart,
}

impl Track<'_> {
    fn start(&self) -> NaiveDate {
        [
            Some(self.created),
            self.completions.first().copied(),
            self.skips.first().copied(),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(self.created)
    }

    /// Every period from the start of history to `today`, oldest first.
    #[must_use]
    pub fn periods(&self, today: NaiveDate) -> Vec<Period> {
        let start = self.start();
        if today < start {
            return Vec::new();
        }
        match self.schedule {
            Schedule::TimesPerWeek(times) => {
                let times = usize::from(*times);
                let mut out = Vec::new();
                let mut week = self.week_start.week_of(start);
                let current = self.week_start.week_of(today);
                while week <= current {
                    let end = week + Duration::days(6);
                    let in_week = |set: &BTreeSet<NaiveDate>| {
                        set.range(week..=end).filter(|d| **d <= today).count()
                    };
                    let (done, skipped) = (in_week(self.completions), in_week(self.skips));
                    out.push(if done >= times {
                        Period::Kept
                    } else if week == current {
                        Period::Running
                    } else if done + skipped >= times {
                        Period::Skipped
                    } else {
                        Period::Missed
                    });
                    week += Duration::days(7);
                }
                out
            }
            schedule => start
                .iter_days()
                .take_while(|d| *d <= today)
                .filter(|d| schedule.includes(*d))
                .map(|d| {
                    if self.completions.contains(&d) {
                        Period::Kept
                    } else if self.skips.contains(&d) {
                        Period::Skipped
                    } else if d == today {
                        Period::Running
                    } else {
                        Period::Missed
                    }
                })
                .collect(),
        }
    }

    /// Kept periods back from today, skipping skipped ones, up to the first missed one.
    #[must_use]
    pub fn current_streak(&self, today: NaiveDate) -> u32 {
        let mut streak = 0;
        for p in self.periods(today).iter().rev() {
            match p {
                Period::Kept => streak += 1,
                Period::Skipped | Period::Running => {}
                Period::Missed => break,
            }
        }
        streak
    }

    /// The longest run of kept periods (skips do not break it).
    #[must_use]
    pub fn longest_streak(&self, today: NaiveDate) -> u32 {
        let (mut best, mut run) = (0, 0);
        for p in self.periods(today) {
            match p {
                Period::Kept => {
                    run += 1;
                    best = best.max(run);
                }
                Period::Skipped | Period::Running => {}
                Period::Missed => run = 0,
            }
        }
        best
    }

    /// Whether today is completed.
    #[must_use]
    pub fn completed_today(&self, today: NaiveDate) -> bool {
        self.completions.contains(&today)
    }

    /// The fraction (0–1) of the scheduled days of the last 30 (today included, days
    /// before history started left out, skipped days excused) that were completed. For
    /// `times_per_week`, `times` of every 7 days are due.
    #[must_use]
    pub fn completion_rate_30d(&self, today: NaiveDate) -> f64 {
        let from = (today - Duration::days(29)).max(self.start());
        if from > today {
            return 0.0;
        }
        let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= today).collect();
        let rate = match self.schedule {
            Schedule::TimesPerWeek(times) => {
                let done = days.iter().filter(|d| self.completions.contains(d)).count() as f64;
                let skipped = days.iter().filter(|d| self.skips.contains(d)).count() as f64;
                let due = (days.len() as f64 * f64::from(*times) / 7.0 - skipped).max(0.0);
                if due == 0.0 {
                    0.0
                } else {
                    (done / due).min(1.0)
                }
            }
            schedule => {
                let due: Vec<_> = days
                    .iter()
                    .filter(|d| {
                        // A skipped day is excused unless it was completed anyway.
                        schedule.includes(**d)
                            && (self.completions.contains(d) || !self.skips.contains(d))
                    })
                    .collect();
                if due.is_empty() {
                    0.0
                } else {
                    due.iter().filter(|d| self.completions.contains(d)).count() as f64
                        / due.len() as f64
                }
            }
        };
        (rate * 1000.0).round() / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::WeekdayKey;
    use ayubi_kernel::TimeZone;
    use chrono::{DateTime, Utc};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn set(days: &[&str]) -> BTreeSet<NaiveDate> {
        days.iter().map(|s| d(s)).collect()
    }

    fn track<'a>(
        schedule: &'a Schedule,
        created: &str,
        done: &'a BTreeSet<NaiveDate>,
        skips: &'a BTreeSet<NaiveDate>,
    ) -> Track<'a> {
        Track {
            schedule,
            created: d(created),
            completions: done,
            skips,
            week_start: WeekStart::Monday,
        }
    }

    #[test]
    fn consecutive_days_make_a_streak_and_today_need_not_be_done_yet() {
        let done = set(&["2026-11-23", "2026-11-24", "2026-11-25"]);
        let none = BTreeSet::new();
        let t = track(&Schedule::Daily, "2026-11-20", &done, &none);
        assert_eq!(t.current_streak(d("2026-11-25")), 3);
        // The next morning, before completing: still 3 (today is running).
        assert_eq!(t.current_streak(d("2026-11-26")), 3);
        assert!(!t.completed_today(d("2026-11-26")));
        // A day later the 26th is missed: the streak is over.
        assert_eq!(t.current_streak(d("2026-11-27")), 0);
        assert_eq!(t.longest_streak(d("2026-11-27")), 3);
    }

    #[test]
    fn a_gap_breaks_the_streak() {
        let done = set(&["2026-11-20", "2026-11-21", "2026-11-23", "2026-11-24"]);
        let none = BTreeSet::new();
        let t = track(&Schedule::Daily, "2026-11-20", &done, &none);
        assert_eq!(t.current_streak(d("2026-11-24")), 2);
        assert_eq!(t.longest_streak(d("2026-11-24")), 2);
        assert_eq!(t.periods(d("2026-11-24"))[2], Period::Missed);
    }

    #[test]
    fn a_skipped_day_neither_breaks_nor_extends() {
        let done = set(&["2026-11-20", "2026-11-21", "2026-11-23"]);
        let skips = set(&["2026-11-22"]);
        let t = track(&Schedule::Daily, "2026-11-20", &done, &skips);
        assert_eq!(
            t.current_streak(d("2026-11-23")),
            3,
            "skip excused, not counted"
        );
        assert_eq!(t.longest_streak(d("2026-11-23")), 3);
        // 4 scheduled days, 1 excused: 3 of 3 done.
        assert_eq!(t.completion_rate_30d(d("2026-11-23")), 1.0);
    }

    #[test]
    fn a_day_the_schedule_does_not_include_never_breaks_it() {
        let schedule = Schedule::Weekdays(
            [
                WeekdayKey::parse("mon").unwrap(),
                WeekdayKey::parse("thu").unwrap(),
            ]
            .into(),
        );
        // 2026-11-16 Mon, 19 Thu, 23 Mon, 26 Thu.
        let done = set(&["2026-11-16", "2026-11-19", "2026-11-23"]);
        let none = BTreeSet::new();
        let t = track(&schedule, "2026-11-16", &done, &none);
        assert_eq!(
            t.current_streak(d("2026-11-25")),
            3,
            "Tue and Wed are not due"
        );
        assert_eq!(t.current_streak(d("2026-11-26")), 3, "Thursday is running");
        assert_eq!(t.current_streak(d("2026-11-27")), 0, "Thursday was missed");
        assert_eq!(t.completion_rate_30d(d("2026-11-25")), 1.0);
        // A completion on an unscheduled day neither counts nor hurts.
        let extra = set(&["2026-11-16", "2026-11-17", "2026-11-19"]);
        assert_eq!(
            track(&schedule, "2026-11-16", &extra, &none).current_streak(d("2026-11-19")),
            2
        );
    }

    #[test]
    fn times_per_week_counts_weeks() {
        let schedule = Schedule::TimesPerWeek(3);
        // Weeks (Monday start): 9–15 three times, 16–22 three times, 23–29 twice so far.
        let done = set(&[
            "2026-11-09",
            "2026-11-11",
            "2026-11-13",
            "2026-11-17",
            "2026-11-18",
            "2026-11-22",
            "2026-11-23",
            "2026-11-24",
        ]);
        let none = BTreeSet::new();
        let t = track(&schedule, "2026-11-09", &done, &none);
        assert_eq!(
            t.current_streak(d("2026-11-25")),
            2,
            "this week is still running"
        );
        assert_eq!(t.periods(d("2026-11-25")).last(), Some(&Period::Running));
        // With Sunday-start weeks the 22nd (a Sunday) moves into the next week.
        let sunday = Track {
            week_start: WeekStart::Sunday,
            ..t
        };
        assert_eq!(
            sunday.periods(d("2026-11-25")),
            vec![Period::Kept, Period::Missed, Period::Kept]
        );
        // Next week, had the running week stayed at two: it is missed.
        assert_eq!(t.current_streak(d("2026-12-01")), 0);
        assert_eq!(t.longest_streak(d("2026-12-01")), 2);
        // A skip can excuse a short week.
        let skips = set(&["2026-11-26"]);
        let excused = track(&schedule, "2026-11-09", &done, &skips);
        assert_eq!(excused.current_streak(d("2026-12-01")), 2);
    }

    #[test]
    fn daylight_saving_days_are_single_days() {
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // Spring forward on Sunday 2026-03-29 (a 23-hour day), back on 2026-10-25 (25 hours).
        // Completions just after local midnight and just before the next one.
        let days: BTreeSet<NaiveDate> = [
            at("2026-03-27T23:30:00Z"), // 00:30 on the 28th (CET)
            at("2026-03-28T23:10:00Z"), // 00:10 on the 29th, before the switch
            at("2026-03-29T21:50:00Z"), // 23:50 on the 29th (CEST)
            at("2026-03-30T22:30:00Z"), // 00:30 on the 31st
        ]
        .into_iter()
        .map(|t| berlin.today(t))
        .collect();
        assert_eq!(days, set(&["2026-03-28", "2026-03-29", "2026-03-31"]));
        let none = BTreeSet::new();
        let t = track(&Schedule::Daily, "2026-03-28", &days, &none);
        assert_eq!(
            t.current_streak(berlin.today(at("2026-03-30T21:00:00Z"))),
            2,
            "the 30th, still running"
        );
        assert_eq!(
            t.current_streak(berlin.today(at("2026-03-30T22:30:00Z"))),
            1,
            "the 30th was missed"
        );

        let autumn: BTreeSet<NaiveDate> = [
            at("2026-10-24T21:59:00Z"), // 23:59 on the 24th (CEST)
            at("2026-10-24T22:30:00Z"), // 00:30 on the 25th
            at("2026-10-25T22:59:00Z"), // 23:59 on the 25th (CET, the 25-hour day)
            at("2026-10-25T23:01:00Z"), // 00:01 on the 26th
        ]
        .into_iter()
        .map(|t| berlin.today(t))
        .collect();
        assert_eq!(autumn, set(&["2026-10-24", "2026-10-25", "2026-10-26"]));
        let t = track(&Schedule::Daily, "2026-10-24", &autumn, &none);
        assert_eq!(t.current_streak(d("2026-10-26")), 3);
        assert_eq!(t.longest_streak(d("2026-10-27")), 3);
    }

    #[test]
    fn a_user_who_changes_time_zone_keeps_their_days() {
        // Completed at 22:00 in Berlin on the 25th and 26th, then flew to Tokyo; it is now
        // 07:00 on the 27th there (still the 26th in Berlin).
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        let tokyo = TimeZone::parse("Asia/Tokyo").unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let done: BTreeSet<NaiveDate> = [at("2026-11-25T21:00:00Z"), at("2026-11-26T21:00:00Z")]
            .into_iter()
            .map(|t| berlin.today(t))
            .collect();
        let now = at("2026-11-26T22:00:00Z");
        assert_eq!(berlin.today(now), d("2026-11-26"));
        assert_eq!(tokyo.today(now), d("2026-11-27"));
        let none = BTreeSet::new();
        let t = track(&Schedule::Daily, "2026-11-25", &done, &none);
        assert_eq!(
            t.current_streak(tokyo.today(now)),
            2,
            "the 27th has only begun in Tokyo"
        );
        assert!(!t.completed_today(tokyo.today(now)));
        // Flying west instead (New York, still the 26th there): completed today.
        let ny = TimeZone::parse("America/New_York").unwrap();
        assert!(t.completed_today(ny.today(now)));
        assert_eq!(t.current_streak(ny.today(now)), 2);
    }

    #[test]
    fn completion_rate_counts_the_last_30_scheduled_days_since_creation() {
        let none = BTreeSet::new();
        // Created 9 days ago (10 days in the window), 5 completed.
        let done = set(&[
            "2026-11-17",
            "2026-11-19",
            "2026-11-21",
            "2026-11-23",
            "2026-11-25",
        ]);
        let t = track(&Schedule::Daily, "2026-11-17", &done, &none);
        assert_eq!(t.completion_rate_30d(d("2026-11-26")), 0.5);
        // Older completions fall out of the window.
        let old = set(&["2026-09-01", "2026-11-26"]);
        let t = track(&Schedule::Daily, "2026-09-01", &old, &none);
        assert_eq!(t.completion_rate_30d(d("2026-11-26")), 0.033);
        // times_per_week: 3 a week over 14 days is 6 due; 6 done is 1.0 (capped).
        let weekly = Schedule::TimesPerWeek(3);
        let done = set(&[
            "2026-11-13",
            "2026-11-14",
            "2026-11-15",
            "2026-11-20",
            "2026-11-21",
            "2026-11-22",
            "2026-11-23",
        ]);
        assert_eq!(
            track(&weekly, "2026-11-13", &done, &none).completion_rate_30d(d("2026-11-26")),
            1.0
        );
        // Nothing due yet: 0, not NaN.
        assert_eq!(
            track(&Schedule::Daily, "2026-11-27", &none, &none)
                .completion_rate_30d(d("2026-11-26")),
            0.0
        );
    }
}
