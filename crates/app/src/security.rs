//! Adapters for identity's crypto ports: Argon2id password hashing off the async runtime,
//! HS256 access tokens, random opaque secrets, and the sealing of saved idempotent
//! responses.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash as Phc, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::{digest, hmac};
use ayubi_identity::ports::{AccessTokens, PasswordHasher, Secrets};
use ayubi_identity::{
    AccessClaims, DeviceClaims, IdentityError, Password, PasswordHash, Result, SessionId,
    TokenDigest,
};
use ayubi_kernel::{StoreError, UserId};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm as JwtAlg, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::Semaphore;
use uuid::Uuid;

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

fn unavailable(msg: &str) -> IdentityError {
    IdentityError::Store(StoreError::Unavailable(msg.to_owned().into()))
}

/// Argon2id with OWASP's minimum (m = 19 MiB, t = 2, p = 1), computed on the blocking
/// pool with at most `max_concurrent` hashes in flight, so a login flood queues here
/// instead of starving the async workers that serve everything else.
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    argon: Argon2<'static>,
    params: Params,
    permits: Arc<Semaphore>,
    max_concurrent: usize,
    dummy: PasswordHash,
}

/// Blocks (1 KiB each) reserved for one hash's working area, whatever its `m_cost`: more
/// than glibc's largest dynamic mmap threshold (32 MiB), so under the system allocator
/// the area is always a mapping of its own that goes back to the OS when the hash is
/// done. At 19 MiB it came from a thread's heap arena and stayed resident after being
/// freed: RSS reached 1.1 GB after a burst of 1,000 registrations. (The `ayubi` binary
/// uses jemalloc, which also returns it; the library does not rely on that.) Only the
/// `m_cost` blocks are ever touched.
const WORK_AREA_BLOCKS: usize = 33 * 1024;

/// Salt length in bytes (the PHC recommendation).
const SALT_LEN: usize = 16;
/// Hash output length in bytes (argon2's default).
const OUTPUT_LEN: usize = 32;

fn work_area(blocks: usize) -> Vec<Block> {
    let mut area = Vec::with_capacity(blocks.max(WORK_AREA_BLOCKS));
    area.resize(blocks, Block::default());
    area
}

/// Hashes `password` into a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
fn hash_phc(argon: &Argon2<'_>, params: &Params, password: &[u8]) -> Option<String> {
    let mut salt = [0u8; SALT_LEN];
    SystemRandom::new().fill(&mut salt).ok()?;
    let mut out = [0u8; OUTPUT_LEN];
    argon
        .hash_password_into_with_memory(password, &salt, &mut out, work_area(params.block_count()))
        .ok()?;
    let phc = Phc {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).ok()?,
        salt: Some(Salt::new(&salt).ok()?),
        hash: Some(Output::new(&out).ok()?),
    };
    Some(phc.to_string())
}

/// A PHC string with our parameters that no password matches (its output is zeros),
/// verified for unknown emails so they cost what a real check costs. Written out, not
/// computed: hashing one at start cost ~30 ms of start-up and 19 MiB touched, for a value
/// nobody needs to be secret or random (an unknown email is refused whatever it gives).
fn decoy_phc(params: &Params) -> Option<String> {
    let phc = Phc {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).ok()?,
        salt: Some(Salt::new(&[0x5a; SALT_LEN]).ok()?),
        hash: Some(Output::new(&[0; OUTPUT_LEN]).ok()?),
    };
    Some(phc.to_string())
}

/// Verifies `password` against a PHC string, with the parameters stored in it (so hashes
/// made with other parameters keep verifying). Compares in constant time.
fn verify_phc(phc: &str, password: &[u8]) -> bool {
    let check = || -> Option<bool> {
        let parsed = Phc::new(phc).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(&parsed).ok()?;
        let expected = parsed.hash?;
        let salt = parsed.salt?;
        let mut out = vec![0u8; expected.len()];
        Argon2::new(algorithm, version, params.clone())
            .hash_password_into_with_memory(
                password,
                salt.as_ref(),
                &mut out,
                work_area(params.block_count()),
            )
            .ok()?;
        Some(Output::new(&out).ok()? == expected)
    };
    check().unwrap_or(false)
}

impl Argon2Hasher {
    /// Builds the hasher and the dummy hash verified for unknown emails.
    ///
    /// # Errors
    /// If the parameters are rejected or hashing fails at start.
    pub fn new(max_concurrent: usize) -> anyhow::Result<Self> {
        let params = Params::new(19 * 1024, 2, 1, Some(OUTPUT_LEN))
            .map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let dummy = decoy_phc(&params).ok_or_else(|| anyhow::anyhow!("argon2 dummy hash"))?;
        Ok(Self {
            argon,
            params,
            permits: Arc::new(Semaphore::new(max_concurrent)),
            max_concurrent,
            dummy: PasswordHash::new(dummy),
        })
    }

