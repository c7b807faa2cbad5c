//! What identity refuses, and the store errors it passes on.

use ayubi_kernel::StoreError;

/// Everything identity can refuse. The HTTP layer maps each variant to one status.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A field broke a rule; `field` names it for the client.
    #[error("{field}: {message}")]
    Invalid {
        /// The request field at fault.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// Email/password (or the confirmation password) did not match.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The bearer or refresh token is missing, malformed, expired, revoked or reused.
    #[error("invalid or expired token")]
    Unauthenticated,
    /// The email is already registered.
    #[error("email already registered")]
    EmailTaken,
    /// The deployment's sign-up mode refuses this registration.
    #[error("sign-up refused")]
    SignUpRefused(crate::SignUpRefused),
    /// The invite already created an account (it cannot be revoked).
    #[error("the invite was already used")]
    InviteUsed,
    /// No such row for this user.
    #[error("not found")]
    NotFound,
    /// A port failed (database down, hasher thread pool gone).
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for IdentityError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

impl IdentityError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// Identity's result type.
pub type Result<T, E = IdentityError> = std::result::Result<T, E>;
