//! Ayubi's Redis adapter (deadpool-redis).
//!
//! It owns the pool, the readiness ping, and the pub/sub bus ([`bus`]) that wakes other
//! instances' sync sockets. Redis is optional: without `REDIS_URL` the server runs on
//! in-process fallbacks.

pub mod bus;
pub mod limits;
pub mod views;

pub use bus::Publisher;
use deadpool_redis::{Config, Pool, Runtime};
pub use limits::{Decision, Limiter, Rate};
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
    /// Kept for the pub/sub subscriber, which needs a dedicated connection.
    url: String,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never print it.
        f.debug_struct("Redis").finish_non_exhaustive()
    }
}

impl Redis {
    /// Builds the pool; connections open lazily, so a Redis that is down at start makes
    /// the server not-ready rather than dead.
    ///
    /// # Errors
    /// [`CacheError::Config`] for a malformed URL.
    pub fn new(url: &str, max_size: usize, timeout: Duration) -> Result<Self, CacheError> {
        let mut cfg = Config::from_url(url);
        cfg.pool = Some(deadpool_redis::PoolConfig::new(max_size));
        let pool = cfg
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|e| CacheError::Config(e.to_string()))?;
        Ok(Self {
            pool,
            timeout,
            url: url.to_owned(),
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
