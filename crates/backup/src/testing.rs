//! In-memory fakes of backup's ports (feature `testing`): the rules of
//! [`BackupService`](crate::BackupService) — an object never outlives a failed record, a
//! due run is made once and pruned — without a database, a disk or a bucket. The spool's
//! digest is a stand-in (the length), not SHA-256: the real one is `ayubi-storage`'s.

use crate::document::{Row, WaterRow};
use crate::error::ObjectError;
use crate::import::{Import, Outcome};
use crate::ports::{
    BackupObjects, BackupRecords, ByteSource, ExportSource, ImportOptions, ImportStore, NewBackup,
    RowSink, SpoolFile, Spools, StoredBackup, Trigger,
};
use crate::schedule::Schedule;
use ayubi_kernel::{StoreError, UserId};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Bytes handed out in one chunk.
#[derive(Debug)]
struct Bytes(Option<Vec<u8>>);

#[async_trait::async_trait]
impl ByteSource for Bytes {
    async fn chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        Ok(self.0.take())
    }
}

/// Spools in memory.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemorySpools;

struct MemorySpool(Vec<u8>);

#[async_trait::async_trait]
impl SpoolFile for MemorySpool {
    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }

    async fn finish(self: Box<Self>) -> std::io::Result<(Box<dyn ByteSource>, u64, String)> {
        let size = self.0.len() as u64;
        Ok((Box::new(Bytes(Some(self.0))), size, format!("len:{size}")))
    }
}

#[async_trait::async_trait]
impl Spools for MemorySpools {
    async fn create(&self) -> std::io::Result<Box<dyn SpoolFile>> {
        Ok(Box::new(MemorySpool(Vec::new())))
    }
}

/// An object store in memory.
#[derive(Debug, Default)]
pub struct MemoryObjects {
    objects: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemoryObjects {
    /// The keys stored, sorted.
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        let mut k: Vec<String> = locked(&self.objects).keys().cloned().collect();
        k.sort();
        k
    }
}

