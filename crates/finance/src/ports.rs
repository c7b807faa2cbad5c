//! Driven ports of finance.

use crate::model::*;
use ayubi_kernel::{DateRange, Event, StoreError, UserId, Write};
use chrono::{DateTime, Utc};

/// Storage of categories and entries. Writes commit rows, the change-log entry and the
/// idempotent response in one transaction.
#[async_trait::async_trait]
pub trait FinanceStore: Send + Sync + std::fmt::Debug {
    /// Creates a category.
    ///
    /// # Errors
    /// MUST return [`StoreError::Conflict`] when the user has a category of that name and
    /// kind; [`StoreError::IdempotencyRace`]; [`StoreError::Unavailable`].
    async fn create_category(
        &self,
        user: UserId,
        f: &CategoryFields,
        write: Write,
    ) -> Result<Category, StoreError>;

    /// The user's categories, by name.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn categories(&self, user: UserId, limit: u32) -> Result<Vec<Category>, StoreError>;

    /// Replaces a category.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] on a duplicate name.
    async fn update_category(
        &self,
        user: UserId,
        id: i64,
        f: &CategoryFields,
        write: Write,
    ) -> Result<Category, StoreError>;

    /// Deletes a category.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; MUST return [`StoreError::Conflict`] (and delete
    /// nothing) while entries use it.
    async fn delete_category(
        &self,
        user: UserId,
        id: i64,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Creates an entry.
    ///
    /// # Errors
    /// MUST return [`StoreError::Conflict`]`("category_id")` when the category is not the
    /// user's or of the other kind (checked in the transaction);
    /// [`StoreError::IdempotencyRace`]; [`StoreError::Unavailable`].
    async fn create_entry(
        &self,
        user: UserId,
        f: &EntryFields,
        write: Write,
    ) -> Result<Entry, StoreError>;

    /// Entries matching the filter, newest date then id first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn entries(
        &self,
        user: UserId,
        filter: EntryFilter,
        limit: u32,
    ) -> Result<Vec<Entry>, StoreError>;

    /// One entry.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    async fn entry(&self, user: UserId, id: i64) -> Result<Entry, StoreError>;

    /// Replaces an entry.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`]`("category_id")` as on create.
    async fn update_entry(
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
    async fn delete_entry(
        &self,
        user: UserId,
        id: i64,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Totals per (category, kind) over `range` in `currency`, in one query.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn totals(
        &self,
        user: UserId,
        range: DateRange,
        currency: &Currency,
    ) -> Result<Vec<CategoryTotal>, StoreError>;

    /// The user's `currency` setting (EUR when unset).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn default_currency(&self, user: UserId) -> Result<Currency, StoreError>;
}
