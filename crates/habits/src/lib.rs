//! Ayubi habits: things a person means to do on a schedule, and how well they keep it.
//!
//! Owns habits (name, description, schedule: `daily`, `weekdays` or `times_per_week`),
//! their completions (one per habit and day) and skips, and the streak and completion-rate
//! rules — pure functions over calendar dates in the user's time zone ([`streak`]), so
//! daylight-saving changes and a user who moves between zones cannot break them. Every
//! write is recorded in the change log (`habit:created|updated|deleted|completed|
//! uncompleted|skipped|unskipped`).

#![warn(missing_docs)]

pub mod error;
pub mod events;
pub mod model;
pub mod ports;
pub mod service;
pub mod streak;

pub use error::{HabitError, Result};
pub use model::*;
pub use service::HabitService;
