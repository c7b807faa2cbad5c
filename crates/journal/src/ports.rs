//! Driven ports of the journal.

use crate::model::*;
use ayubi_kernel::{Event, StoreError, UserId, Write};
use chrono::{DateTime, Utc};

/// Storage and search of entries.
#[async_trait::async_trait]
pub trait JournalStore: Send + Sync + std::fmt::Debug {
    /// Writes an entry (its search index kept in the same transaction).
    ///
    /// # Errors
    /// [`StoreError::IdempotencyRace`]; [`StoreError::Unavailable`].
    async fn create(
        &self,
        user: UserId,
        f: &EntryFields,
        write: Write,
    ) -> Result<Entry, StoreError>;

    /// Entries matching the filter: by relevance when searching (then newest), else
    /// newest date then id first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn list(
        &self,
        user: UserId,
        filter: &Filter,
        limit: u32,
    ) -> Result<Vec<Entry>, StoreError>;

    /// One entry.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    async fn get(&self, user: UserId, id: i64) -> Result<Entry, StoreError>;

    /// Replaces an entry.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    async fn update(
        &self,
        user: UserId,
        id: i64,
        f: &EntryFields,
        write: Write,
    ) -> Result<Entry, StoreError>;

    /// Deletes an entry.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    async fn delete(
        &self,
        user: UserId,
        id: i64,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}
