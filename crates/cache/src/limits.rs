//! Rate limits that hold across instances: a limit of N a minute means N for the whole
//! deployment, not N for each of its machines.
//!
//! The algorithm is GCRA, the one `governor` (behind actix-governor) uses: a burst of
//! `burst` requests, then one every `period / burst`. With Redis the state is one key per
//! limited thing, updated by a Lua script on Redis's clock (so instances with skewed
//! clocks agree); without Redis, or while it cannot be reached, each instance limits on
//! its own (`governor`'s keyed limiter) — a Redis outage loosens a limit to N per
//! instance, never lifts it.

use crate::{CacheError, Redis};
use deadpool_redis::redis;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What a limiter says of one more request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refused; the next request is allowed after this long.
    Deny {
        /// Until the next allowed request.
        retry_after: Duration,
    },
}

/// `burst` requests per `period`, refilled evenly.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    burst: NonZeroU32,
    period: Duration,
}

impl Rate {
    /// `count` per `period` (`count` 0 is read as 1).
    #[must_use]
    pub fn per(count: u32, period: Duration) -> Self {
        Self {
            burst: NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN),
            period,
        }
    }

    /// The time one request's allowance takes to come back.
    fn interval(self) -> Duration {
        self.period / self.burst.get()
    }
}

/// GCRA on Redis's clock. KEYS[1]: the key; ARGV: interval (ms), burst. Returns
/// `{1, 0}` to allow, `{0, ms until allowed}` to deny. A refused request changes nothing.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allowed_at = new_tat - burst * interval
if allowed_at > now then
  return {0, allowed_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, 0}
";

/// A limit per key (a client IP, an account).
pub struct Limiter {
    rate: Rate,
    local: DefaultKeyedRateLimiter<String>,
    shared: Option<(Redis, String)>,
    /// Checks since the local state was last pruned.
    since_prune: AtomicU64,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("rate", &self.rate)
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl Limiter {
    /// Limits in this process only.
    #[must_use]
    pub fn local(rate: Rate) -> Self {
        let interval = rate.interval().max(Duration::from_nanos(1));
        let quota = Quota::with_period(interval)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(rate.burst);
        Self {
            rate,
            local: DefaultKeyedRateLimiter::keyed(quota),
            shared: None,
            since_prune: AtomicU64::new(0),
        }
    }

    /// Limits shared by every instance through `redis`, keys under `prefix` (a
    /// deployment's own); local limits while Redis fails.
    #[must_use]
    pub fn shared(rate: Rate, redis: Redis, prefix: &str) -> Self {
        Self {
            shared: Some((redis, prefix.to_owned())),
            ..Self::local(rate)
        }
    }

    /// Counts a request against `key`.
    pub async fn check(&self, key: &str) -> Decision {
        if let Some((redis, prefix)) = &self.shared {
            match self.check_shared(redis, &format!("{prefix}:{key}")).await {
                Ok(decision) => return decision,
                Err(e) => {
                    tracing::warn!(error = %e, "rate limit not shared (Redis failed); limiting on this instance");
                }
            }
        }
        self.check_local(key)
    }

    async fn check_shared(&self, redis: &Redis, key: &str) -> Result<Decision, CacheError> {
        let interval_ms = u64::try_from(self.rate.interval().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let work = async {
            let mut conn = redis
                .pool
                .get()
                .await
                .map_err(|e| CacheError::Unavailable(e.to_string()))?;
            // EVAL, not EVALSHA: redis is built without its `script` feature, and a login
            // can afford the script's few hundred bytes.
            redis::cmd("EVAL")
                .arg(GCRA)
                .arg(1)
                .arg(key)
                .arg(interval_ms)
                .arg(self.rate.burst.get())
                .query_async::<(u8, u64)>(&mut conn)
                .await
                .map_err(|e| CacheError::Unavailable(e.to_string()))
        };
        let (allowed, wait_ms) = tokio::time::timeout(redis.timeout, work)
            .await
            .map_err(|_| CacheError::Unavailable("timed out".into()))??;
        Ok(if allowed == 1 {
            Decision::Allow
        } else {
            Decision::Deny {
                retry_after: Duration::from_millis(wait_ms),
            }
        })
    }

    fn check_local(&self, key: &str) -> Decision {
        // Keys whose allowance is whole again hold nothing worth keeping.
        if self.since_prune.fetch_add(1, Ordering::Relaxed) >= 10_000 {
            self.since_prune.store(0, Ordering::Relaxed);
            self.local.retain_recent();
        }
        match self.local.check_key(&key.to_owned()) {
            Ok(()) => Decision::Allow,
            Err(not_until) => Decision::Deny {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            },
        }
    }
}