    /// Hashes running right now (never more than `max_concurrent`).
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.max_concurrent - self.permits.available_permits()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Argon2<'static>, &Params) -> T + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| unavailable("hasher closed"))?;
        let (argon, params) = (self.argon.clone(), self.params.clone());
        tokio::task::spawn_blocking(move || work(&argon, &params))
            .await
            .map_err(|_| unavailable("hashing task failed"))
    }
}

#[async_trait::async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash> {
        let pw = password.expose().to_owned();
        let phc = self
            .blocking(move |a, p| hash_phc(a, p, pw.as_bytes()))
            .await?
            .ok_or_else(|| unavailable("hashing failed"))?;
        Ok(PasswordHash::new(phc))
    }

    async fn verify(&self, password: &Password, hash: Option<&PasswordHash>) -> Result<bool> {
        let known = hash.is_some();
        let phc = hash.unwrap_or(&self.dummy).as_str().to_owned();
        let pw = password.expose().to_owned();
        let ok = self
            .blocking(move |_, _| verify_phc(&phc, pw.as_bytes()))
            .await?;
        Ok(ok && known)
    }
}

/// Claims of an access token; every field is required (a token missing one fails to
/// deserialize and is refused).
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Session id.
    pub sid: String,
    /// Unique token id.
    pub jti: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Not before (Unix seconds). Ayubi issues none; a token carrying one in the future
    /// is refused (checked on the service's clock, like `exp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

/// HS256 access tokens. The algorithm is pinned: a token whose header names any other
/// algorithm (including `none`) is refused.
#[derive(Clone)]
pub struct JwtTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: i64,
    device_ttl_secs: i64,
}

/// A device token's claims: `typ` tells it from an access token (which has `sid` and no
/// `typ`), so neither kind passes for the other.
#[derive(Debug, Serialize, Deserialize)]
struct DeviceJwt {
    sub: String,
    typ: String,
    bnd: String,
    jti: String,
    iat: i64,
    exp: i64,
}

const DEVICE_TYP: &str = "device";

impl std::fmt::Debug for JwtTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtTokens")
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl JwtTokens {
    /// Keys from the configured secret.
    #[must_use]
    pub fn new(secret: &[u8], ttl_secs: i64) -> Self {
        let mut validation = Validation::new(JwtAlg::HS256);
        validation.algorithms = vec![JwtAlg::HS256];
        validation.set_required_spec_claims(&["exp", "sub"]);
        // `exp` must be present (above) but is checked in `verify` against the service's
        // clock, the one source of time for every expiry (and the one tests control).
        validation.validate_exp = false;
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs,
            device_ttl_secs: 365 * 86_400,
        }
    }

    /// The same keys, issuing device tokens that last `days`.
    #[must_use]
    pub fn with_device_ttl_days(mut self, days: i64) -> Self {
        self.device_ttl_secs = days.max(1).saturating_mul(86_400);
        self
    }
}

