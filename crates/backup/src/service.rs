//! The backup use cases: export to a spool while hashing, stored backups in the object
//! store, imports, schedules, and the scheduler's pass.
//!
//! An export is written once, row by row, to a spool (a temporary file: memory stays at
//! one 64 KiB buffer however large the user's data is) while its SHA-256 is computed; the
//! caller then streams it with the hash and length known up front. Writing first is what
//! lets the hash be a header: the alternative, two passes over one database snapshot,
//! holds a read transaction open for as long as a slow client reads.

use crate::document::Row;
use crate::encode::Encoder;
use crate::error::{BackupError, Result};
use crate::import::{Import, Outcome};
use crate::ports::{
    BackupObjects, BackupObserver, BackupRecords, ByteSource, ExportSource, ImportOptions,
    ImportStore, NewBackup, RowSink, SpoolFile, Spools, StoredBackup, Trigger,
};
use crate::schedule::{Interval, Keep, Schedule, next_after};
use ayubi_kernel::{Clock, StoreError, UserId};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Bytes gathered before a write to the spool.
const FLUSH_AT: usize = 64 * 1024;

/// A backup document ready to be read: an export just made, or a stored one.
#[derive(Debug)]
pub struct ExportDocument {
    /// Its length in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: String,
    /// When it was exported.
    pub exported_at: DateTime<Utc>,
    /// Its bytes, from the start.
    pub body: Box<dyn ByteSource>,
}

/// The ports and settings a [`BackupService`] is wired with.
#[derive(Debug)]
pub struct BackupPorts {
    /// Reads a user's rows.
    pub source: Arc<dyn ExportSource>,
    /// Applies imports.
    pub imports: Arc<dyn ImportStore>,
    /// Records and schedules.
    pub records: Arc<dyn BackupRecords>,
    /// Where stored backups go.
    pub objects: Arc<dyn BackupObjects>,
    /// Where exports are written while hashed.
    pub spools: Arc<dyn Spools>,
    /// The service clock.
    pub clock: Arc<dyn Clock>,
    /// Scheduler counts.
    pub observer: Arc<dyn BackupObserver>,
}

/// How the service behaves.
#[derive(Debug, Clone)]
pub struct BackupSettings {
    /// This instance's lease owner name (scheduled runs are claimed per instance).
    pub instance: String,
    /// How long a claimed run may take before another instance may take it over.
    pub lease: chrono::Duration,
    /// Largest import document (bytes).
    pub max_import_bytes: usize,
    /// Exports and imports running at once on this instance; more wait their turn.
    pub max_jobs: usize,
}

/// The backup use cases.
#[derive(Debug)]
pub struct BackupService {
    ports: BackupPorts,
    settings: BackupSettings,
    /// An import holds its document in memory (up to `max_import_bytes`, parsed), so this
    /// bounds the memory a burst of exports and imports can take.
    jobs: Semaphore,
}

struct SpoolSink {
    encoder: Encoder,
    buf: Vec<u8>,
    file: Box<dyn SpoolFile>,
}

impl SpoolSink {
    async fn flush(&mut self) -> std::io::Result<()> {
        self.file.write(&self.buf).await?;
        self.buf.clear();
        Ok(())
    }
}

