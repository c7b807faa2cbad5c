//! Ayubi's credential adapters: the implementations of identity's crypto ports.
//!
//! Owns Argon2id password hashing off the async runtime with bounded concurrency
//! ([`Argon2Hasher`]), HS256 access and device tokens with the algorithm pinned
//! ([`JwtTokens`]), random opaque secrets and their digests ([`RandomSecrets`]), and the
//! sealing of responses saved under an `Idempotency-Key` ([`ResponseSealer`]), and the
//! Standard Webhooks signature of webhook deliveries ([`WebhookSecret`]). It owns no
//! rule of identity (password policy, sessions, revocation live in `ayubi-identity`) and
//! knows nothing of HTTP: any service that links `ayubi-identity` can use it.

#![warn(missing_docs)]

mod hasher;
mod sealer;
mod secrets;
mod tokens;
mod webhook;

pub use hasher::Argon2Hasher;
pub use sealer::ResponseSealer;
pub use secrets::{RandomSecrets, random_secret};
pub use tokens::{Claims, JwtTokens};
pub use webhook::{InvalidSecret, SECRET_BYTES, SECRET_PREFIX, WebhookSecret};
