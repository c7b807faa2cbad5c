//! Who may create an account: the sign-up mode, single-use invites, and the operator's
//! way in. Codes are secrets like refresh tokens: only their digests are stored, and the
//! code itself is shown once, to whoever made it.

use crate::error::{IdentityError, Result};
use crate::model::TokenDigest;
use ayubi_kernel::UserId;
use chrono::{DateTime, Duration, Utc};

/// Prefix of invite codes, so one pasted in the wrong place is recognisable.
pub const INVITE_PREFIX: &str = "ayubi_inv_";

/// How sign-up works for this deployment (configured as `open`, `invite` or `closed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    /// Anyone may register (development).
    #[default]
    Open,
    /// Registering takes a valid, unused, unexpired invite code (production).
    Invite,
    /// Nobody registers; the operator creates accounts (`ayubi user create`).
    Closed,
}

impl Registration {
    /// The name as configured.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Invite => "invite",
            Self::Closed => "closed",
        }
    }
}

/// How long an invite stays usable: 1–30 days, 7 unless said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InviteLifetime(i64);

impl InviteLifetime {
    /// The lifetime when none is given.
    pub const DEFAULT: Self = Self(7);

    /// Parses a number of days; `None` is [`InviteLifetime::DEFAULT`].
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] on `expires_in_days` outside 1–30.
    pub fn days(days: Option<i64>) -> Result<Self> {
        match days {
            None => Ok(Self::DEFAULT),
            Some(d) if (1..=30).contains(&d) => Ok(Self(d)),
            Some(_) => Err(IdentityError::invalid(
                "expires_in_days",
                "must be between 1 and 30",
            )),
        }
    }

    /// As a duration.
    #[must_use]
    pub fn duration(self) -> Duration {
        Duration::days(self.0)
    }
}

/// What the maker wrote to remember an invite by: trimmed, at most 200 characters;
/// blank is none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InviteNote(Option<String>);

impl InviteNote {
    /// Parses a note.
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] on `note` over 200 characters.
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        let Some(raw) = raw else {
            return Ok(Self(None));
        };
        if raw.chars().count() > 200 {
            return Err(IdentityError::invalid(
                "note",
                "must be at most 200 characters",
            ));
        }
        let s = raw.trim();
        Ok(Self((!s.is_empty()).then(|| s.to_owned())))
    }

    /// Wraps a stored note.
    #[must_use]
    pub fn from_trusted(stored: Option<String>) -> Self {
        Self(stored)
    }

    /// The note, if any.
    #[must_use]
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// An invite as listed (never with its code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// Server-assigned id.
    pub id: i64,
    /// Who made it (`None`: the operator, from the command line).
    pub created_by: Option<UserId>,
    /// The maker's note.
    pub note: InviteNote,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// After this it no longer works.
    pub expires_at: DateTime<Utc>,
    /// When it was used to create an account.
    pub used_at: Option<DateTime<Utc>>,
}

/// An invite just created: the row and its code, shown this once.
#[derive(Debug, Clone)]
pub struct CreatedInvite {
    /// The stored row.
    pub invite: Invite,
    /// The code to hand to the person invited.
    pub code: String,
}

/// What storing a new invite needs.
#[derive(Debug, Clone)]
pub struct NewInvite {
    /// The code, shown once: returned in the [`CreatedInvite`], never stored.
    pub code: String,
    /// Digest of the code.
    pub digest: TokenDigest,
    /// The maker's note.
    pub note: InviteNote,
    /// Creation instant.
    pub now: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// A sign-up the deployment refuses. The reasons an invite fails (unknown, used,
/// expired, revoked) are one answer, so codes cannot be probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUpRefused {
    /// `registration = invite` and no valid invite came with the request.
    InviteRequired,
    /// `registration = closed`.
    Closed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_lifetimes_and_notes_are_parsed() {
        assert_eq!(InviteLifetime::days(None).unwrap(), InviteLifetime::DEFAULT);
        assert!(InviteLifetime::days(Some(0)).is_err());
        assert!(InviteLifetime::days(Some(31)).is_err());
        assert_eq!(
            InviteLifetime::days(Some(30)).unwrap().duration(),
            Duration::days(30)
        );
        assert_eq!(InviteNote::parse(Some("  ")).unwrap().as_deref(), None);
        assert_eq!(
            InviteNote::parse(Some(" mum ")).unwrap().as_deref(),
            Some("mum")
        );
        assert!(InviteNote::parse(Some(&"x".repeat(201))).is_err());
    }
}
