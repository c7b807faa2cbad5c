//! Random opaque secrets (personal access tokens, refresh tokens) and their digests.

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use ayubi_identity::TokenDigest;
use ayubi_identity::ports::Secrets;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// 32 random bytes, URL-safe base64: a development JWT key.
#[must_use]
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    // SystemRandom only fails if the OS has no entropy source, which start-up cannot
    // survive anyway.
    #[allow(clippy::expect_used)]
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("OS random source");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// 256-bit random secrets and their SHA-256 digests.
#[derive(Debug, Clone)]
pub struct RandomSecrets {
    rng: SystemRandom,
}

impl RandomSecrets {
    /// The OS random source.
    #[must_use]
    pub fn new() -> Self {
        Self {
            rng: SystemRandom::new(),
        }
    }
}

impl Default for RandomSecrets {
    fn default() -> Self {
        Self::new()
    }
}

impl Secrets for RandomSecrets {
    fn generate(&self, prefix: &str) -> String {
        let mut bytes = [0u8; 32];
        // See `random_secret`: no entropy source means nothing can work.
        #[allow(clippy::expect_used)]
        self.rng.fill(&mut bytes).expect("OS random source");
        format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    fn digest(&self, secret: &str) -> TokenDigest {
        TokenDigest(
            digest::digest(&digest::SHA256, secret.as_bytes())
                .as_ref()
                .to_vec(),
        )
    }
}
