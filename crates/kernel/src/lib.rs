//! Ayubi's shared vocabulary.
//!
//! Owns the small types every bounded context speaks in: [`UserId`], list [`Limit`]s,
//! [`DateRange`]s and the user's [`TimeZone`], the [`Clock`] port, the change log's
//! vocabulary ([`Write`], [`Event`]) that lets a write record its sync event in the same
//! transaction as its rows, the saved responses of idempotent requests, and
//! [`StoreError`], the error kinds every storage adapter reports. It owns no behaviour of any one context and knows nothing about HTTP,
//! SQL or Redis.
//!
//! # Example
//!
//! "Today" is the user's day, not the server's:
//!
//! ```
//! use ayubi_kernel::{DateRange, TimeZone};
//!
//! let now = "2026-12-07T23:30:00Z".parse().unwrap();
//! let tokyo = TimeZone::parse("Asia/Tokyo").unwrap();
//! assert_eq!(tokyo.today(now).to_string(), "2026-12-08");
//!
//! let week = DateRange::new(tokyo.today(now) - chrono::Duration::days(6), tokyo.today(now)).unwrap();
//! assert_eq!(week.iter().count(), 7);
//! assert!(DateRange::new(tokyo.today(now), week.from()).is_err()); // reversed
//! ```

#![warn(missing_docs)]

mod change;
mod clock;
mod error;
mod idempotency;
mod ids;
mod page;
mod time;
mod views;

pub use change::{Event, FixedZone, UserTimeZones, Write, today};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::StoreError;
pub use idempotency::{IdempotencyStore, SavedRecord, SavedResponse};
pub use ids::UserId;
pub use page::{Limit, LimitError};
pub use time::{DateRange, DateRangeError, TimeZone, UnknownTimeZone, YearMonth, YearMonthError};
pub use views::{ViewCache, ViewCacheError, ViewInvalidation, ViewLookup};
