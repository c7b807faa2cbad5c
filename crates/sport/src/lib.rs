//! Ayubi sport: what a person drinks, eats and burns, against daily goals.
//!
//! Owns the water, food and workout logs (one row per entry, each on a calendar date in
//! the user's time zone), the daily goals (water in ml, energy in kcal) and the per-day
//! statistics that compare the logs with the goals. Every write is recorded in the user's
//! change log (events `water:added|deleted`, `food:added|deleted`, `workout:added|deleted`,
//! `goals:updated`). It does not own the user's time zone (profile) or the sync delivery.
//!
//! Quantities are integers (ml, kcal, minutes, and macros in tenths of a gram), so sums
//! are exact.

#![warn(missing_docs)]

pub mod commands;
pub mod error;
pub mod events;
pub mod model;
pub mod ports;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use commands::{AddFood, AddWater, AddWorkout, Macros, SetGoals};
pub use error::{Result, SportError};
pub use model::*;
pub use service::SportService;
