//! Ayubi backup: a person's whole dashboard as one versioned JSON document, and back.
//!
//! Owns the document ([`document`]: `format`, `version`, `exported_at` and one section per
//! context), the streaming [`encode::Encoder`] that writes it row by row so an export of
//! any size needs a few kilobytes of memory, the validation of an uploaded document into
//! an [`Import`] (every row through the owning context's own rules, every fault named by
//! its path, e.g. `finance.entries[1042].amount`), the merge rule that makes importing the
//! same document twice create nothing ([`merge`]), and backup [`schedule`]s.
//!
//! [`BackupService`] holds the use cases: export to a hashed spool, stored backups,
//! imports, schedules and the scheduler's pass. It does not own the rows (each context
//! does), the transaction that applies an import (the storage adapter, behind
//! [`ports::ImportStore`]), the spool files ([`ports::Spools`]) nor where stored backups
//! live ([`ports::BackupObjects`]: a directory or a bucket, `ayubi-storage`). Event:
//! `backup:imported`.
//!
//! # Example
//!
//! An uploaded document is checked row by row through each context's own rules, every
//! fault named by its path, before anything is written:
//!
//! ```
//! use ayubi_backup::{BackupError, Document, Import};
//!
//! let doc: Document = serde_json::from_str(
//!     r#"{"format": "ayubi-backup", "version": 1,
//!         "sport": {"water": [{"date": "2026-11-01", "ml": 250}, {"date": "2026-11-02", "ml": 0}]}}"#,
//! ).unwrap();
//! let Err(BackupError::Invalid(faults)) = Import::parse(doc) else { panic!() };
//! assert_eq!(faults[0].0, "sport.water[1].ml");
//! ```

#![warn(missing_docs)]

pub mod document;
pub mod encode;
pub mod error;
pub mod import;
pub mod merge;
pub mod ports;
pub mod schedule;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use document::{Document, FORMAT, VERSION};
pub use error::{BackupError, Result};
pub use import::{Import, Mode, Outcome};
pub use schedule::{Interval, Keep, Schedule};
pub use service::{BackupPorts, BackupService, BackupSettings, ExportDocument, JobTurn};

/// The change recorded when an import commits (one entry for the whole import: clients
/// refetch rather than replay thousands of row events).
pub const IMPORTED: ayubi_kernel::Event = ayubi_kernel::Event {
    name: "backup:imported",
    entity: "backup",
};
