//! What finance refuses, and the store errors it passes on.

use ayubi_kernel::StoreError;

/// Everything finance can refuse.
#[derive(Debug, thiserror::Error)]
pub enum FinanceError {
    /// A field broke a rule.
    #[error("{field}: {message}")]
    Invalid {
        /// The request field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A duplicate category, or a category that still has entries.
    #[error("{0}")]
    Conflict(String),
    /// No such entry or category for this user.
    #[error("not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for FinanceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(what) => Self::Conflict(what),
            other => Self::Store(other),
        }
    }
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> FinanceError {
    FinanceError::Invalid {
        field,
        message: message.into(),
    }
}

/// Finance's result type.
pub type Result<T, E = FinanceError> = std::result::Result<T, E>;
