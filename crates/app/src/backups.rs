//! Backups: exports spooled to a temporary file while they are hashed, stored backups in
//! the object store, and the scheduler that makes them on time.
//!
//! An export is written once, row by row, to an unnamed temporary file (memory stays at
//! one buffer of 64 KiB however large the user's data is) while its SHA-256 is computed;
//! the response then streams the file with the hash and length in its headers. Writing
//! first is what lets the hash be a header: the alternative, two passes over one
//! database snapshot, holds a read transaction open for as long as a slow client reads.

use aws_lc_rs::digest;
use ayubi_backup::document::Row;
use ayubi_backup::encode::Encoder;
use ayubi_backup::ports::{
    BackupRecords, ExportSource, ImportStore, NewBackup, RowSink, StoredBackup, Trigger,
};
use ayubi_backup::schedule::next_after;
use ayubi_kernel::{Clock, Idempotent, StoreError, UserId};
use ayubi_storage::{BlobStore, StorageError};
use chrono::{DateTime, Utc};
use prometheus::{IntCounter, Registry};
use std::io::SeekFrom;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

/// Bytes gathered before a write to the spool file.
const FLUSH_AT: usize = 64 * 1024;

/// A finished export: the document in a temporary file, rewound.
#[derive(Debug)]
pub struct Spool {
    /// The document (deleted when dropped).
    pub file: tokio::fs::File,
    /// Its length.
    pub size: u64,
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: String,
    /// The `exported_at` inside it.
    pub exported_at: DateTime<Utc>,
}

struct SpoolSink {
    encoder: Encoder,
    buf: Vec<u8>,
    file: tokio::fs::File,
    hash: digest::Context,
    size: u64,
}