#[async_trait::async_trait]
impl RowSink for SpoolSink {
    async fn row(&mut self, row: Row) -> Result<(), StoreError> {
        self.encoder
            .push(&row, &mut self.buf)
            .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        if self.buf.len() >= FLUSH_AT {
            self.flush()
                .await
                .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
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

/// A turn at a heavy job (an export or an import), given back when dropped.
#[derive(Debug)]
pub struct JobTurn<'a>(#[allow(dead_code)] SemaphorePermit<'a>);

impl BackupService {
    /// Wires the service.
    #[must_use]
    pub fn new(ports: BackupPorts, settings: BackupSettings) -> Self {
        let jobs = Semaphore::new(settings.max_jobs.max(1));
        Self {
            ports,
            settings,
            jobs,
        }
    }

    /// Largest import document (bytes): read no more of a request.
    #[must_use]
    pub fn max_import_bytes(&self) -> usize {
        self.settings.max_import_bytes
    }

    /// Waits for a turn at an export or import (hold it while reading an import's body).
    ///
    /// # Errors
    /// Never while the service lives.
    pub async fn turn(&self) -> Result<JobTurn<'_>> {
        self.jobs
            .acquire()
            .await
            .map(JobTurn)
            .map_err(|e| BackupError::Spool(std::io::Error::other(e)))
    }

    async fn spool(&self, user: UserId) -> Result<ExportDocument> {
        let exported_at = self.ports.clock.now();
        let mut buf = Vec::with_capacity(FLUSH_AT * 2);
        let encoder = Encoder::start(exported_at, &mut buf);
        let mut sink = SpoolSink {
            encoder,
            buf,
            file: self.ports.spools.create().await?,
        };
        self.ports.source.export(user, &mut sink).await?;
        sink.encoder.finish(&mut sink.buf);
        sink.flush().await?;
        let (body, size, sha256) = sink.file.finish().await?;
        Ok(ExportDocument {
            size,
            sha256,
            exported_at,
            body,
        })
    }

    /// The user's whole dashboard as one document, hashed.
    ///
    /// # Errors
    /// When the database or the spool fails.
    pub async fn export(&self, user: UserId) -> Result<ExportDocument> {
        let _turn = self.turn().await?;
        self.spool(user).await
    }

    /// Applies a checked document (`dry_run`: counts only, nothing written).
    ///
    /// # Errors
    /// `Invalid` at `settings` when the import would exceed the settings limit; `Store`.
    pub async fn import(
        &self,
        user: UserId,
        import: &Import,
        options: ImportOptions,
    ) -> Result<Outcome> {
        self.ports
            .imports
            .import(user, import, options)
            .await
            .map_err(|e| match e {
                // The one conflict an import meets: more settings than allowed.
                StoreError::Conflict(m) => BackupError::Invalid(vec![("settings".into(), m)]),
                e => e.into(),
            })
    }

    /// Exports the user's data into the object store and records it.
    ///
    /// # Errors
    /// When the export, the upload or the record fails (a stored object without a
    /// record is deleted again).
    pub async fn store(&self, user: UserId, trigger: Trigger) -> Result<StoredBackup> {
        let mut doc = {
            let _turn = self.turn().await?;
            self.spool(user).await?
        };
        let key = object_key(user, doc.exported_at);
        self.ports.objects.put(&key, doc.body.as_mut()).await?;
        let recorded = self
            .ports
            .records
            .record(
                user,
                NewBackup {
                    created_at: doc.exported_at,
                    trigger,
                    size_bytes: i64::try_from(doc.size).unwrap_or(i64::MAX),
                    sha256: doc.sha256,
                    object_key: key.clone(),
                },
            )
            .await;
        match recorded {
            Ok(b) => Ok(b),
            Err(e) => {
                let _ = self.ports.objects.delete(&key).await;
                Err(e.into())
            }
        }
    }

    /// The user's stored backups, newest first.
    ///
    /// # Errors
    /// `Store`.
    pub async fn history(&self, user: UserId, limit: u64) -> Result<Vec<StoredBackup>> {
        Ok(self.ports.records.list(user, limit).await?)
    }

    /// A stored backup's document.
    ///
    /// # Errors
    /// `Store(NotFound)` for another user's or a missing backup, `Objects(NotFound)` when
    /// its object is gone; failures.
    pub async fn download(&self, user: UserId, id: i64) -> Result<ExportDocument> {
        let b = self.ports.records.get(user, id).await?;
        let (size, body) = self.ports.objects.get(&b.object_key).await?;
        Ok(ExportDocument {
            size,
            sha256: b.sha256,
            exported_at: b.created_at,
            body,
        })
    }

    /// Forgets a stored backup and deletes its object.
    ///
    /// # Errors
    /// `Store(NotFound)`; failures.
    pub async fn remove(&self, user: UserId, id: i64) -> Result<()> {
        let b = self.ports.records.remove(user, id).await?;
        self.ports.objects.delete(&b.object_key).await?;
        Ok(())
    }

    /// Deletes every stored object of a user whose account is gone (the records went
    /// with the account's rows); returns how many.
    ///
    /// # Errors
    /// When the object store fails.
    pub async fn forget_user(&self, user: UserId) -> Result<usize> {
        Ok(self
            .ports
            .objects
            .delete_prefix(&format!("backups/{}", user.get()))
            .await?)
    }

    /// The user's schedule.
    ///
    /// # Errors
    /// `Store`.
    pub async fn schedule(&self, user: UserId) -> Result<Schedule> {
        Ok(self.ports.records.schedule(user).await?)
    }

    /// Sets how often the user's data is backed up and how many scheduled backups are
    /// kept; the next run is planned from now.
    ///
    /// # Errors
    /// `Store`.
    pub async fn set_schedule(
        &self,
        user: UserId,
        interval: Interval,
        keep: Keep,
    ) -> Result<Schedule> {
        let current = self.ports.records.schedule(user).await?;
        let next = current.set(interval, keep, self.ports.clock.now());
        Ok(self.ports.records.set_schedule(user, next).await?)
    }

    /// One scheduler pass: every due user whose lease this instance wins gets one
    /// backup, old scheduled backups beyond `keep` are pruned, and the next run is set
    /// after now (a run missed while the app was down happens once, not once per missed
    /// period). Returns how many backups this pass made.
    pub async fn run_due(&self) -> usize {
        self.ports.observer.pass();
        let now = self.ports.clock.now();
        let due = match self.ports.records.due(now, 100).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "listing due backups");
                return 0;
            }
        };
        let mut made = 0;
        for user in due {
            let claimed = self
                .ports
                .records
                .claim(
                    user,
                    &self.settings.instance,
                    now,
                    now + self.settings.lease,
                )
                .await;
            let schedule = match claimed {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming a scheduled backup");
                    continue;
                }
            };
            let result = self.store(user, Trigger::Scheduled).await;
            let next = schedule
                .next_run_at
                .and_then(|due| next_after(schedule.interval, due, self.ports.clock.now()));
            match result {
                Ok(_) => {
                    made += 1;
                    self.ports.observer.run();
                    self.prune(user, schedule.keep).await;
                }
                Err(e) => {
                    // The run is not retried before its next due time: a failing store
                    // must not turn into a backup attempt every minute. The failure is
                    // counted and logged for the operator.
                    self.ports.observer.failure();
                    tracing::error!(error = %e, user = user.get(), "scheduled backup failed");
                }
            }
            if let Err(e) = self
                .ports
                .records
                .release(user, &self.settings.instance, next)
                .await
            {
                tracing::warn!(error = %e, "releasing a backup lease");
            }
        }
        made
    }

    async fn prune(&self, user: UserId, keep: Keep) {
        match self.ports.records.prune(user, keep.get()).await {
            Ok(old) => {
                for b in old {
                    if let Err(e) = self.ports.objects.delete(&b.object_key).await {
                        tracing::warn!(error = %e, "deleting a pruned backup");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "pruning backups"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::WaterRow;
    use crate::testing::{MemoryObjects, MemoryRecords, MemoryRows, MemorySpools};
    use ayubi_kernel::ManualClock;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Debug, Default)]
    struct Counts {
        runs: AtomicU32,
        failures: AtomicU32,
    }

    impl BackupObserver for Counts {
        fn run(&self) {
            self.runs.fetch_add(1, Ordering::Relaxed);
        }
        fn failure(&self) {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    struct World {
        service: BackupService,
        records: Arc<MemoryRecords>,
        objects: Arc<MemoryObjects>,
        counts: Arc<Counts>,
        clock: Arc<ManualClock>,
    }

    fn world() -> World {
        let rows = Arc::new(MemoryRows::default());
        rows.set_water(
            UserId::new(1),
            vec![WaterRow {
                id: Some(1),
                date: "2026-12-01".parse().unwrap(),
                ml: 250,
                created_at: None,
            }],
        );
        let records = Arc::new(MemoryRecords::default());
        let objects = Arc::new(MemoryObjects::default());
        let counts = Arc::new(Counts::default());
        let clock = Arc::new(ManualClock::new("2026-12-07T03:00:00Z".parse().unwrap()));
        let service = BackupService::new(
            BackupPorts {
                source: rows.clone(),
                imports: rows,
                records: records.clone(),
                objects: objects.clone(),
                spools: Arc::new(MemorySpools),
                clock: clock.clone(),
                observer: counts.clone(),
            },
            BackupSettings {
                instance: "here".into(),
                lease: chrono::Duration::minutes(10),
                max_import_bytes: 1 << 20,
                max_jobs: 2,
            },
        );
        World {
            service,
            records,
            objects,
            counts,
            clock,
        }
    }

    #[tokio::test]
    async fn an_object_never_outlives_a_failed_record() {
        let w = world();
        let u = UserId::new(1);
        let b = w.service.store(u, Trigger::Manual).await.unwrap();
        assert_eq!(w.objects.keys(), std::slice::from_ref(&b.object_key));
        let doc = w.service.download(u, b.id).await.unwrap();
        assert_eq!(doc.size, u64::try_from(b.size_bytes).unwrap());
        w.records.fail_next_record();
        assert!(w.service.store(u, Trigger::Manual).await.is_err());
        assert_eq!(
            w.objects.keys().len(),
            1,
            "the second object was deleted again"
        );
        w.service.remove(u, b.id).await.unwrap();
        assert!(w.objects.keys().is_empty());
    }

    #[tokio::test]
    async fn a_due_run_is_made_once_pruned_to_keep_and_set_for_the_next_period() {
        let w = world();
        let u = UserId::new(1);
        let daily = Schedule::OFF.set(Interval::Daily, Keep::new(1).unwrap(), w.clock.now());
        w.records.set_schedule(u, daily).await.unwrap();
        assert_eq!(w.service.run_due().await, 0, "not due yet");
        for day in 1..=3 {
            w.clock.set(w.clock.now() + chrono::Duration::days(1));
            assert_eq!(w.service.run_due().await, 1, "day {day}");
            assert_eq!(w.service.run_due().await, 0, "once per period");
        }
        assert_eq!(w.counts.runs.load(Ordering::Relaxed), 3);
        assert_eq!(w.service.history(u, 10).await.unwrap().len(), 1, "keep 1");
        assert_eq!(w.objects.keys().len(), 1, "pruned objects deleted");
        // A failing run is counted and not retried before its next due time.
        w.clock.set(w.clock.now() + chrono::Duration::days(1));
        w.records.fail_next_record();
        assert_eq!(w.service.run_due().await, 0);
        assert_eq!(w.counts.failures.load(Ordering::Relaxed), 1);
        assert_eq!(w.service.run_due().await, 0);
        let next = w.service.schedule(u).await.unwrap().next_run_at.unwrap();
        assert!(next > w.clock.now());
    }
}
