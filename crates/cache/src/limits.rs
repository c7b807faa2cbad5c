//! Rate limits that hold across instances: a limit of N a minute means N for the whole
//! deployment, not N for each of its machines.
//!
//! The algorithm is GCRA, the one `governor` (behind actix-governor) uses: a burst of
//! `burst` requests, then one every `period / burst`. With Redis the state is one key per
//! limited thing, updated by a Lua script on Redis's clock (so instances with skewed
//! clocks agree); without Redis, or while it cannot be reached, each instance limits on
//! its own — a Redis outage loosens a limit to N per instance, never lifts it.
//!
//! Besides counting ([`Limiter::check`]) a limit can be asked without counting
//! ([`Limiter::peek`]): the per-account login limit counts failed attempts only, yet must
//! refuse every attempt — the right password too — once they are spent. `governor` has no
//! way to ask without counting, so the local state is the same GCRA kept here (a map of
//! each key's theoretical arrival time), mirroring the Lua script line for line.

use crate::{CacheError, Redis};
use deadpool_redis::redis;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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

/// GCRA on Redis's clock. KEYS[1]: the key; ARGV: interval (ms), burst, and `1` to
/// count the request or `0` only to ask. Returns `{1, 0}` to allow, `{0, ms until
/// allowed}` to deny. A refused request changes nothing.
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
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
end
return {1, 0}
";

/// A limit per key (a client IP, an account).
pub struct Limiter {
    rate: Rate,
    /// Each key's theoretical arrival time, when limiting in this process.
    local: Mutex<HashMap<String, Instant>>,
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
        Self {
            rate,
            local: Mutex::new(HashMap::new()),
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
        self.decide(key, true).await
    }

    /// What [`Limiter::check`] would say now, without counting anything.
    pub async fn peek(&self, key: &str) -> Decision {
        self.decide(key, false).await
    }

    async fn decide(&self, key: &str, count: bool) -> Decision {
        if let Some((redis, prefix)) = &self.shared {
            match self
                .check_shared(redis, &format!("{prefix}:{key}"), count)
                .await
            {
                Ok(decision) => return decision,
                Err(e) => {
                    tracing::warn!(error = %e, "rate limit not shared (Redis failed); limiting on this instance");
                }
            }
        }
        self.check_local(key, count)
    }

    async fn check_shared(
        &self,
        redis: &Redis,
        key: &str,
        count: bool,
    ) -> Result<Decision, CacheError> {
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
                .arg(u8::from(count))
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

    /// The Lua script's GCRA on this process's monotonic clock.
    fn check_local(&self, key: &str, count: bool) -> Decision {
        let now = Instant::now();
        let interval = self.rate.interval();
        let window = interval.saturating_mul(self.rate.burst.get());
        let mut tats = self
            .local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Keys whose allowance is whole again hold nothing worth keeping.
        if self.since_prune.fetch_add(1, Ordering::Relaxed) >= 10_000 {
            self.since_prune.store(0, Ordering::Relaxed);
            tats.retain(|_, tat| *tat > now);
        }
        let tat = tats.get(key).copied().filter(|t| *t > now).unwrap_or(now);
        let new_tat = tat + interval;
        let ahead = new_tat.saturating_duration_since(now);
        if ahead > window {
            return Decision::Deny {
                retry_after: ahead - window,
            };
        }
        if count {
            tats.insert(key.to_owned(), new_tat);
        }
        Decision::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusals_and_peeking_counts_nothing() {
        let limiter = Limiter::local(Rate::per(3, Duration::from_secs(60)));
        for _ in 0..10 {
            assert_eq!(limiter.check_local("a", false), Decision::Allow);
        }
        for _ in 0..3 {
            assert_eq!(limiter.check_local("a", true), Decision::Allow);
        }
        for count in [false, true] {
            match limiter.check_local("a", count) {
                Decision::Deny { retry_after } => {
                    // One allowance comes back every 20 s.
                    assert!(retry_after <= Duration::from_secs(20), "{retry_after:?}");
                    assert!(retry_after > Duration::from_secs(19), "{retry_after:?}");
                }
                Decision::Allow => panic!("the fourth in a minute is refused"),
            }
        }
        assert_eq!(
            limiter.check_local("b", true),
            Decision::Allow,
            "keys are apart"
        );
    }
}
