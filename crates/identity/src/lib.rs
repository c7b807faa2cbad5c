//! Ayubi identity: who a request is.
//!
//! Owns users and their credentials, the password policy, login sessions with rotating
//! refresh-token families (reuse of a rotated token revokes the family), and personal
//! access tokens for scripts, device tokens that keep an owner's devices clear of the
//! per-account login limit, and who may sign up (open, by single-use invite, or closed).
//! It decides *what* happens on register, login, refresh,
//! logout, password change and account deletion; how passwords are hashed, how access
//! tokens are signed and where rows live are driven ports ([`ports`]) implemented by
//! adapters. It does not own anything a user stores (habits, water, …): deleting a user
//! relies on the storage adapter cascading to every user-owned table.
//!
//! # Example
//!
//! Values are parsed once, at the edge, and name the field they refuse:
//!
//! ```
//! use ayubi_identity::{Email, IdentityError, Password};
//!
//! assert_eq!(Email::parse(" Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
//! let Err(IdentityError::Invalid { field, .. }) = Password::new("password", "short".into()) else {
//!     panic!("the policy wants 12 characters")
//! };
//! assert_eq!(field, "password");
//! ```

#![warn(missing_docs)]

pub mod error;
pub mod invite;
pub mod model;
pub mod ports;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{IdentityError, Result};
pub use invite::{
    CreatedInvite, INVITE_PREFIX, Invite, InviteLifetime, InviteNote, NewInvite, Registration,
    SignUpRefused,
};
pub use model::*;
pub use service::{IdentityConfig, IdentityService};
