//! Sealing of saved idempotent responses (AES-256-GCM).

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use ayubi_kernel::UserId;

/// Seals responses saved under an `Idempotency-Key` with AES-256-GCM, keyed by the
/// server secret *and* the client's key: a saved response may contain a secret shown
/// once (a personal access token), and a database dump alone must not reveal it.
#[derive(Clone)]
pub struct ResponseSealer {
    master: hmac::Key,
    rng: SystemRandom,
}

impl std::fmt::Debug for ResponseSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseSealer(..)")
    }
}

impl ResponseSealer {
    /// Derives the sealing master key from the server secret.
    #[must_use]
    pub fn new(server_secret: &[u8]) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, server_secret);
        let master = hmac::sign(&root, b"ayubi idempotency v1");
        Self {
            master: hmac::Key::new(hmac::HMAC_SHA256, master.as_ref()),
            rng: SystemRandom::new(),
        }
    }

    fn key(&self, user: UserId, idem_key: &str) -> Option<LessSafeKey> {
        let mut ctx = hmac::Context::with_key(&self.master);
        ctx.update(&user.get().to_be_bytes());
        ctx.update(idem_key.as_bytes());
        let k = ctx.sign();
        UnboundKey::new(&AES_256_GCM, k.as_ref())
            .ok()
            .map(LessSafeKey::new)
    }

    /// `nonce ‖ ciphertext ‖ tag`.
    #[must_use]
    pub fn seal(&self, user: UserId, idem_key: &str, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        let (Some(key), Ok(())) = (self.key(user, idem_key), self.rng.fill(&mut nonce)) else {
            return Vec::new();
        };
        let mut buf = plain.to_vec();
        if key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
            .is_err()
        {
            return Vec::new();
        }
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        out
    }

    /// The plaintext, or `None` when the record was sealed under another server secret.
    #[must_use]
    pub fn open(&self, user: UserId, idem_key: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = rest.to_vec();
        let plain = self
            .key(user, idem_key)?
            .open_in_place(nonce, Aad::empty(), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_responses_open_only_with_the_same_key() {
        let s = ResponseSealer::new(b"server secret server secret 0123");
        let sealed = s.seal(UserId::new(1), "k1", b"{\"token\":\"x\"}");
        assert!(!sealed.windows(5).any(|w| w == b"token"));
        assert_eq!(
            s.open(UserId::new(1), "k1", &sealed).as_deref(),
            Some(&b"{\"token\":\"x\"}"[..])
        );
        assert_eq!(s.open(UserId::new(1), "k2", &sealed), None);
        assert_eq!(s.open(UserId::new(2), "k1", &sealed), None);
        let other = ResponseSealer::new(b"another secret another secret 01");
        assert_eq!(other.open(UserId::new(1), "k1", &sealed), None);
    }
}
