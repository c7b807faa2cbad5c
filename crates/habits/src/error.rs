//! What habits refuses, and the store errors it passes on.

use ayubi_kernel::StoreError;

/// Everything habits can refuse.
#[derive(Debug, thiserror::Error)]
pub enum HabitError {
    /// A field broke a rule.
    #[error("{field}: {message}")]
    Invalid {
        /// The request field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No such habit (or completion, or skip) for this user.
    #[error("not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for HabitError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> HabitError {
    HabitError::Invalid {
        field,
        message: message.into(),
    }
}

/// Habits' result type.
pub type Result<T, E = HabitError> = std::result::Result<T, E>;
