//! Ayubi settings and profile.
//!
//! Owns a user's settings — the known ones, validated (`timezone` IANA, `currency`
//! ISO 4217, `language` BCP 47, `week_start`, `units`), and free-form keys the frontend
//! keeps (`^[a-z][a-z0-9_.]{0,99}$`, any JSON value ≤ 4 KiB, at most 200 stored keys a
//! user) — and the profile (`display_name`, `timezone`, `steam_id`, `faceit_nickname`).
//! The profile's `timezone` and the `timezone` setting are one value: changing either
//! moves "today" for every module. Goals belong to sport; the theme is always dark.
//! Events: `settings:updated`, `profile:updated`.
//!
//! # Example
//!
//! A patch is checked whole before anything is stored, every bad key named:
//!
//! ```
//! use ayubi_settings::{SettingsError, SettingsPatch};
//! use std::collections::BTreeMap;
//!
//! let ok: BTreeMap<String, serde_json::Value> =
//!     serde_json::from_str(r#"{"week_start": "sunday", "app.layout": [1, 2]}"#).unwrap();
//! assert!(SettingsPatch::parse(ok).is_ok());
//! let bad = serde_json::from_str(r#"{"currency": "XXQ", "units": "cubits"}"#).unwrap();
//! let Err(SettingsError::Invalid(fields)) = SettingsPatch::parse(bad) else { panic!() };
//! let named: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
//! assert_eq!(named, ["currency", "units"]);
//! ```

#![warn(missing_docs)]

pub mod error;
pub mod events;
pub mod model;
pub mod ports;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{Result, SettingsError};
pub use model::*;
pub use service::{SettingsPatch, SettingsService};
