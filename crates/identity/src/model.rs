//! Users, credentials, sessions and tokens. Constructors parse; a value that exists is valid.

use crate::error::{IdentityError, Result};
use ayubi_kernel::UserId;
use chrono::{DateTime, Utc};
use std::fmt;
use uuid::Uuid;

/// A normalised email address (trimmed, lower-cased), at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses an address as a user typed it.
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] on `email` when it is not `local@domain.tld`-shaped.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim().to_lowercase();
        let bad = || IdentityError::invalid("email", "must be a valid email address");
        if s.is_empty() || s.chars().count() > 254 || s.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.len() > 64
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Self(s))
    }

    /// Wraps an address read back from storage, where it was stored parsed.
    #[must_use]
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }

    /// The address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the policy: 12–128 characters (NIST 800-63B length rule; no
/// composition rules). Its `Debug` never prints it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// The fewest characters a new password may have.
    pub const MIN: usize = 12;
    /// The most characters a password may have (bounds the hashing cost of a request).
    pub const MAX: usize = 128;

    /// Checks a new password against the policy; `field` names it in the error.
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] when it is shorter than 12 or longer than 128 characters.
    pub fn new(field: &'static str, raw: String) -> Result<Self> {
        let n = raw.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&n) {
            return Err(IdentityError::invalid(
                field,
                format!("must be between {} and {} characters", Self::MIN, Self::MAX),
            ));
        }
        Ok(Self(raw))
    }

    /// A password offered to log in or confirm: only its length is bounded, so a login
    /// with a too-short password is just a wrong password, not a policy lecture.
    ///
    /// # Errors
    /// [`IdentityError::InvalidCredentials`] when it is empty or over 128 characters.
    pub fn attempt(raw: String) -> Result<Self> {
        let n = raw.chars().count();
        if n == 0 || n > Self::MAX {
            return Err(IdentityError::InvalidCredentials);
        }
        Ok(Self(raw))
    }

    /// The secret, for the hasher only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A display name: trimmed, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Parses a display name.
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] on `display_name` when blank or over 100 characters.
    pub fn parse(raw: &str) -> Result<Self> {
        // The length as sent (the API document can state that one), emptiness once trimmed.
        let s = raw.trim();
        if s.is_empty() || raw.chars().count() > 100 {
            return Err(IdentityError::invalid(
                "display_name",
                "must be between 1 and 100 characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// Wraps a stored name.
    #[must_use]
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A registered user as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Server-assigned id.
    pub id: UserId,
    /// Login email.
    pub email: Email,
    /// Optional name to show.
    pub display_name: Option<DisplayName>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

/// A PHC-format password hash (`$argon2id$v=19$…`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string produced by a hasher or read from storage.
    #[must_use]
    pub fn new(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

/// A login session: one refresh-token family and the access tokens issued from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(pub Uuid);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A one-way digest of an opaque token (refresh token, personal access token). Only
/// digests are stored, so a database leak reveals no usable token.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenDigest(pub Vec<u8>);

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenDigest(..)")
    }
}

/// What a new session starts with.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session (token family) id, carried in access tokens as `sid`.
    pub id: SessionId,
    /// Digest of its first refresh token.
    pub refresh: TokenDigest,
    /// When that refresh token stops working.
    pub refresh_expires_at: DateTime<Utc>,
    /// Creation instant.
    pub now: DateTime<Utc>,
}

/// A refresh token as stored, looked up by digest.
#[derive(Debug, Clone)]
pub struct RefreshRecord {
    /// Whose it is.
    pub user: UserId,
    /// Its family.
    pub session: SessionId,
    /// Whether it was already exchanged for a new one (a second use is a reuse).
    pub used: bool,
    /// Whether its family was revoked (logout, reuse, password change).
    pub revoked: bool,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// The access/refresh pair handed to a client.
#[derive(Debug, Clone)]
pub struct TokenPair {
    /// Short-lived signed access token.
    pub access_token: String,
    /// Opaque, single-use refresh token.
    pub refresh_token: String,
    /// Access-token lifetime in seconds.
    pub expires_in: i64,
}

/// The verified content of an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessClaims {
    /// `sub`.
    pub user: UserId,
    /// `sid`.
    pub session: SessionId,
}

/// The verified content of a device token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceClaims {
    /// The account the device logged in to.
    pub user: UserId,
    /// Ties the token to the account's current credentials: a digest of the password
    /// hash, so changing the password (which revokes every session) voids it too.
    pub binding: String,
}

/// Who is calling, once a bearer token is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user: UserId,
    /// How they proved it.
    pub via: Credential,
    /// When the credential stops working on its own (`None`: a personal access token
    /// without expiry).
    pub expires_at: Option<DateTime<Utc>>,
}

/// The kind of bearer token a request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// An access token of a login session.
    Session(SessionId),
    /// A personal access token, by id.
    PersonalToken(i64),
}

/// A personal access token's name: trimmed, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    /// Parses a token name.
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] on `name` when blank or over 100 characters.
    pub fn parse(raw: &str) -> Result<Self> {
        // The length as sent (the API document can state that one), emptiness once trimmed.
        let s = raw.trim();
        if s.is_empty() || raw.chars().count() > 100 {
            return Err(IdentityError::invalid(
                "name",
                "must be between 1 and 100 characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// Wraps a stored name.
    #[must_use]
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A personal access token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalToken {
    /// Server-assigned id.
    pub id: i64,
    /// Owner.
    pub user: UserId,
    /// What the user called it.
    pub name: TokenName,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Optional expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last successful use, coarse (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A personal access token just created: the row plus its secret, shown this once.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    /// The stored row.
    pub token: PersonalToken,
    /// The bearer secret.
    pub secret: String,
}

/// What storing a new personal access token needs.
#[derive(Debug, Clone)]
pub struct NewPersonalToken {
    /// Its name.
    pub name: TokenName,
    /// The bearer secret, shown once: returned in the [`CreatedToken`], never stored.
    pub secret: String,
    /// Digest of the secret.
    pub digest: TokenDigest,
    /// Creation instant.
    pub now: DateTime<Utc>,
    /// Optional expiry.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A personal access token looked up by digest, for authentication.
#[derive(Debug, Clone)]
pub struct PersonalTokenRecord {
    /// The token's id.
    pub id: i64,
    /// Owner.
    pub user: UserId,
    /// Optional expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last recorded use.
    pub last_used_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ")
                .map(|e| e.as_str().to_owned())
                .ok(),
            Some("ada@example.com".to_owned())
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@x.io",
            "a@x..io",
            "a@b@c.io",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn password_policy_counts_characters_not_bytes() {
        assert!(Password::new("password", "ä".repeat(12)).is_ok());
        assert!(Password::new("password", "a".repeat(11)).is_err());
        assert!(Password::new("password", "a".repeat(129)).is_err());
        assert!(Password::new("password", "a".repeat(128)).is_ok());
        assert_eq!(
            format!("{:?}", Password::attempt("secret".into()).ok()),
            "Some(Password(***))"
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  Ada ")
                .ok()
                .map(|d| d.as_str().to_owned()),
            Some("Ada".into())
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(TokenName::parse(&"x".repeat(101)).is_err());
    }
}
