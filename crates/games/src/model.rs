//! The vocabulary of game stats.

use crate::present::Stats;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;

/// A game platform whose stats the dashboard shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Steam Web API: player summary, owned games and playtime.
    Steam,
    /// FACEIT Data API v4: player by nickname, CS2 stats.
    Faceit,
}

impl Platform {
    /// Parses `steam` or `faceit`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "steam" => Some(Self::Steam),
            "faceit" => Some(Self::Faceit),
            _ => None,
        }
    }

    /// The stored and wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Steam => "steam",
            Self::Faceit => "faceit",
        }
    }

    /// The profile field that links an account on this platform.
    #[must_use]
    pub fn profile_field(self) -> &'static str {
        match self {
            Self::Steam => "steam_id",
            Self::Faceit => "faceit_nickname",
        }
    }

    /// The name people know it by.
    #[must_use]
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Steam => "Steam",
            Self::Faceit => "FACEIT",
        }
    }
}

/// One user's cached copy for one platform (a row of `game_stats_cache`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cached {
    /// The linked account the copy belongs to; a copy for an account the profile no
    /// longer links is never served.
    pub account: String,
    /// The platform's answers as received (`None` before the first usable answer).
    pub raw: Option<serde_json::Value>,
    /// Whether `raw` is a complete answer (a public profile with its library, a player
    /// with CS2 stats) rather than an empty or private one.
    pub complete: bool,
    /// When `raw` was fetched.
    pub updated_at: Option<DateTime<Utc>>,
    /// No upstream call before this instant (back-off after trouble, or `Retry-After`).
    pub retry_at: Option<DateTime<Utc>>,
    /// The [`PlatformError::label`] of the last trouble, so a request answered from the
    /// back-off says what the platform said.
    pub last_error: Option<String>,
}

/// What `GET /games/stats` answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GameStats {
    /// The platform.
    pub platform: Platform,
    /// When the platform gave these numbers.
    pub fetched_at: DateTime<Utc>,
    /// True when the copy is older than the TTL because the platform could not give a
    /// better one.
    pub stale: bool,
    /// What we show.
    pub data: Stats,
}

/// Why a platform gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// The platform knows no such account (Steam: no player with that id; FACEIT: no
    /// player with that nickname).
    #[error("no such account")]
    NotFound,
    /// The platform refused our API key (401/403): the operator must act.
    #[error("the API key was rejected")]
    KeyRejected,
    /// Any other trouble: a 5xx (after one retry), a 429, a timeout, a connection error,
    /// a body that is not the documented JSON.
    #[error("{reason}")]
    Unavailable {
        /// What happened, without the URL (it can carry the key).
        reason: String,
        /// The platform's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
}

impl PlatformError {
    /// A short label for metrics and logs.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::KeyRejected => "key_rejected",
            Self::Unavailable { .. } => "unavailable",
        }
    }

    /// The error a stored [`PlatformError::label`] stands for (the reason is not kept).
    #[must_use]
    pub fn from_label(label: &str) -> Self {
        match label {
            "not_found" => Self::NotFound,
            "key_rejected" => Self::KeyRejected,
            _ => Self::Unavailable {
                reason: String::new(),
                retry_after: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_stands_for_its_error() {
        for e in [
            PlatformError::NotFound,
            PlatformError::KeyRejected,
            PlatformError::Unavailable {
                reason: String::new(),
                retry_after: None,
            },
        ] {
            assert_eq!(PlatformError::from_label(e.label()), e);
        }
    }
}
