//! What games refuses, and the store errors it passes on.

use crate::Platform;
use ayubi_kernel::StoreError;

/// Everything game stats can refuse.
#[derive(Debug, thiserror::Error)]
pub enum GamesError {
    /// The profile links no account on this platform.
    #[error("no {} account is linked in the profile", .0.display_name())]
    NotLinked(Platform),
    /// The server has no API key for this platform.
    #[error("{} stats are not configured on this server", .0.display_name())]
    NotConfigured(Platform),
    /// The platform knows no account by the linked id or nickname.
    #[error("{} has no account by this {}", .0.display_name(), .0.profile_field())]
    UnknownAccount(Platform),
    /// The platform refused the server's API key.
    #[error("{} refused this server's API key", .0.display_name())]
    KeyRejected(Platform),
    /// The platform could not answer and there is no copy to serve.
    #[error("{} is not answering; retry in {retry_after_secs}s", platform.display_name())]
    Unavailable {
        /// Which one.
        platform: Platform,
        /// When asking again makes sense.
        retry_after_secs: u64,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The result type of game stats.
pub type Result<T, E = GamesError> = std::result::Result<T, E>;
