//! What backup can refuse.

/// Everything backup can refuse.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The document breaks a rule; each entry names a path (`journal[3].mood`) and what is
    /// wrong there.
    #[error("invalid backup document")]
    Invalid(Vec<(String, String)>),
}

/// Backup's result type.
pub type Result<T, E = BackupError> = std::result::Result<T, E>;