#[async_trait::async_trait]
impl BackupObjects for MemoryObjects {
    async fn put(&self, key: &str, body: &mut dyn ByteSource) -> Result<(), ObjectError> {
        let mut all = Vec::new();
        while let Some(c) = body
            .chunk()
            .await
            .map_err(|e| ObjectError::Failed(e.to_string()))?
        {
            all.extend(c);
        }
        locked(&self.objects).insert(key.to_owned(), all);
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<(u64, Box<dyn ByteSource>), ObjectError> {
        let bytes = locked(&self.objects)
            .get(key)
            .cloned()
            .ok_or(ObjectError::NotFound)?;
        Ok((bytes.len() as u64, Box::new(Bytes(Some(bytes)))))
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        locked(&self.objects).remove(key);
        Ok(())
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<usize, ObjectError> {
        let mut o = locked(&self.objects);
        let before = o.len();
        o.retain(|k, _| !(k == prefix || k.starts_with(&format!("{prefix}/"))));
        Ok(before - o.len())
    }
}

/// A user's data as a few water rows, exported; imports counted, never applied.
#[derive(Debug, Default)]
pub struct MemoryRows {
    water: Mutex<HashMap<UserId, Vec<WaterRow>>>,
}

impl MemoryRows {
    /// Gives `user` these water rows.
    pub fn set_water(&self, user: UserId, rows: Vec<WaterRow>) {
        locked(&self.water).insert(user, rows);
    }
}

#[async_trait::async_trait]
impl ExportSource for MemoryRows {
    async fn export(&self, user: UserId, sink: &mut dyn RowSink) -> Result<(), StoreError> {
        let rows = locked(&self.water).get(&user).cloned().unwrap_or_default();
        for r in rows {
            sink.row(Row::Water(r)).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ImportStore for MemoryRows {
    async fn import(
        &self,
        _user: UserId,
        import: &Import,
        options: ImportOptions,
    ) -> Result<Outcome, StoreError> {
        Ok(Outcome::for_tables(
            options.mode,
            options.dry_run,
            &import.tables(),
        ))
    }
}

#[derive(Debug, Default)]
struct Records {
    last_id: i64,
    backups: Vec<(UserId, StoredBackup)>,
    schedules: HashMap<UserId, Schedule>,
    leases: HashMap<UserId, (String, DateTime<Utc>)>,
}

/// Backup records and schedules in memory. `fail_next_record` makes the next
/// [`BackupRecords::record`] fail, as a database going away between upload and record.
#[derive(Debug, Default)]
pub struct MemoryRecords {
    state: Mutex<Records>,
    fail_next_record: AtomicBool,
}

impl MemoryRecords {
    /// The next record fails with `Unavailable`.
    pub fn fail_next_record(&self) {
        self.fail_next_record.store(true, Ordering::Relaxed);
    }
}

#[async_trait::async_trait]
impl BackupRecords for MemoryRecords {
    async fn record(&self, user: UserId, backup: NewBackup) -> Result<StoredBackup, StoreError> {
        if self.fail_next_record.swap(false, Ordering::Relaxed) {
            return Err(StoreError::Unavailable("the fake was told to fail".into()));
        }
        let mut s = locked(&self.state);
        s.last_id += 1;
        let b = StoredBackup {
            id: s.last_id,
            created_at: backup.created_at,
            trigger: backup.trigger,
            size_bytes: backup.size_bytes,
            sha256: backup.sha256,
            object_key: backup.object_key,
        };
        s.backups.push((user, b.clone()));
        Ok(b)
    }

    async fn list(&self, user: UserId, limit: u64) -> Result<Vec<StoredBackup>, StoreError> {
        let s = locked(&self.state);
        Ok(s.backups
            .iter()
            .rev()
            .filter(|(u, _)| *u == user)
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(_, b)| b.clone())
            .collect())
    }

    async fn get(&self, user: UserId, id: i64) -> Result<StoredBackup, StoreError> {
        let s = locked(&self.state);
        s.backups
            .iter()
            .find(|(u, b)| *u == user && b.id == id)
            .map(|(_, b)| b.clone())
            .ok_or(StoreError::NotFound)
    }

    async fn remove(&self, user: UserId, id: i64) -> Result<StoredBackup, StoreError> {
        let b = self.get(user, id).await?;
        locked(&self.state)
            .backups
            .retain(|(u, x)| !(*u == user && x.id == id));
        Ok(b)
    }

    async fn prune(&self, user: UserId, keep: u8) -> Result<Vec<StoredBackup>, StoreError> {
        let mut s = locked(&self.state);
        let scheduled: Vec<i64> = s
            .backups
            .iter()
            .rev()
            .filter(|(u, b)| *u == user && b.trigger == Trigger::Scheduled)
            .skip(usize::from(keep))
            .map(|(_, b)| b.id)
            .collect();
        let gone: Vec<StoredBackup> = s
            .backups
            .iter()
            .filter(|(_, b)| scheduled.contains(&b.id))
            .map(|(_, b)| b.clone())
            .collect();
        s.backups.retain(|(_, b)| !scheduled.contains(&b.id));
        Ok(gone)
    }

    async fn schedule(&self, user: UserId) -> Result<Schedule, StoreError> {
        Ok(locked(&self.state)
            .schedules
            .get(&user)
            .copied()
            .unwrap_or(Schedule::OFF))
    }

    async fn set_schedule(&self, user: UserId, schedule: Schedule) -> Result<Schedule, StoreError> {
        locked(&self.state).schedules.insert(user, schedule);
        Ok(schedule)
    }

    async fn due(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<UserId>, StoreError> {
        let s = locked(&self.state);
        Ok(s.schedules
            .iter()
            .filter(|(u, sch)| {
                sch.next_run_at.is_some_and(|at| at <= now)
                    && s.leases.get(u).is_none_or(|(_, until)| *until <= now)
            })
            .map(|(u, _)| *u)
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect())
    }

    async fn claim(
        &self,
        user: UserId,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Schedule>, StoreError> {
        let mut s = locked(&self.state);
        let Some(sch) = s.schedules.get(&user).copied() else {
            return Ok(None);
        };
        let due = sch.next_run_at.is_some_and(|at| at <= now);
        let free = s.leases.get(&user).is_none_or(|(_, held)| *held <= now);
        if !(due && free) {
            return Ok(None);
        }
        s.leases.insert(user, (owner.to_owned(), until));
        Ok(Some(sch))
    }

    async fn release(
        &self,
        user: UserId,
        owner: &str,
        next_run_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let mut s = locked(&self.state);
        if s.leases.get(&user).is_some_and(|(o, _)| o == owner) {
            s.leases.remove(&user);
            if let Some(sch) = s.schedules.get_mut(&user) {
                sch.next_run_at = next_run_at;
            }
        }
        Ok(())
    }
}
