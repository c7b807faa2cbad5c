//! The read-view cache as readers use it: counted, bypassed when it fails, and never
//! trusted for a user whose invalidation did not go through.
//!
//! Every committed change invalidates the user's views (the storage adapter calls
//! [`ViewInvalidation::invalidate`] after the commit, before the writer is answered), so
//! the next read computes them again. When the cache fails, requests keep succeeding from
//! the database; a failed invalidation leaves the user in `pending`, and their views are
//! bypassed on this instance until a retry (at the next read, or by the background task
//! within a second) has gone through. Another instance may serve that user's views from
//! before the write for at most that second — the only staleness a Redis outage can
//! cause, and the values expire after `cache.ttl_secs` in any case.

use crate::MemoryViews;
use ayubi_kernel::{
    StoreError, TimeZone, UserId, UserTimeZones, ViewCache, ViewCacheError, ViewInvalidation,
    ViewLookup,
};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Told of every lookup's result, for metrics. Must not block.
pub trait ViewObserver: Send + Sync + std::fmt::Debug {
    /// A lookup or store of `key` ended in `result`: `local` (answered from this
    /// process's layer, no round trip), `hit`, `miss`, `bypass` (an invalidation is owed)
    /// or `error` (the cache failed; the reader went to the database).
    fn counted(&self, key: &str, result: &str);
}

/// The cache, guarded.
#[derive(Debug)]
pub struct GuardedViews {
    /// `None`: caching is off (`cache.enabled = false`).
    inner: Option<Arc<dyn ViewCache>>,
    /// In front of a shared `inner` (Redis): this process's copies, so a repeated read
    /// sends no command at all. Trusted only while `local_live`.
    local: Option<MemoryViews>,
    /// Whether the local layer hears of every other instance's changes (the bus
    /// subscription is up); while not, reads go to `inner` as if it were not there.
    local_live: AtomicBool,
    observer: Arc<dyn ViewObserver>,
    pending: std::sync::Mutex<HashSet<UserId>>,
    failing: AtomicBool,
    /// The users' time zones, forgotten only when their profile changes (here or, with a
    /// bus, anywhere), not on every write as views are.
    zones: Option<Zones>,
}

/// See [`GuardedViews::with_zones`].
#[derive(Debug)]
struct Zones {
    names: MemoryViews,
    /// The entities whose changes may change a time zone.
    entities: &'static [&'static str],
    /// Trusted without a bus (one instance by construction: SQLite).
    alone: bool,
}

/// What a lookup found, and where a view computed after it is to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The view, when cached.
    pub value: Option<Vec<u8>>,
    /// The shared cache's generation the lookup saw (`None`: answered locally).
    shared: Option<u64>,
    /// The local layer's generation the lookup saw (`None`: not consulted).
    local: Option<u64>,
}

impl GuardedViews {
    /// Guards `inner` (Redis or in process), or caches nothing when `None`.
    #[must_use]
    pub fn new(inner: Option<Arc<dyn ViewCache>>, observer: Arc<dyn ViewObserver>) -> Self {
        Self {
            inner,
            local: None,
            local_live: AtomicBool::new(false),
            observer,
            pending: std::sync::Mutex::default(),
            failing: AtomicBool::new(false),
            zones: None,
        }
    }

