//! [`ViewCache`] adapters: Redis, shared by every instance, and an in-process fallback
//! for a server without `REDIS_URL`.

use crate::{CacheError, Redis};
use ayubi_kernel::{UserId, ViewCache, ViewCacheError, ViewInvalidation, ViewLookup};
use deadpool_redis::redis;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Reads the generation and the value at it in one round trip, so a hit costs one
/// network exchange. `KEYS[1]` the generation counter, `KEYS[2]` the user's views
/// (a hash of `<generation>|<key>` → value), `ARGV[1]` the key.
const GET: &str = "local g = redis.call('GET', KEYS[1]) or '0' \
                   return {g, redis.call('HGET', KEYS[2], g .. '|' .. ARGV[1])}";

fn unavailable(e: impl std::fmt::Display) -> ViewCacheError {
    ViewCacheError(e.to_string())
}

/// Views in Redis: `<prefix>:g:<user>` (the generation, an `INCR` counter) and
/// `<prefix>:v:<user>` (a hash of the views, expiring `ttl` after the last store).
#[derive(Debug, Clone)]
pub struct RedisViews {
    redis: Redis,
    prefix: String,
    ttl: Duration,
}

impl RedisViews {
    /// Views under `prefix` (a deployment's own, so deployments sharing a Redis never
    /// read each other's), kept `ttl` after the last store.
    #[must_use]
    pub fn new(redis: Redis, prefix: &str, ttl: Duration) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            ttl,
        }
    }

    fn keys(&self, user: UserId) -> (String, String) {
        (
            format!("{}:g:{user}", self.prefix),
            format!("{}:v:{user}", self.prefix),
        )
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        f: impl FnOnce() -> redis::Pipeline,
    ) -> Result<T, ViewCacheError> {
        let work = async {
            let mut conn = self.redis.pool.get().await.map_err(unavailable)?;
            f().query_async::<T>(&mut conn).await.map_err(unavailable)
        };
        tokio::time::timeout(self.redis.timeout, work)
            .await
            .map_err(|_| unavailable(CacheError::Unavailable("timed out".into())))?
    }
}

#[async_trait::async_trait]
impl ViewCache for RedisViews {
    async fn get(&self, user: UserId, key: &str) -> Result<ViewLookup, ViewCacheError> {
        let (g, v) = self.keys(user);
        let ((generation, value),): ((String, Option<Vec<u8>>),) = self
            .run(|| {
                let mut p = redis::pipe();
                p.cmd("EVAL").arg(GET).arg(2).arg(&g).arg(&v).arg(key);
                p
            })
            .await?;
        Ok(ViewLookup {
            generation: generation.parse().map_err(unavailable)?,
            value,
        })
    }

    async fn put(
        &self,
        user: UserId,
        generation: u64,
        key: &str,
        value: &[u8],
    ) -> Result<(), ViewCacheError> {
        let (_, v) = self.keys(user);
        let ttl = self.ttl.as_secs().max(1);
        self.run::<()>(|| {
            let mut p = redis::pipe();
            p.hset(&v, format!("{generation}|{key}"), value)
                .ignore()
                .expire(&v, i64::try_from(ttl).unwrap_or(i64::MAX))
                .ignore();
            p
        })
        .await
    }
}

#[async_trait::async_trait]
impl ViewInvalidation for RedisViews {
    async fn invalidate(&self, user: UserId) -> Result<(), ViewCacheError> {
        let (g, v) = self.keys(user);
        // The counter never expires: were it to vanish and restart at 0, a value stored
        // under an old 0 could come back. The views go at once (they are unreachable).
        self.run::<()>(|| {
            let mut p = redis::pipe();
            p.incr(&g, 1).ignore().del(&v).ignore();
            p
        })
        .await
    }
}

/// A view and the generation it was computed at.
type Stored = (u64, Arc<[u8]>);

/// Views in this process's memory, bounded by bytes: for a single instance without
/// Redis. (Several instances without Redis would each keep their own, and a write on one
/// would not reach another's views; with Redis unset, run one instance or accept that.)
///
/// A view is keyed by (user, key) and carries the generation it was computed at, so a
/// write's new value replaces the old one in place: keyed by generation too, every write
/// left the previous values behind until the byte budget or the TTL reclaimed them, and
/// a write-heavy soak grew the process by tens of MiB (docs/reliability.md).
#[derive(Debug, Clone)]
pub struct MemoryViews {
    values: moka::sync::Cache<(UserId, String), Stored>,
    /// Per-user generations. Never evicted (one integer per user who wrote since start),
    /// so a generation can never go back and revive an old value.
    generations: Arc<std::sync::RwLock<HashMap<UserId, u64>>>,
    /// Added to every user's generation; [`MemoryViews::clear`] bumps it. Both parts only
    /// grow, so every bump of either makes a user's generation strictly larger.
    epoch: Arc<std::sync::atomic::AtomicU64>,
}

