use serde::{Deserialize, Serialize};
use std::fmt;

/// The server-assigned id of a user. Every port method takes it first, so no adapter can
/// read or write a row without saying whose it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(i64);

impl UserId {
    /// Wraps a stored id. Ids come from the database, so any `i64` is accepted.
    #[must_use]
    pub const fn new(id: i64) -> Self {
        Self(id)
    }

    /// The raw id, for adapters and token claims.
    #[must_use]
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
