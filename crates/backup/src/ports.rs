//! What backup needs from storage.

use crate::document::Row;
pub use crate::error::ObjectError;
use crate::import::{Import, Mode, Outcome};
use crate::schedule::Schedule;
use ayubi_kernel::{StoreError, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Receives an export's rows.
#[async_trait::async_trait]
pub trait RowSink: Send {
    /// Takes one row.
    ///
    /// # Errors
    /// Whatever the sink's writer reports; the export stops.
    async fn row(&mut self, row: Row) -> Result<(), StoreError>;
}

/// Reads a user's data for export.
#[async_trait::async_trait]
pub trait ExportSource: Send + Sync + std::fmt::Debug {
    /// Sends every row of `user` to `sink` in document order, all read from one
    /// consistent snapshot (a write committed during the export is wholly in or out),
    /// a page at a time so memory stays flat.
    ///
    /// # Errors
    /// `Unavailable` when the database fails; a sink error is passed through.
    async fn export(&self, user: UserId, sink: &mut dyn RowSink) -> Result<(), StoreError>;
}

/// Applies a checked import.
#[async_trait::async_trait]
pub trait ImportStore: Send + Sync + std::fmt::Debug {
    /// Applies `import` for `user` in one transaction with one `backup:imported` change
    /// (data: the outcome) and the saved response of an idempotent request; with
    /// `dry_run` the transaction is rolled back, so the counts are exactly what a real
    /// run would do. MUST write nothing when it fails.
    ///
    /// # Errors
    /// `Conflict` when a merge would leave more settings than allowed;
    /// `IdempotencyRace` when a concurrent request with the same key won; `Unavailable`.
    async fn import(
        &self,
        user: UserId,
        import: &Import,
        options: ImportOptions,
    ) -> Result<Outcome, StoreError>;
}

/// How to apply an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// Merge or replace.
    pub mode: Mode,
    /// Roll back after counting.
    pub dry_run: bool,
    /// The time stamped on rows the document gives none.
    pub now: DateTime<Utc>,
}

/// Who made a stored backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// Made on the user's request.
    Manual,
    /// The schedule.
    Scheduled,
}

impl Trigger {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Scheduled => "scheduled",
        }
    }
}

/// A stored backup's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBackup {
    /// Id.
    pub id: i64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Who made it.
    pub trigger: Trigger,
    /// Bytes.
    pub size_bytes: i64,
    /// Hex SHA-256 of the document.
    pub sha256: String,
    /// Where the object store keeps it.
    pub object_key: String,
}

/// A backup about to be recorded (the object is already stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBackup {
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Who made it.
    pub trigger: Trigger,
    /// Bytes.
    pub size_bytes: i64,
    /// Hex SHA-256.
    pub sha256: String,
    /// Object key.
    pub object_key: String,
}

/// Stored backups' records and schedules.
#[async_trait::async_trait]
pub trait BackupRecords: Send + Sync + std::fmt::Debug {
    /// Records a stored backup, with the saved response of an idempotent request in the
    /// same transaction.
    ///
    /// # Errors
    /// `NotFound` when the user is gone; `IdempotencyRace` when a concurrent request with
    /// the same key won; `Unavailable`.
    async fn record(&self, user: UserId, backup: NewBackup) -> Result<StoredBackup, StoreError>;

    /// The user's backups, newest first, at most `limit`.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn list(&self, user: UserId, limit: u64) -> Result<Vec<StoredBackup>, StoreError>;

    /// One of the user's backups.
    ///
    /// # Errors
    /// `NotFound` (also for another user's id); `Unavailable`.
    async fn get(&self, user: UserId, id: i64) -> Result<StoredBackup, StoreError>;

    /// Forgets one backup and returns it (its object is the caller's to delete).
    ///
    /// # Errors
    /// `NotFound`; `Unavailable`.
    async fn remove(&self, user: UserId, id: i64) -> Result<StoredBackup, StoreError>;

