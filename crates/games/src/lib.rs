//! Ayubi game stats: a person's Steam and FACEIT numbers on the dashboard, without
//! hammering the platforms.
//!
//! Owns three things, all pure:
//!
//! - [`Platform`] and what a linked account is (the profile's `steam_id`,
//!   `faceit_nickname`);
//! - what we show ([`present`]): the platforms' raw answers — stored as received, so what
//!   we show can change without refetching — read into [`Stats`]; an answer that does not
//!   read is treated as upstream trouble, never cached;
//! - the cache policy ([`CachePolicy`]): a copy younger than the TTL is served as is; an
//!   older one is refetched; upstream trouble (an error, a 429, a timeout, an answer that
//!   does not read) or an empty or private answer never replaces a complete copy, which is
//!   then served with `stale: true`; after trouble nobody asks the platform again before
//!   a back-off (or the platform's `Retry-After`) has passed.
//!
//! [`GamesService`] orchestrates: one upstream call per user and platform at a time in this
//! process ([`flight`]) and across instances (the store's fetch lease).
//!
//! It does not own the HTTP clients (`ayubi-game-platforms`), the linked ids (the profile,
//! `ayubi-settings`), or the cache table (`ayubi-db`). Game stats are not user data: they
//! are not in backups and not in the change log.
//!
//! # Example
//!
//! ```
//! use ayubi_games::Platform;
//!
//! assert_eq!(Platform::parse("faceit"), Some(Platform::Faceit));
//! assert_eq!(Platform::parse("xbox"), None);
//! ```

#![warn(missing_docs)]

pub mod error;
pub mod flight;
pub mod model;
pub mod policy;
pub mod ports;
pub mod present;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{GamesError, Result};
pub use model::*;
pub use policy::{CachePolicy, Decision, Settled};
pub use present::{FaceitCs2, FaceitStats, Stats, SteamGame, SteamLibrary, SteamStats, present};
pub use service::{GamesConfig, GamesService};
