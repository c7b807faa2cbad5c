/// What a storage adapter reports, whatever the database. Domain errors wrap it; the HTTP
/// layer maps each kind to one status.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist for this user (another user's row is reported the same way).
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; the string names what was duplicated.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The same `Idempotency-Key` was saved by a concurrent request first: nothing was
    /// written; the caller should replay the saved response.
    #[error("idempotency key already used")]
    IdempotencyRace,
    /// The database has no room for the write (disk full, a SQLite page quota): nothing
    /// was written, reads still work.
    #[error("storage full")]
    Full(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database could not be reached or failed; the request cannot be served.
    #[error("storage unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}