    /// Forgets the user's scheduled backups beyond the newest `keep`, returning them.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn prune(&self, user: UserId, keep: u8) -> Result<Vec<StoredBackup>, StoreError>;

    /// The user's schedule ([`Schedule::OFF`] when never set).
    ///
    /// # Errors
    /// `Unavailable`.
    async fn schedule(&self, user: UserId) -> Result<Schedule, StoreError>;

    /// Stores the user's schedule and returns it as stored (times at the store's
    /// precision), which is what later reads return.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn set_schedule(&self, user: UserId, schedule: Schedule) -> Result<Schedule, StoreError>;

    /// Users whose run is due at `now` and not leased by a live instance, oldest due
    /// first, at most `limit`.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn due(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<UserId>, StoreError>;

    /// Takes the lease on the user's due run until `until`, if it is still due and no
    /// other instance holds a live lease. Exactly one of several concurrent callers gets
    /// `Some(schedule)`; the rest get `None`.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn claim(
        &self,
        user: UserId,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Schedule>, StoreError>;

    /// Ends `owner`'s lease: the next run is due at `next_run_at`.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn release(
        &self,
        user: UserId,
        owner: &str,
        next_run_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
}

/// Bytes read in order, a chunk at a time: a spooled export, a stored object.
#[async_trait::async_trait]
pub trait ByteSource: Send + std::fmt::Debug {
    /// The next chunk; `None` at the end.
    ///
    /// # Errors
    /// When the underlying file or store fails.
    async fn chunk(&mut self) -> std::io::Result<Option<Vec<u8>>>;
}

/// An export document being written once while it is hashed (a temporary file).
#[async_trait::async_trait]
pub trait SpoolFile: Send {
    /// Appends `bytes`.
    ///
    /// # Errors
    /// When the file cannot be written.
    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()>;

    /// Everything written, to be read back from the start, with its length and its
    /// lower-case hex SHA-256.
    ///
    /// # Errors
    /// When the file cannot be flushed or rewound.
    async fn finish(self: Box<Self>) -> std::io::Result<(Box<dyn ByteSource>, u64, String)>;
}

/// Makes [`SpoolFile`]s: memory stays at one buffer however large a user's data is.
#[async_trait::async_trait]
pub trait Spools: Send + Sync + std::fmt::Debug {
    /// A new, empty spool, deleted when dropped.
    ///
    /// # Errors
    /// When no temporary file can be made.
    async fn create(&self) -> std::io::Result<Box<dyn SpoolFile>>;
}

/// Where stored backups live (a directory or an S3-compatible bucket).
#[async_trait::async_trait]
pub trait BackupObjects: Send + Sync + std::fmt::Debug {
    /// Streams `body` into the object `key`; the object appears whole or not at all.
    ///
    /// # Errors
    /// [`ObjectError::Failed`].
    async fn put(&self, key: &str, body: &mut dyn ByteSource) -> Result<(), ObjectError>;

    /// The object `key`: its size and its bytes.
    ///
    /// # Errors
    /// MUST return [`ObjectError::NotFound`] when there is none; `Failed`.
    async fn get(&self, key: &str) -> Result<(u64, Box<dyn ByteSource>), ObjectError>;

    /// Deletes `key` (already gone is fine).
    ///
    /// # Errors
    /// `Failed`.
    async fn delete(&self, key: &str) -> Result<(), ObjectError>;

    /// Deletes every object under `prefix` (a whole path segment); returns how many.
    ///
    /// # Errors
    /// `Failed` (calling again finishes the job).
    async fn delete_prefix(&self, prefix: &str) -> Result<usize, ObjectError>;
}

/// What operators watch of the scheduler; the app makes Prometheus counters of it.
pub trait BackupObserver: Send + Sync + std::fmt::Debug {
    /// A scheduled backup was made.
    fn run(&self) {}
    /// A scheduled backup failed.
    fn failure(&self) {}
    /// The scheduler made a pass.
    fn pass(&self) {}
}
