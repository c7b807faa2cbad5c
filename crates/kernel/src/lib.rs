//! Ayubi's shared vocabulary.
//!
//! Owns the small types every bounded context speaks in: [`UserId`], list [`Limit`]s, the
//! [`Clock`] port, the [`Idempotent`] write request that lets a create store its response
//! in the same transaction as its rows, and [`StoreError`], the error kinds every storage
//! adapter reports. It owns no behaviour of any one context and knows nothing about HTTP,
//! SQL or Redis.

mod clock;
mod error;
mod idempotency;
mod ids;
mod page;

pub use clock::{Clock, SystemClock};
pub use error::StoreError;
pub use idempotency::{IdempotencyStore, Idempotent, SavedRecord, SavedResponse};
pub use ids::UserId;
pub use page::{Limit, LimitError};
