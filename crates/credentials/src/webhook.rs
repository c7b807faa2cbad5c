//! Standard Webhooks signing (<https://www.standardwebhooks.com>): the endpoint secret
//! (`whsec_` + base64 of 32 random bytes, shown to the user once) and the
//! `webhook-signature` of a delivery — `v1,` + base64 of HMAC-SHA256, keyed by the
//! secret's bytes, over `<webhook-id>.<webhook-timestamp>.<body>`. The receiver's side
//! ([`WebhookSecret::verify`]) is here too: the tests' stand-in receiver checks every
//! delivery with it, and so can a Rust service that receives Ayubi's webhooks.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::fmt;

/// The prefix of an endpoint secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// How many random bytes a generated secret has.
pub const SECRET_BYTES: usize = 32;

/// An endpoint's signing secret. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

/// A text that is not a `whsec_…` secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSecret(&'static str);

impl fmt::Display for InvalidSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for InvalidSecret {}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// A new secret of [`SECRET_BYTES`] from the OS random source.
    ///
    /// # Errors
    /// Only when the OS has no entropy source.
    pub fn generate() -> Result<Self, InvalidSecret> {
        let mut key = vec![0u8; SECRET_BYTES];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| InvalidSecret("the OS random source failed"))?;
        Ok(Self { key })
    }

    /// Reads `whsec_<base64>` (standard alphabet, padded), as stored and as shown.
    ///
    /// # Errors
    /// Without the prefix, with invalid base64, or with no key bytes.
    pub fn parse(text: &str) -> Result<Self, InvalidSecret> {
        let encoded = text
            .strip_prefix(SECRET_PREFIX)
            .ok_or(InvalidSecret("a webhook secret starts with whsec_"))?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| InvalidSecret("a webhook secret is whsec_ and base64"))?;
        if key.is_empty() {
            return Err(InvalidSecret("a webhook secret has key bytes"));
        }
        Ok(Self { key })
    }

    /// The secret as the user sees it: `whsec_<base64>`.
    #[must_use]
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// The `webhook-signature` header of a delivery: `v1,<base64 HMAC-SHA256>` over
    /// `<msg_id>.<timestamp>.<body>`.
    #[must_use]
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = hmac::sign(&self.hmac_key(), &signed_content(msg_id, timestamp, body));
        format!("v1,{}", STANDARD.encode(tag.as_ref()))
    }

    /// Whether `header` (space-separated `v1,<base64>` entries, as after a secret
    /// rotation) holds a valid signature of this delivery. Compared in constant time;
    /// entries of other versions are skipped. The timestamp's freshness is the caller's
    /// to judge (it knows its clock and tolerance).
    #[must_use]
    pub fn verify(&self, msg_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        let content = signed_content(msg_id, timestamp, body);
        let key = self.hmac_key();
        header
            .split(' ')
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|sig| STANDARD.decode(sig).ok())
            .any(|sig| hmac::verify(&key, &content, &sig).is_ok())
    }

    fn hmac_key(&self) -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, &self.key)
    }
}

fn signed_content(msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(msg_id.len() + 24 + body.len());
    content.extend_from_slice(msg_id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.to_string().as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's own test vector (its reference libraries
    /// test against it).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_the_specifications_vector() {
        let secret = WebhookSecret::parse(SECRET).unwrap();
        assert_eq!(secret.sign(ID, TIMESTAMP, BODY), SIGNATURE);
        assert_eq!(secret.expose(), SECRET);
    }

    #[test]
    fn verifies_the_vector_and_nothing_altered() {
        let secret = WebhookSecret::parse(SECRET).unwrap();
        assert!(secret.verify(ID, TIMESTAMP, BODY, SIGNATURE));
        // After a rotation a receiver may see several signatures: one valid is enough.
        let rotated = format!("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v2,xyz {SIGNATURE}");
        assert!(secret.verify(ID, TIMESTAMP, BODY, &rotated));
        assert!(!secret.verify(ID, TIMESTAMP, br#"{"test": 2432232315}"#, SIGNATURE));
        assert!(!secret.verify("msg_other", TIMESTAMP, BODY, SIGNATURE));
        assert!(!secret.verify(ID, TIMESTAMP + 1, BODY, SIGNATURE));
        assert!(!secret.verify(ID, TIMESTAMP, BODY, "v1,not base64!"));
        assert!(!secret.verify(ID, TIMESTAMP, BODY, &SIGNATURE.replace("v1,", "v2,")));
        let other = WebhookSecret::generate().unwrap();
        assert!(!other.verify(ID, TIMESTAMP, BODY, SIGNATURE));
    }

    #[test]
    fn generated_secrets_are_32_random_bytes_and_read_back() {
        let a = WebhookSecret::generate().unwrap();
        let b = WebhookSecret::generate().unwrap();
        assert_ne!(a, b);
        let shown = a.expose();
        assert!(shown.starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&shown[6..]).unwrap().len(), SECRET_BYTES);
        assert_eq!(WebhookSecret::parse(&shown).unwrap(), a);
    }

    #[test]
    fn refuses_what_is_not_a_secret_and_never_prints_one() {
        for bad in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_",
            "whsec_not base64!",
        ] {
            assert!(WebhookSecret::parse(bad).is_err(), "{bad}");
        }
        let secret = WebhookSecret::parse(SECRET).unwrap();
        assert!(!format!("{secret:?}").contains("MfKQ"));
    }
}
