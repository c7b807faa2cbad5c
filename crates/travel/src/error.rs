//! What travel refuses, and the store errors it passes on.

use ayubi_kernel::StoreError;

/// Everything travel can refuse.
#[derive(Debug, thiserror::Error)]
pub enum TravelError {
    /// A field broke a rule.
    #[error("{field}: {message}")]
    Invalid {
        /// The request field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The country is already on that list.
    #[error("{0}")]
    Conflict(String),
    /// Not on the list (or not a country).
    #[error("not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for TravelError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(what) => Self::Conflict(what),
            other => Self::Store(other),
        }
    }
}

/// Travel's result type.
pub type Result<T, E = TravelError> = std::result::Result<T, E>;
