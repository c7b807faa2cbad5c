//! What backup can refuse.

use ayubi_kernel::StoreError;

/// Everything backup can refuse.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The document breaks a rule; each entry names a path (`journal[3].mood`) and what is
    /// wrong there.
    #[error("invalid backup document")]
    Invalid(Vec<(String, String)>),
    /// No such stored backup for this user.
    #[error("not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for BackupError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

/// Backup's result type.
pub type Result<T, E = BackupError> = std::result::Result<T, E>;
