//! Ayubi's Redis adapter (deadpool-redis).
//!
//! It owns the pool, the readiness ping, the pub/sub bus ([`bus`]) that wakes other
//! instances' sync sockets, the login limits ([`limits`]), the read-view cache
//! ([`views`]) and the in-process memory of active sessions ([`sessions`]). Redis is optional: without `REDIS_URL` the server runs on
//! in-process fallbacks.
//!
//! TLS (`rediss://`, as Upstash and other hosted Redis require) goes through rustls:
//! the server's certificate is checked against the system's roots, or against a private
//! CA given as a PEM file; `rediss://…/#insecure` (redis-rs's own marker) skips the check
//! and is for tests and private networks only.

#![warn(missing_docs)]

pub mod bus;
pub mod guard;
pub mod limits;
pub mod sessions;
pub mod views;

pub use bus::Publisher;
use deadpool_redis::{Manager, Pool, Runtime, redis};
pub use guard::{CachedZones, GuardedViews, Lookup, ViewObserver};
pub use limits::{Decision, Limiter, Rate};
pub use sessions::LocalSessions;
use std::time::Duration;
pub use views::{MemoryViews, RedisViews};

/// Why Redis could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The URL or pool settings are invalid.
    #[error("invalid redis configuration: {0}")]
    Config(String),
    /// Redis did not answer in time or refused.
    #[error("redis unavailable: {0}")]
    Unavailable(String),
}

/// A pool of Redis connections. Cheap to clone.
#[derive(Clone)]
pub struct Redis {
    pool: Pool,
    timeout: Duration,
    /// Kept for the pub/sub subscriber, which needs a dedicated connection (with the same
    /// TLS settings as the pool's).
    client: redis::Client,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never print it.
        f.debug_struct("Redis").finish_non_exhaustive()
    }
}

impl Redis {
    /// Builds the pool; connections open lazily, so a Redis that is down at start makes
    /// the server not-ready rather than dead. `ca_pem`: the PEM of a private CA that
    /// signed a `rediss://` server's certificate (instead of the system's roots).
    ///
    /// # Errors
    /// [`CacheError::Config`] for a malformed URL or CA.
    pub fn new(
        url: &str,
        max_size: usize,
        timeout: Duration,
        ca_pem: Option<Vec<u8>>,
    ) -> Result<Self, CacheError> {
        let config = |e: redis::RedisError| CacheError::Config(e.to_string());
        let client = match ca_pem {
            None => redis::Client::open(url).map_err(config)?,
            Some(pem) => redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                },
            )
            .map_err(config)?,
        };
        let manager = Manager::new(client.get_connection_info().clone()).map_err(config)?;
        let pool = Pool::builder(manager)
            .max_size(max_size)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| CacheError::Config(e.to_string()))?;
        Ok(Self {
            pool,
            timeout,
            client,
        })
    }

    /// `PING`, bounded by the configured timeout.
    ///
    /// # Errors
    /// [`CacheError::Unavailable`] when Redis does not answer `PONG` in time.
    pub async fn ping(&self) -> Result<(), CacheError> {
        let work = async {
            let mut conn = self
                .pool
                .get()
                .await
                .map_err(|e| CacheError::Unavailable(e.to_string()))?;
            let pong: String = deadpool_redis::redis::cmd("PING")
                .query_async(&mut conn)
                .await
                .map_err(|e| CacheError::Unavailable(e.to_string()))?;
            if pong == "PONG" {
                Ok(())
            } else {
                Err(CacheError::Unavailable(format!(
                    "unexpected reply {pong:?}"
                )))
            }
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| CacheError::Unavailable("timed out".into()))?
    }
}
