//! Ayubi finance: money in and out.
//!
//! Owns categories (income or expense) and entries, and the monthly summary by category.
//! Money is exact: amounts are integer minor units (cents), an amount with more than two
//! fraction digits is refused, and sums are integer sums. Each entry has an ISO 4217
//! currency (default: the user's `currency` setting); a summary sums one currency.
//! Events: `finance:created|updated|deleted` (entries),
//! `finance_category:created|updated|deleted`.

#![warn(missing_docs)]

pub mod error;
pub mod events;
pub mod model;
pub mod ports;
pub mod service;

pub use error::{FinanceError, Result};
pub use model::*;
pub use service::FinanceService;