impl MemoryViews {
    /// At most `max_bytes` of values, each kept at most `ttl`.
    #[must_use]
    pub fn new(max_bytes: u64, ttl: Duration) -> Self {
        Self {
            values: moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|k: &(UserId, String), v: &Stored| {
                    u32::try_from(k.1.len() + v.1.len() + 40).unwrap_or(u32::MAX)
                })
                .time_to_live(ttl)
                .build(),
            generations: Arc::default(),
            epoch: Arc::default(),
        }
    }

    fn generation(&self, user: UserId) -> u64 {
        let g = self
            .generations
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let epoch = self.epoch.load(std::sync::atomic::Ordering::Acquire);
        g.get(&user).copied().unwrap_or(0).wrapping_add(epoch)
    }

    /// Forgets every view: none stored before is served again, nor one a reader computed
    /// before this call and stores after it.
    pub fn clear(&self) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.values.invalidate_all();
    }
}

impl MemoryViews {
    /// The user's generation and what `key` holds at it (no waiting: memory only).
    #[must_use]
    pub fn view(&self, user: UserId, key: &str) -> ViewLookup {
        let generation = self.generation(user);
        let value = self
            .values
            .get(&(user, key.to_owned()))
            .filter(|(g, _)| *g == generation)
            .map(|(_, v)| v.to_vec());
        ViewLookup { generation, value }
    }

    /// Stores `value` under `key` if the user's generation is still `generation`.
    pub fn keep(&self, user: UserId, generation: u64, key: &str, value: &[u8]) {
        // A value of a past generation is never read; keeping it only takes room. (Should
        // a write land between this check and the insert, the value still carries its
        // generation, and `view` will not return it.)
        if generation == self.generation(user) {
            self.values
                .insert((user, key.to_owned()), (generation, Arc::from(value)));
        }
    }

    /// Moves the user to the next generation: every view of theirs is stale.
    pub fn forget(&self, user: UserId) {
        let mut g = self
            .generations
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *g.entry(user).or_insert(0) += 1;
    }
}

#[async_trait::async_trait]
impl ViewCache for MemoryViews {
    async fn get(&self, user: UserId, key: &str) -> Result<ViewLookup, ViewCacheError> {
        Ok(self.view(user, key))
    }

    async fn put(
        &self,
        user: UserId,
        generation: u64,
        key: &str,
        value: &[u8],
    ) -> Result<(), ViewCacheError> {
        self.keep(user, generation, key, value);
        Ok(())
    }
}

#[async_trait::async_trait]
impl ViewInvalidation for MemoryViews {
    async fn invalidate(&self, user: UserId) -> Result<(), ViewCacheError> {
        self.forget(user);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_value_computed_before_a_write_is_never_read_after_it() {
        let views = MemoryViews::new(1 << 20, Duration::from_secs(60));
        let u = UserId::new(1);
        let before = views.get(u, "stats").await.unwrap();
        assert_eq!(
            before,
            ViewLookup {
                generation: 0,
                value: None
            }
        );
        views.invalidate(u).await.unwrap();
        // The slow reader stores what it computed under the generation it started with.
        views
            .put(u, before.generation, "stats", b"old")
            .await
            .unwrap();
        assert_eq!(views.get(u, "stats").await.unwrap().value, None);
        views.put(u, 1, "stats", b"new").await.unwrap();
        assert_eq!(
            views.get(u, "stats").await.unwrap().value.as_deref(),
            Some(&b"new"[..])
        );
        assert_eq!(
            views.get(UserId::new(2), "stats").await.unwrap().value,
            None
        );
    }

    #[tokio::test]
    async fn each_write_replaces_a_view_instead_of_keeping_the_old_one() {
        let views = MemoryViews::new(1 << 20, Duration::from_secs(60));
        let u = UserId::new(1);
        for round in 0..1_000u64 {
            let at = views.get(u, "stats").await.unwrap().generation;
            assert_eq!(at, round);
            views.put(u, at, "stats", &[0u8; 512]).await.unwrap();
            views.put(u, at, "list", &[0u8; 512]).await.unwrap();
            views.invalidate(u).await.unwrap();
        }
        views.values.run_pending_tasks();
        // Two views of this user, whatever the number of writes.
        assert_eq!(views.values.entry_count(), 2);
        // Both are of a past generation now, so neither is served.
        assert_eq!(views.get(u, "stats").await.unwrap().value, None);
    }
}
