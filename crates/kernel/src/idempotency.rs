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

/// Asks a repository to save the response to a create in the same transaction as the
/// rows it writes, so a crash can never leave a row without its saved response or the
/// reverse (architecture rule 4).
///
/// `render` turns what was created into the response; the repository calls it after the
/// rows are written and before it commits.
pub struct Idempotent<T> {
    /// Whose key it is: keys are per user.
    pub user: UserId,
    /// The client's key, already validated by the HTTP layer.
    pub key: String,
    /// A digest of the request (method, path, body), to refuse the same key with a
    /// different request.
    pub fingerprint: Vec<u8>,
    /// When the request arrived; saved as the record's age.
    pub now: DateTime<Utc>,
    /// A record saved before this instant has expired and may be replaced.
    pub expired_before: DateTime<Utc>,
    /// Builds the saved response from the created value.
    pub render: Box<dyn FnOnce(&T) -> SavedResponse + Send>,
}

impl<T> std::fmt::Debug for Idempotent<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotent")
            .field("user", &self.user)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Idempotent<T> {
    /// Adapts the request to a repository that creates a `U` from which the service builds
    /// the `T` the HTTP layer renders (e.g. a stored token row plus its one-time secret).
    #[must_use]
    pub fn contramap<U>(self, build: impl FnOnce(&U) -> T + Send + 'static) -> Idempotent<U> {
        let render = self.render;
        Idempotent {
            user: self.user,
            key: self.key,
            fingerprint: self.fingerprint,
            now: self.now,
            expired_before: self.expired_before,
            render: Box::new(move |u| render(&build(u))),
        }
    }
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
/// transaction (see [`Idempotent`]).
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
