//! Driven ports of travel.

use crate::model::*;
use ayubi_kernel::{Event, StoreError, UserId, Write};
use chrono::{DateTime, Utc};

/// Storage of the wishlist and visits. Writes commit rows, change-log entries and the
/// idempotent response in one transaction.
#[async_trait::async_trait]
pub trait TravelStore: Send + Sync + std::fmt::Debug {
    /// Puts a country on the wishlist.
    ///
    /// # Errors
    /// MUST return [`StoreError::Conflict`] (`"already on the wishlist"` or `"already
    /// visited"`) when the country is on either list — checked inside the transaction;
    /// [`StoreError::IdempotencyRace`]; [`StoreError::Unavailable`].
    async fn add_wish(
        &self,
        user: UserId,
        item: &WishlistItem,
        write: Write,
    ) -> Result<WishlistItem, StoreError>;

    /// Takes a country off the wishlist and records `event`.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when it is not on the user's wishlist.
    async fn remove_wish(
        &self,
        user: UserId,
        iso3: &str,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Records a visit and, in the same transaction, takes the country off the wishlist
    /// (recording `wishlist_removed` right after the visit, with the next `seq`, when it
    /// was there).
    ///
    /// # Errors
    /// MUST return [`StoreError::Conflict`] when already visited;
    /// [`StoreError::IdempotencyRace`]; [`StoreError::Unavailable`].
    async fn add_visit(
        &self,
        user: UserId,
        visit: &Visit,
        write: Write,
        wishlist_removed: Event,
    ) -> Result<Visit, StoreError>;

    /// Removes a visit and records `event`.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when the user has not visited it.
    async fn remove_visit(
        &self,
        user: UserId,
        iso3: &str,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The wishlist, newest first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn wishlist(&self, user: UserId, limit: u32) -> Result<Vec<WishlistItem>, StoreError>;

    /// Visits, newest visit date first (undated last), then newest first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn visits(&self, user: UserId, limit: u32) -> Result<Vec<Visit>, StoreError>;

    /// Every visited and wishlisted code, read in one statement (one snapshot).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn codes(&self, user: UserId) -> Result<(Vec<String>, Vec<String>), StoreError>;
}
