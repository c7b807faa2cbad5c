//! Ayubi's shared vocabulary.
//!
//! Owns the small types every bounded context speaks in: [`UserId`], list [`Limit`]s,
//! [`DateRange`]s and the user's [`TimeZone`], the [`Clock`] port, the change log's
//! vocabulary ([`Write`], [`Event`]) that lets a write record its sync event in the same
//! transaction as its rows, the saved responses of idempotent requests, and
//! [`StoreError`], the error kinds every storage adapter reports. It owns no behaviour of any one context and knows nothing about HTTP,
//! SQL or Redis.

#![warn(missing_docs)]

mod change;
mod clock;
mod error;
mod idempotency;
mod ids;
mod page;
mod time;
mod views;

pub use change::{Event, UserTimeZones, Write, today};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::StoreError;
pub use idempotency::{IdempotencyStore, SavedRecord, SavedResponse};
pub use ids::UserId;
pub use page::{Limit, LimitError};
pub use time::{DateRange, DateRangeError, TimeZone, UnknownTimeZone, YearMonth, YearMonthError};
pub use views::{ViewCache, ViewCacheError, ViewInvalidation, ViewLookup};