    /// The same guard keeping users' time zones in this process until a change of one of
    /// `entities` (the profile, the settings). With a bus (`with_local`) they are trusted while it is
    /// live; without one only when `alone` (a single instance: no change can happen
    /// unseen). Not trusted, [`CachedZones`] keeps them among the views, as before.
    #[must_use]
    pub fn with_zones(
        mut self,
        entities: &'static [&'static str],
        alone: bool,
        max_bytes: u64,
    ) -> Self {
        self.zones = Some(Zones {
            names: MemoryViews::new(max_bytes, Duration::from_secs(24 * 3600)),
            entities,
            alone,
        });
        self
    }

    /// The in-process zone cache, when it can be trusted now.
    fn zones(&self) -> Option<&MemoryViews> {
        let z = self.zones.as_ref()?;
        let trusted = if self.local.is_some() {
            self.local_live.load(Ordering::Acquire)
        } else {
            z.alone
        };
        trusted.then_some(&z.names)
    }

    /// The same guard with `local` in front of the shared cache. It stays unused until
    /// [`GuardedViews::set_local_live`] says every other instance's changes reach it
    /// ([`GuardedViews::changed_elsewhere`]).
    #[must_use]
    pub fn with_local(mut self, local: MemoryViews) -> Self {
        self.local = Some(local);
        self
    }

    /// Whether other instances' changes reach [`GuardedViews::changed_elsewhere`] now (the
    /// bus subscription is up). Coming up, the local layer starts empty: what it held may
    /// have missed changes while it was down.
    pub fn set_local_live(&self, live: bool) {
        if let Some(local) = &self.local {
            if live {
                local.clear();
                if let Some(z) = &self.zones {
                    z.names.clear();
                }
            }
            self.local_live.store(live, Ordering::Release);
        }
    }

    /// A change of `user`'s committed on another instance: their local views are stale.
    /// (That instance moved the shared generation before announcing the change.)
    pub fn changed_elsewhere(&self, user: UserId) {
        if let Some(local) = &self.local {
            local.forget(user);
        }
        // The hint does not say what changed: the zone may have.
        if let Some(z) = &self.zones {
            z.names.forget(user);
        }
    }

    fn live_local(&self) -> Option<&MemoryViews> {
        self.local
            .as_ref()
            .filter(|_| self.local_live.load(Ordering::Acquire))
    }

    /// Whether the cache is failing or owes an invalidation (`/readyz` says `degraded`).
    #[must_use]
    pub fn degraded(&self) -> bool {
        self.failing.load(Ordering::Relaxed) || !self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<UserId>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn failed(&self, key: &str, e: &ViewCacheError) {
        self.observer.counted(key, "error");
        if !self.failing.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = %e, "view cache failing: reads go to the database");
        }
    }

    fn recovered(&self) {
        if self.failing.swap(false, Ordering::Relaxed) {
            tracing::info!("view cache back");
        }
    }

    /// Retries the user's owed invalidation; `true` when none is owed any more.
    async fn settle(&self, inner: &dyn ViewCache, user: UserId, key: &str) -> bool {
        if !self.lock().contains(&user) {
            return true;
        }
        match inner.invalidate(user).await {
            Ok(()) => {
                self.lock().remove(&user);
                true
            }
            Err(e) => {
                self.failed(key, &e);
                false
            }
        }
    }

    /// The user's view `key`, or `None` to bypass the cache (off, failing, or an
    /// invalidation owed). With a live local layer, a view read before is answered from
    /// memory, with no round trip.
    pub async fn lookup(&self, user: UserId, key: &str) -> Option<Lookup> {
        let inner = self.inner.as_deref()?;
        if !self.settle(inner, user, key).await {
            self.observer.counted(key, "bypass");
            return None;
        }
        let local = self.live_local().map(|l| (l, l.view(user, key)));
        if let Some((_, found @ ViewLookup { value: Some(_), .. })) = local {
            self.observer.counted(key, "local");
            return Some(Lookup {
                value: found.value,
                shared: None,
                local: Some(found.generation),
            });
        }
        match inner.get(user, key).await {
            Ok(found) => {
                self.recovered();
                let result = if found.value.is_some() { "hit" } else { "miss" };
                self.observer.counted(key, result);
                let local = local.map(|(l, at)| {
                    if let Some(v) = &found.value {
                        l.keep(user, at.generation, key, v);
                    }
                    at.generation
                });
                Some(Lookup {
                    value: found.value,
                    shared: Some(found.generation),
                    local,
                })
            }
            Err(e) => {
                self.failed(key, &e);
                None
            }
        }
    }

    /// Stores a view computed after `at` found none (failures are counted, never
    /// raised). A write in between leaves it unread: it goes under the generations `at`
    /// saw.
    pub async fn store(&self, user: UserId, at: &Lookup, key: &str, value: &[u8]) {
        if let (Some(local), Some(generation)) = (&self.local, at.local) {
            local.keep(user, generation, key, value);
        }
        if let (Some(inner), Some(generation)) = (self.inner.as_deref(), at.shared)
            && let Err(e) = inner.put(user, generation, key, value).await
        {
            self.failed(key, &e);
        }
    }

    /// Retries owed invalidations every `every`, so other instances stop serving the
    /// views soon after the cache is back even if this instance sees no read.
    pub fn spawn_retry(self: Arc<Self>, every: Duration) {
        let Some(inner) = self.inner.clone() else {
            return;
        };
        let weak = Arc::downgrade(&self);
        drop(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(views) = weak.upgrade() else { return };
                let owed: Vec<UserId> = views.lock().iter().copied().collect();
                for user in owed {
                    if !views.settle(inner.as_ref(), user, "invalidate").await {
                        break;
                    }
                }
            }
        });
    }
}

#[async_trait::async_trait]
impl ViewInvalidation for GuardedViews {
    fn changed(&self, user: UserId, entity: &str) {
        if let Some(z) = &self.zones
            && z.entities.contains(&entity)
        {
            z.names.forget(user);
        }
    }

