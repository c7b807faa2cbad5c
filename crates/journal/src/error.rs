//! What journal refuses, and the store errors it passes on.

use ayubi_kernel::StoreError;

/// Everything the journal can refuse.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A field broke a rule.
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
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for JournalError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> JournalError {
    JournalError::Invalid {
        field,
        message: message.into(),
    }
}

/// The journal's result type.
pub type Result<T, E = JournalError> = std::result::Result<T, E>;