impl AccessTokens for JwtTokens {
    fn issue(&self, claims: AccessClaims, now: DateTime<Utc>) -> Result<(String, i64)> {
        let iat = now.timestamp();
        let body = Claims {
            sub: claims.user.to_string(),
            sid: claims.session.to_string(),
            jti: Uuid::new_v4().to_string(),
            iat,
            exp: iat + self.ttl_secs,
            nbf: None,
        };
        let token = jsonwebtoken::encode(&Header::new(JwtAlg::HS256), &body, &self.encoding)
            .map_err(|_| unavailable("signing failed"))?;
        Ok((token, self.ttl_secs))
    }

    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<(AccessClaims, DateTime<Utc>)> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| IdentityError::Unauthenticated)?;
        let c = data.claims;
        let now_secs = now.timestamp();
        if c.exp <= now_secs || c.iat > now_secs + 60 || c.nbf.is_some_and(|nbf| nbf > now_secs) {
            return Err(IdentityError::Unauthenticated);
        }
        let user = c
            .sub
            .parse::<i64>()
            .map_err(|_| IdentityError::Unauthenticated)?;
        let sid = Uuid::parse_str(&c.sid).map_err(|_| IdentityError::Unauthenticated)?;
        let expires_at =
            DateTime::from_timestamp(c.exp, 0).ok_or(IdentityError::Unauthenticated)?;
        let claims = AccessClaims {
            user: UserId::new(user),
            session: SessionId(sid),
        };
        Ok((claims, expires_at))
    }

    fn issue_device(&self, claims: &DeviceClaims, now: DateTime<Utc>) -> Result<String> {
        let iat = now.timestamp();
        let body = DeviceJwt {
            sub: claims.user.to_string(),
            typ: DEVICE_TYP.to_owned(),
            bnd: claims.binding.clone(),
            jti: Uuid::new_v4().to_string(),
            iat,
            exp: iat + self.device_ttl_secs,
        };
        jsonwebtoken::encode(&Header::new(JwtAlg::HS256), &body, &self.encoding)
            .map_err(|_| unavailable("signing failed"))
    }

    fn verify_device(&self, token: &str, now: DateTime<Utc>) -> Result<DeviceClaims> {
        let c = jsonwebtoken::decode::<DeviceJwt>(token, &self.decoding, &self.validation)
            .map_err(|_| IdentityError::Unauthenticated)?
            .claims;
        let now_secs = now.timestamp();
        if c.typ != DEVICE_TYP || c.exp <= now_secs || c.iat > now_secs + 60 {
            return Err(IdentityError::Unauthenticated);
        }
        let user = c
            .sub
            .parse::<i64>()
            .map_err(|_| IdentityError::Unauthenticated)?;
        Ok(DeviceClaims {
            user: UserId::new(user),
            binding: c.bnd,
        })
    }
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn at_most_the_configured_hashes_run_at_once_and_params_are_owasp() {
        let hasher = Arc::new(Argon2Hasher::new(2).unwrap());
        let pw = Password::new("password", "correct horse battery".into()).unwrap();
        let hash = hasher.hash(&pw).await.unwrap();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_str()
        );
        let work: Vec<_> = (0..6)
            .map(|_| {
                let (h, pw) = (hasher.clone(), pw.clone());
                tokio::spawn(async move { h.hash(&pw).await.map(|_| ()) })
            })
            .collect();
        let mut peak = 0;
        while work.iter().any(|w| !w.is_finished()) {
            peak = peak.max(hasher.in_flight());
            tokio::task::yield_now().await;
        }
        for w in work {
            w.await.unwrap().unwrap();
        }
        assert!(peak <= 2, "{peak} hashes ran at once");
        assert!(peak >= 1);
        assert!(hasher.verify(&pw, Some(&hash)).await.unwrap());
        let other = Password::attempt("another password".into()).unwrap();
        assert!(!hasher.verify(&other, Some(&hash)).await.unwrap());
        // No stored hash: still a full verification, and never a match.
        assert!(!hasher.verify(&pw, None).await.unwrap());
    }

    #[test]
    fn hashes_interoperate_with_the_argon2_crate_and_other_parameters() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let params = Params::new(19 * 1024, 2, 1, Some(OUTPUT_LEN)).unwrap();
        let ours = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let phc = hash_phc(&ours, &params, b"hunter42").unwrap();
        // Our PHC strings verify with the crate's own code, and not for another password.
        let parsed = Phc::new(&phc).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"hunter42", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"hunter43", &parsed)
                .is_err()
        );
        // Hashes the crate made, with other parameters (older or cheaper settings), verify
        // with ours.
        let cheap = Params::new(4096, 1, 1, None).unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, cheap)
            .hash_password(b"hunter42")
            .unwrap()
            .to_string();
        assert!(verify_phc(&theirs, b"hunter42"));
        assert!(!verify_phc(&theirs, b"hunter43"));
        assert!(!verify_phc("not a phc string", b"hunter42"));
    }

    #[test]
    fn the_decoy_costs_a_full_verification_and_matches_nothing() {
        let params = Params::new(19 * 1024, 2, 1, Some(OUTPUT_LEN)).unwrap();
        let decoy = decoy_phc(&params).unwrap();
        let parsed = Phc::new(&decoy).unwrap();
        // The same parameters as a real hash, so verifying against it does the same work.
        let real = hash_phc(
            &Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()),
            &params,
            b"x",
        )
        .unwrap();
        assert_eq!(
            Params::try_from(&parsed).unwrap(),
            Params::try_from(&Phc::new(&real).unwrap()).unwrap()
        );
        assert!(
            decoy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{decoy}"
        );
        for pw in ["", "password", "hunter42"] {
            assert!(!verify_phc(&decoy, pw.as_bytes()));
        }
    }

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

    #[test]
    fn jwt_refuses_other_keys_and_expired_tokens() {
        let now = Utc::now();
        let a = JwtTokens::new(b"a-secret-a-secret-a-secret-a-secret", 900);
        let b = JwtTokens::new(b"b-secret-b-secret-b-secret-b-secret", 900);
        let claims = AccessClaims {
            user: UserId::new(7),
            session: SessionId(Uuid::new_v4()),
        };
        let Ok((token, _)) = a.issue(claims, now) else {
            panic!("issue")
        };
        let (verified, expires_at) = a.verify(&token, now).unwrap();
        assert_eq!(verified, claims);
        assert_eq!(expires_at.timestamp(), now.timestamp() + 900);
        assert!(b.verify(&token, now).is_err());
        assert!(
            a.verify(&token, now + chrono::Duration::seconds(901))
                .is_err()
        );
    }
}
