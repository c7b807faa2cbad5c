//! What settings refuses, and the store errors it passes on.

use ayubi_kernel::StoreError;

/// Everything settings can refuse.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// One or more keys or fields broke a rule: `(key, message)` each.
    #[error("invalid settings")]
    Invalid(Vec<(String, String)>),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for SettingsError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Settings' result type.
pub type Result<T, E = SettingsError> = std::result::Result<T, E>;