    async fn invalidate(&self, user: UserId) -> Result<(), ViewCacheError> {
        // This instance's next read sees the write at once.
        if let Some(local) = &self.local {
            local.forget(user);
        }
        let Some(inner) = self.inner.as_deref() else {
            return Ok(());
        };
        match inner.invalidate(user).await {
            Ok(()) => {
                self.lock().remove(&user);
                Ok(())
            }
            Err(e) => {
                self.lock().insert(user);
                self.failed("invalidate", &e);
                Err(e)
            }
        }
    }
}

/// The users' time zones through the view cache: "today" is asked on nearly every read,
/// and a zone changes only with the profile (a committed change, so an invalidation).
#[derive(Debug)]
pub struct CachedZones<Z> {
    inner: Z,
    views: Arc<GuardedViews>,
}

impl<Z> CachedZones<Z> {
    /// Caches `inner`'s answers in `views`.
    pub fn new(inner: Z, views: Arc<GuardedViews>) -> Self {
        Self { inner, views }
    }
}

#[async_trait::async_trait]
impl<Z: UserTimeZones> UserTimeZones for CachedZones<Z> {
    async fn time_zone(&self, user: UserId) -> Result<TimeZone, StoreError> {
        const KEY: &str = "tz";
        if let Some(zones) = self.views.zones() {
            let at = zones.view(user, KEY);
            if let Some(zone) = at
                .value
                .as_deref()
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(|name| TimeZone::parse(name).ok())
            {
                return Ok(zone);
            }
            let zone = self.inner.time_zone(user).await?;
            zones.keep(user, at.generation, KEY, zone.name().as_bytes());
            return Ok(zone);
        }
        let found = self.views.lookup(user, KEY).await;
        if let Some(zone) = found
            .as_ref()
            .and_then(|l| l.value.as_deref())
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|name| TimeZone::parse(name).ok())
        {
            return Ok(zone);
        }
        let zone = self.inner.time_zone(user).await?;
        if let Some(at) = found {
            self.views
                .store(user, &at, KEY, zone.name().as_bytes())
                .await;
        }
        Ok(zone)
    }
}

