//! Ayubi habits: things a person means to do on a schedule, and how well they keep it.
//!
//! Owns habits (name, description, schedule: `daily`, `weekdays` or `times_per_week`),
//! their completions (one per habit and day) and skips, and the streak and completion-rate
//! rules — pure functions over calendar dates in the user's time zone ([`streak`]), so
//! daylight-saving changes and a user who moves between zones cannot break them. Every
//! write is recorded in the change log (`habit:created|updated|deleted|completed|
//! uncompleted|skipped|unskipped`).
//!
//! # Example
//!
//! Streaks are pure functions of the days done, over local dates:
//!
//! ```
//! use ayubi_habits::streak::Track;
//! use ayubi_habits::{Schedule, WeekStart};
//! use chrono::NaiveDate;
//! use std::collections::BTreeSet;
//!
//! let day = |d: &str| d.parse::<NaiveDate>().unwrap();
//! let done: BTreeSet<NaiveDate> = ["2026-12-05", "2026-12-06", "2026-12-07"].map(day).into();
//! let track = Track {
//!     schedule: &Schedule::Daily,
//!     created: day("2026-12-01"),
//!     completions: &done,
//!     skips: &BTreeSet::new(),
//!     week_start: WeekStart::Monday,
//! };
//! assert_eq!(track.current_streak(day("2026-12-07")), 3);
//! assert!(track.completed_today(day("2026-12-07")));
//! ```

#![warn(missing_docs)]

pub mod error;
pub mod events;
pub mod model;
pub mod ports;
pub mod service;
pub mod streak;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{HabitError, Result};
pub use model::*;
pub use service::HabitService;
