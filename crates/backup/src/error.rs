//! What backup can refuse, and what can fail under it.

use ayubi_kernel::StoreError;

/// Everything backup can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The document breaks a rule; each entry names a path (`journal[3].mood`) and what is
    /// wrong there.
    #[error("invalid backup document")]
    Invalid(Vec<(String, String)>),
    /// The database (`NotFound` for another user's or a missing backup).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The object store holding stored backups.
    #[error(transparent)]
    Objects(#[from] ObjectError),
    /// The spool file of an export.
    #[error("spool file: {0}")]
    Spool(#[from] std::io::Error),
}

/// Why the object store failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// No object under that key.
    #[error("no such object")]
    NotFound,
    /// The store could not be read or written.
    #[error("object store: {0}")]
    Failed(String),
}

/// Backup's result type.
pub type Result<T, E = BackupError> = std::result::Result<T, E>;
