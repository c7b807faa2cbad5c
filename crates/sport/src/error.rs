//! What sport refuses, naming the field.

use ayubi_kernel::StoreError;

/// Everything sport can refuse.
#[derive(Debug, thiserror::Error)]
pub enum SportError {
    /// A field broke a rule; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        /// The request field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No such entry for this user.
    #[error("not found")]
    NotFound,
    /// Storage failed (or an idempotency race, which the HTTP layer replays).
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for SportError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> SportError {
    SportError::Invalid {
        field,
        message: message.into(),
    }
}

/// Sport's result type.
pub type Result<T, E = SportError> = std::result::Result<T, E>;