impl SpoolSink {
    async fn flush(&mut self) -> std::io::Result<()> {
        self.hash.update(&self.buf);
        self.file.write_all(&self.buf).await?;
        self.size += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

fn io_err(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

#[async_trait::async_trait]
impl RowSink for SpoolSink {
    async fn row(&mut self, row: Row) -> Result<(), StoreError> {
        self.encoder.push(&row, &mut self.buf).map_err(io_err)?;
        if self.buf.len() >= FLUSH_AT {
            self.flush().await.map_err(io_err)?;
        }
        Ok(())
    }
}

/// Where an object lives: per user, never guessable from another user's.
fn object_key(user: UserId, at: DateTime<Utc>) -> String {
    format!(
        "backups/{}/{}-{}.json",
        user.get(),
        at.format("%Y%m%dT%H%M%SZ"),
        uuid::Uuid::new_v4().simple()
    )
}

/// Backup use cases that need files and the object store.
#[derive(Debug)]
pub struct Backups {
    /// Reads a user's rows.
    pub source: Arc<dyn ExportSource>,
    /// Applies imports.
    pub imports: Arc<dyn ImportStore>,
    /// Records and schedules.
    pub records: Arc<dyn BackupRecords>,
    /// Where stored backups go.
    pub blobs: BlobStore,
    /// The service clock.
    pub clock: Arc<dyn Clock>,
    /// This instance's lease owner name.
    pub instance: String,
    /// How long a claimed run may take before another instance may take it over.
    pub lease: chrono::Duration,
    /// Runs and failures.
    pub metrics: BackupMetrics,
    /// Largest import document (bytes).
    pub max_import_bytes: usize,
    /// Exports and imports running at once on this instance; more wait their turn. An
    /// import holds its document in memory (up to `max_import_bytes`, parsed), so this
    /// bounds the memory a burst of them can take.
    pub jobs: tokio::sync::Semaphore,
}

/// Why a stored backup could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum BackupFailure {
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The object store.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The spool file.
    #[error("spool file: {0}")]
    Io(#[from] std::io::Error),
}

impl Backups {
    /// Writes the user's document to a temporary file, hashing it on the way.
    ///
    /// # Errors
    /// When the database or the temporary file fails.
    pub async fn export(&self, user: UserId) -> Result<Spool, BackupFailure> {
        let _turn = self.jobs.acquire().await.map_err(std::io::Error::other)?;
        let exported_at = self.clock.now();
        let file = tokio::task::spawn_blocking(tempfile::tempfile)
            .await
            .map_err(std::io::Error::other)??;
        let mut buf = Vec::with_capacity(FLUSH_AT * 2);
        let encoder = Encoder::start(exported_at, &mut buf);
        let mut sink = SpoolSink {
            encoder,
            buf,
            file: tokio::fs::File::from_std(file),
            hash: digest::Context::new(&digest::SHA256),
            size: 0,
        };
        self.source.export(user, &mut sink).await?;
        sink.encoder.finish(&mut sink.buf);
        sink.flush().await?;
        sink.file.flush().await?;
        sink.file.seek(SeekFrom::Start(0)).await?;
        Ok(Spool {
            file: sink.file,
            size: sink.size,
            sha256: hex(sink.hash.finish().as_ref()),
            exported_at,
        })
    }

    /// Exports the user's data into the object store and records it.
    ///
    /// # Errors
    /// When the export, the upload or the record fails (a stored object without a
    /// record is deleted again).
    pub async fn store(
        &self,
        user: UserId,
        trigger: Trigger,
        idempotent: Option<Idempotent<StoredBackup>>,
    ) -> Result<StoredBackup, BackupFailure> {
        let mut spool = self.export(user).await?;
        let key = object_key(user, spool.exported_at);
        self.blobs.put(&key, &mut spool.file).await?;
        let recorded = self
            .records
            .record(
                user,
                NewBackup {
                    created_at: spool.exported_at,
                    trigger,
                    size_bytes: i64::try_from(spool.size).unwrap_or(i64::MAX),
                    sha256: spool.sha256,
                    object_key: key.clone(),
                },
                idempotent,
            )
            .await;
        match recorded {
            Ok(b) => Ok(b),
            Err(e) => {
                let _ = self.blobs.delete(&key).await;
                Err(e.into())
            }
        }
    }

    /// Forgets a stored backup and deletes its object.
    ///
    /// # Errors
    /// `NotFound`; when the database or the store fails.
    pub async fn remove(&self, user: UserId, id: i64) -> Result<(), BackupFailure> {
        let b = self.records.remove(user, id).await?;
        self.blobs.delete(&b.object_key).await?;
        Ok(())
    }

    /// Deletes every stored object of a user whose account is gone (the records went
    /// with the account's rows).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn forget_user(&self, user: UserId) -> Result<usize, StorageError> {
        self.blobs
            .delete_prefix(&format!("backups/{}", user.get()))
            .await
    }

    /// One scheduler pass: every due user whose lease this instance wins gets one
    /// backup, old scheduled backups beyond `keep` are pruned, and the next run is set
    /// after now (a run missed while the app was down happens once, not once per missed
    /// period). Returns how many backups this pass made.
    pub async fn run_due(&self) -> usize {
        let now = self.clock.now();
        let due = match self.records.due(now, 100).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "listing due backups");
                return 0;
            }
        };
        let mut made = 0;
        for user in due {
            let claimed = self
                .records
                .claim(user, &self.instance, now, now + self.lease)
                .await;
            let schedule = match claimed {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming a scheduled backup");
                    continue;
                }
            };
            let result = self.store(user, Trigger::Scheduled, None).await;
            let next = schedule
                .next_run_at
                .and_then(|due| next_after(schedule.interval, due, self.clock.now()));
            match result {
                Ok(_) => {
                    made += 1;
                    self.metrics.runs.inc();
                    match self.records.prune(user, schedule.keep.get()).await {
                        Ok(old) => {
                            for b in old {
                                if let Err(e) = self.blobs.delete(&b.object_key).await {
                                    tracing::warn!(error = %e, "deleting a pruned backup");
                                }
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "pruning backups"),
                    }
                }
                Err(e) => {
                    // The run is not retried before its next due time: a failing store
                    // must not turn into a backup attempt every minute. The failure is
                    // counted and logged for the operator.
                    self.metrics.failures.inc();
                    tracing::error!(error = %e, user = user.get(), "scheduled backup failed");
                }
            }
            if let Err(e) = self.records.release(user, &self.instance, next).await {
                tracing::warn!(error = %e, "releasing a backup lease");
            }
        }
        made
    }

    /// Runs [`Backups::run_due`] now (catching up on anything missed while the app was
    /// down) and then every `every`.
    pub fn spawn_scheduler(self: Arc<Self>, every: Duration) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                self.metrics.passes.inc();
                self.run_due().await;
            }
        });
    }
}

/// Backup metrics, served by `/metrics`.
#[derive(Debug, Clone)]
pub struct BackupMetrics {
    /// `ayubi_backup_runs_total`: scheduled backups made.
    pub runs: IntCounter,
    /// `ayubi_backup_failures_total`: scheduled backups that failed.
    pub failures: IntCounter,
    /// `ayubi_backup_scheduler_passes_total`: scheduler passes on this instance.
    pub passes: IntCounter,
}

impl BackupMetrics {
    /// Creates and registers them.
    ///
    /// # Errors
    /// When a metric of the same name is already registered.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self {
            runs: IntCounter::new("ayubi_backup_runs_total", "Scheduled backups made")?,
            failures: IntCounter::new(
                "ayubi_backup_failures_total",
                "Scheduled backups that failed",
            )?,
            passes: IntCounter::new(
                "ayubi_backup_scheduler_passes_total",
                "Backup scheduler passes on this instance",
            )?,
        };
        registry.register(Box::new(m.runs.clone()))?;
        registry.register(Box::new(m.failures.clone()))?;
        registry.register(Box::new(m.passes.clone()))?;
        Ok(m)
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
