//! Ayubi finance: money in and out.
//!
//! Owns categories (income or expense) and entries, and the monthly summary by category.
//! Money is exact: amounts are integer minor units (cents), an amount with more than two
//! fraction digits is refused, and sums are integer sums. Each entry has an ISO 4217
//! currency (default: the user's `currency` setting); a summary sums one currency.
//! Events: `finance:created|updated|deleted` (entries),
//! `finance_category:created|updated|deleted`.
//!
//! # Example
//!
//! Money is exact (minor units), and an entry is checked before any service sees it:
//!
//! ```
//! use ayubi_finance::service::EntryInput;
//! use ayubi_finance::{FinanceError, Money};
//!
//! assert_eq!(Money::parse(12.34).unwrap().minor(), 1234);
//! let Err(FinanceError::Invalid { field, .. }) =
//!     EntryInput::new("expense", 1.005, Some("EUR"), None, None, None)
//! else {
//!     panic!("three decimals are refused")
//! };
//! assert_eq!(field, "amount");
//! assert!(EntryInput::new("expense", 4.5, Some("eur"), None, None, None).is_ok());
//! ```

#![warn(missing_docs)]

pub mod error;
pub mod events;
pub mod model;
pub mod ports;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{FinanceError, Result};
pub use model::*;
pub use service::FinanceService;
