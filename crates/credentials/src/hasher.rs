//! Argon2id password hashing, off the async runtime and bounded in concurrency.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash as Phc, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use ayubi_identity::ports::PasswordHasher;
use ayubi_identity::{IdentityError, Password, PasswordHash, Result};
use ayubi_kernel::StoreError;
use std::sync::Arc;
use tokio::sync::Semaphore;

pub(crate) fn unavailable(msg: &str) -> IdentityError {
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
    pub fn new(max_concurrent: usize) -> Result<Self> {
        let params = Params::new(19 * 1024, 2, 1, Some(OUTPUT_LEN))
            .map_err(|_| unavailable("argon2 refused its parameters"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let dummy = decoy_phc(&params).ok_or_else(|| unavailable("argon2 dummy hash failed"))?;
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
}
