//! Backup: export reads, import writes, stored backups' records and schedules.

mod export;

pub use export::paged_statements;
mod import;
mod records;

use crate::pool::Database;

/// Implements backup's ports ([`ayubi_backup::ports::ExportSource`],
/// [`ayubi_backup::ports::ImportStore`], [`ayubi_backup::ports::BackupRecords`]).
#[derive(Debug, Clone)]
pub struct SqlBackupStore {
    db: Database,
}

impl SqlBackupStore {
    /// Wraps the pool.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}
