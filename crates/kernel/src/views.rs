//! The read-view cache port: the serialized answers of a user's read-heavy aggregates
//! (sport, habit and travel stats, the finance summary), invalidated as a whole on every
//! change the user commits.
//!
//! Invalidation is by generation, not by key: a write starts a new generation of the
//! user's views (one operation, no key listing), and a value is stored under the
//! generation that was current when its computation began. A value computed from data
//! read before a write committed is therefore stored under the old generation and never
//! read again, whatever the interleaving.

use crate::UserId;

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewLookup {
    /// The user's current generation; store a computed value under it.
    pub generation: u64,
    /// The value stored under `key` at that generation.
    pub value: Option<Vec<u8>>,
}

/// The cache could not be used (down, timed out, refused). Callers bypass it.
#[derive(Debug, thiserror::Error)]
#[error("view cache unavailable: {0}")]
pub struct ViewCacheError(pub String);

/// What a writer needs of the views: to make the user's stale. The storage adapter
/// holds only this, after every commit.
#[async_trait::async_trait]
pub trait ViewInvalidation: Send + Sync + std::fmt::Debug {
    /// Starts a new generation: every value stored before is unreachable. Called after
    /// each commit of the user's data, before the writer is answered.
    ///
    /// # Errors
    /// [`ViewCacheError`]: the generation is NOT bumped; the caller must not serve the
    /// user's views from the cache until a later `invalidate` succeeds.
    async fn invalidate(&self, user: UserId) -> Result<(), ViewCacheError>;

    /// Told the entity of each committed change of the user's (before
    /// [`ViewInvalidation::invalidate`]): a cache of what only some entities change (the
    /// time zone, by the profile) forgets it here rather than on every write. Must not
    /// block.
    fn changed(&self, user: UserId, entity: &str) {
        let _ = (user, entity);
    }
}

/// Per-user read views.
#[async_trait::async_trait]
pub trait ViewCache: ViewInvalidation {
    /// The user's generation and what `key` holds at it.
    ///
    /// # Errors
    /// [`ViewCacheError`] when the cache cannot answer; the caller computes the view.
    async fn get(&self, user: UserId, key: &str) -> Result<ViewLookup, ViewCacheError>;

    /// Stores `value` under `key` for `generation`.
    ///
    /// # Errors
    /// [`ViewCacheError`]; nothing is stored.
    async fn put(
        &self,
        user: UserId,
        generation: u64,
        key: &str,
        value: &[u8],
    ) -> Result<(), ViewCacheError>;
}
