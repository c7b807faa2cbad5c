use crate::{StoreError, UserId};
use chrono::{DateTime, Utc};

/// A response saved under an `Idempotency-Key`, replayed byte for byte on a retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedResponse {
    /// HTTP status of the first response.
    pub status: u16,
    /// The body as stored (the HTTP layer decides its encoding, e.g. encrypted).
    pub body: Vec<u8>,
}

/// A saved response and the fingerprint of the request that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedRecord {
    /// Digest of the first request.
    pub fingerprint: Vec<u8>,
    /// What it answered.
    pub response: SavedResponse,
}

/// Reads and prunes saved responses; writing happens inside each repository's create
/// transaction (the storage adapter's concern).
#[async_trait::async_trait]
pub trait IdempotencyStore: Send + Sync + std::fmt::Debug {
    /// The record saved for `(user, key)` at or after `not_before`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`]; no record is `Ok(None)`.
    async fn find(
        &self,
        user: UserId,
        key: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Option<SavedRecord>, StoreError>;

    /// Deletes every record saved before `before`; returns how many.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn purge(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}