impl ayubi_sync::RemoteChangeListener for GuardedViews {
    fn changed_elsewhere(&self, user: UserId) {
        GuardedViews::changed_elsewhere(self, user);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::sync::atomic::AtomicU64;

    /// The shared cache (Redis in the app), in memory, counting the round trips.
    #[derive(Debug, Default)]
    struct Shared {
        views: Option<MemoryViews>,
        calls: AtomicU64,
    }

    impl Shared {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                views: Some(MemoryViews::new(1 << 20, Duration::from_secs(60))),
                calls: AtomicU64::new(0),
            })
        }

        fn calls(&self) -> u64 {
            self.calls.load(Ordering::Relaxed)
        }

        fn inner(&self) -> &MemoryViews {
            self.views.as_ref().unwrap()
        }
    }

    #[async_trait::async_trait]
    impl ViewCache for Shared {
        async fn get(&self, user: UserId, key: &str) -> Result<ViewLookup, ViewCacheError> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            self.inner().get(user, key).await
        }

        async fn put(
            &self,
            user: UserId,
            generation: u64,
            key: &str,
            value: &[u8],
        ) -> Result<(), ViewCacheError> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            self.inner().put(user, generation, key, value).await
        }
    }

    #[async_trait::async_trait]
    impl ViewInvalidation for Shared {
        async fn invalidate(&self, user: UserId) -> Result<(), ViewCacheError> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            self.inner().invalidate(user).await
        }
    }

    #[derive(Debug)]
    struct Quiet;

    impl ViewObserver for Quiet {
        fn counted(&self, _: &str, _: &str) {}
    }

    /// Two instances over one shared cache, each with its local layer.
    fn instance(shared: &Arc<Shared>) -> GuardedViews {
        let shared: Arc<dyn ViewCache> = shared.clone();
        GuardedViews::new(Some(shared), Arc::new(Quiet))
            .with_local(MemoryViews::new(1 << 20, Duration::from_secs(60)))
    }

    /// A reader: the cached view, or `computed` stored under what the lookup saw.
    async fn read(views: &GuardedViews, user: UserId, computed: &[u8]) -> Vec<u8> {
        match views.lookup(user, "stats").await {
            Some(Lookup { value: Some(v), .. }) => v,
            found => {
                if let Some(at) = &found {
                    views.store(user, at, "stats", computed).await;
                }
                computed.to_vec()
            }
        }
    }

    #[tokio::test]
    async fn a_live_local_layer_answers_without_a_round_trip_and_hears_of_writes_elsewhere() {
        let shared = Shared::new();
        let (a, b) = (instance(&shared), instance(&shared));
        let u = UserId::new(1);
        a.set_local_live(true);
        b.set_local_live(true);
        assert_eq!(read(&b, u, b"v1").await, b"v1");
        let before = shared.calls();
        for _ in 0..3 {
            assert_eq!(read(&b, u, b"unused").await, b"v1");
        }
        assert_eq!(shared.calls(), before, "answered in process");

        // A write on `a`: its own next read is fresh at once.
        a.invalidate(u).await.unwrap();
        assert_eq!(read(&a, u, b"v2").await, b"v2");
        // `b` serves its copy until the hint arrives, then reads the shared cache.
        assert_eq!(read(&b, u, b"unused").await, b"v1");
        b.changed_elsewhere(u);
        assert_eq!(read(&b, u, b"unused").await, b"v2");
    }

    #[tokio::test]
    async fn without_the_bus_the_local_layer_is_bypassed_and_starts_empty_when_back() {
        let shared = Shared::new();
        let (a, b) = (instance(&shared), instance(&shared));
        let u = UserId::new(1);
        b.set_local_live(true);
        assert_eq!(read(&b, u, b"v1").await, b"v1");
        // The subscription drops: hints may be lost, so every read asks the shared cache.
        b.set_local_live(false);
        a.invalidate(u).await.unwrap(); // its hint never reaches `b`
        let before = shared.calls();
        assert_eq!(read(&b, u, b"v2").await, b"v2");
        assert!(shared.calls() > before);
        // Back up: what `b` held before is gone, not served again.
        b.set_local_live(true);
        assert_eq!(read(&b, u, b"v2").await, b"v2");
        assert_eq!(read(&b, u, b"unused").await, b"v2");
    }

    #[tokio::test]
    async fn a_view_computed_before_a_write_elsewhere_is_not_kept_locally() {
        let shared = Shared::new();
        let b = instance(&shared);
        let u = UserId::new(1);
        b.set_local_live(true);
        let found = b.lookup(u, "stats").await.unwrap();
        assert_eq!(found.value, None);
        // While `b` computes, a write elsewhere commits and its hint arrives.
        shared.inner().invalidate(u).await.unwrap();
        b.changed_elsewhere(u);
        b.store(u, &found, "stats", b"stale").await;
        assert_eq!(read(&b, u, b"fresh").await, b"fresh");
    }

    #[tokio::test]
    async fn zones_stay_until_the_profile_changes_here_or_anywhere() {
        let shared = Shared::new();
        let views =
            Arc::new(instance(&shared).with_zones(&["profile", "user_settings"], false, 1 << 20));
        let u = UserId::new(1);
        #[derive(Debug, Clone)]
        struct Db(Arc<std::sync::Mutex<&'static str>>, Arc<AtomicU64>);
        #[async_trait::async_trait]
        impl UserTimeZones for Db {
            async fn time_zone(&self, _: UserId) -> Result<TimeZone, StoreError> {
                self.1.fetch_add(1, Ordering::Relaxed);
                Ok(TimeZone::parse(&self.0.lock().unwrap()).unwrap())
            }
        }
        let db = Db(
            Arc::new(std::sync::Mutex::new("Europe/Berlin")),
            Arc::default(),
        );
        let zones = CachedZones::new(db.clone(), views.clone());
        views.set_local_live(true);
        for _ in 0..3 {
            assert_eq!(zones.time_zone(u).await.unwrap().name(), "Europe/Berlin");
        }
        assert_eq!(db.1.load(Ordering::Relaxed), 1, "read once");
        // Any other write leaves it; a profile change forgets it.
        views.changed(u, "sport_water");
        views.invalidate(u).await.unwrap();
        zones.time_zone(u).await.unwrap();
        assert_eq!(db.1.load(Ordering::Relaxed), 1);
        *db.0.lock().unwrap() = "Asia/Tokyo";
        views.changed(u, "profile");
        assert_eq!(zones.time_zone(u).await.unwrap().name(), "Asia/Tokyo");
        *db.0.lock().unwrap() = "America/Lima";
        views.changed(u, "user_settings");
        assert_eq!(zones.time_zone(u).await.unwrap().name(), "America/Lima");
        // A change elsewhere (whatever it was) forgets it too.
        *db.0.lock().unwrap() = "UTC";
        views.changed_elsewhere(u);
        assert_eq!(zones.time_zone(u).await.unwrap().name(), "UTC");
    }
}
