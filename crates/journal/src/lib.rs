//! Ayubi journal: what a person writes down, by day.
//!
//! Owns entries (optional title, content up to 100,000 characters, a date, an optional
//! mood 1–5, up to 20 tags) and how they are searched: a query becomes a list of words,
//! each matched case-insensitively as a prefix (`run` finds "Running"), results ranked by
//! relevance — in any script, Cyrillic included. The storage adapter implements the
//! matching with the database's own full-text index (SQLite FTS5, PostgreSQL `tsvector`).
//! Events: `journal:created|updated|deleted`.
//!
//! # Example
//!
//! ```
//! use ayubi_journal::service::EntryInput;
//! use ayubi_journal::SearchTerms;
//!
//! // A search is its words: punctuation and case do not count.
//! let q = SearchTerms::parse("Quince, JAM!").unwrap();
//! assert_eq!(q.words(), ["quince", "jam"]);
//! assert!(SearchTerms::parse("?!").is_none()); // no word: matches nothing
//! assert!(EntryInput::new(None, "   ".into(), None, None, vec![]).is_err()); // blank
//! ```

#![warn(missing_docs)]

pub mod error;
pub mod events;
pub mod model;
pub mod ports;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{JournalError, Result};
pub use model::*;
pub use service::JournalService;
