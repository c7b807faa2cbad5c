//! The game-stats use case.

use crate::Platform;
use crate::error::{GamesError, Result};
use crate::flight::Flights;
use crate::model::{Cached, GameStats, PlatformError};
use crate::policy::{CachePolicy, Decision};
use crate::ports::{GamePlatforms, StatsCache};
use crate::present::present;
use ayubi_kernel::{Clock, UserId};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use std::sync::Arc;
use std::time::Duration;

/// How the service caches and how long a fetch may hold the lease.
#[derive(Debug, Clone, Copy)]
pub struct GamesConfig {
    /// TTL and back-off.
    pub policy: CachePolicy,
    /// How long one fetch may take, retry included: the lease lasts this long, and an
    /// instance waiting for another's fetch waits at most this long.
    pub fetch_budget: Duration,
}

/// Game stats for the dashboard.
#[derive(Debug, Clone)]
pub struct GamesService {
    cache: Arc<dyn StatsCache>,
    platforms: Arc<dyn GamePlatforms>,
    clock: Arc<dyn Clock>,
    config: GamesConfig,
    flights: Arc<Flights>,
}

impl GamesService {
    /// Wires the ports.
    #[must_use]
    pub fn new(
        cache: Arc<dyn StatsCache>,
        platforms: Arc<dyn GamePlatforms>,
        clock: Arc<dyn Clock>,
        config: GamesConfig,
    ) -> Self {
        Self {
            cache,
            platforms,
            clock,
            config,
            flights: Arc::new(Flights::default()),
        }
    }

    /// The user's stats on `platform`: from the copy while it is fresh, else from the
    /// platform, else (trouble, or an empty or private answer over a complete copy) from
    /// the copy marked stale.
    ///
    /// # Errors
    /// [`GamesError::NotLinked`] first, then [`GamesError::NotConfigured`];
    /// [`GamesError::UnknownAccount`], [`GamesError::KeyRejected`] and
    /// [`GamesError::Unavailable`] only when there is no copy to serve.
    pub async fn stats(&self, user: UserId, platform: Platform) -> Result<GameStats> {
        let account = self
            .cache
            .linked(user, platform)
            .await?
            .ok_or(GamesError::NotLinked(platform))?;
        if !self.platforms.configured(platform) {
            return Err(GamesError::NotConfigured(platform));
        }
        let _turn = self.flights.enter(user, platform).await;
        let now = self.now();
        let cached = self.copy(user, platform, &account).await?;
        match self.config.policy.decide(cached.as_ref(), now) {
            Decision::Serve { stale } => return answer(platform, cached, stale),
            Decision::Wait { retry_at } => {
                return Err(trouble(platform, cached.as_ref(), retry_at, now));
            }
            Decision::Fetch => {}
        }
        let budget = TimeDelta::from_std(self.config.fetch_budget).unwrap_or(TimeDelta::MAX);
        if !self
            .cache
            .claim(user, platform, &account, now, now + budget)
            .await?
        {
            // Another instance is asking the platform right now.
            if cached.as_ref().is_some_and(|c| c.raw.is_some()) {
                return answer(platform, cached, true);
            }
            let after = self
                .cache
                .wait(user, platform, self.config.fetch_budget)
                .await?
                .filter(|c| c.account == account);
            let now = self.now();
            return match self.config.policy.decide(after.as_ref(), now) {
                Decision::Serve { stale } => answer(platform, after, stale),
                Decision::Wait { retry_at } => {
                    Err(trouble(platform, after.as_ref(), retry_at, now))
                }
                Decision::Fetch => Err(GamesError::Unavailable {
                    platform,
                    retry_after_secs: 1,
                }),
            };
        }
        let fetched = self.platforms.fetch(platform, &account).await;
        if let Err(e) = &fetched {
            tracing::warn!(platform = platform.as_str(), trouble = e.label(), reason = %e, "game platform gave no answer");
        }
        let now = self.now();
        let settled = self
            .config
            .policy
            .settle(platform, &account, cached, fetched, now);
        self.cache.save(user, platform, &settled.save).await?;
        let retry_at = settled.save.retry_at.unwrap_or(now);
        match settled.answer {
            Ok(stale) => answer(platform, Some(settled.save), stale),
            Err(e) => Err(from_platform(platform, &e, retry_at, now)),
        }
    }

    /// Microseconds: what PostgreSQL keeps, so a fresh answer and the stored copy agree.
    fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    async fn copy(
        &self,
        user: UserId,
        platform: Platform,
        account: &str,
    ) -> Result<Option<Cached>> {
        // A copy of an account the profile no longer links is as good as none.
        Ok(self
            .cache
            .get(user, platform)
            .await?
            .filter(|c| c.account == account))
    }
}

fn answer(platform: Platform, copy: Option<Cached>, stale: bool) -> Result<GameStats> {
    let (Some(raw), Some(fetched_at)) = (
        copy.as_ref().and_then(|c| c.raw.as_ref()),
        copy.as_ref().and_then(|c| c.updated_at),
    ) else {
        return Err(GamesError::Unavailable {
            platform,
            retry_after_secs: 1,
        });
    };
    // Stored copies were read before they were stored; one that no longer reads (what we
    // show changed incompatibly) is reported like an outage rather than a 500.
    let reading = present(platform, raw).map_err(|e| {
        tracing::error!(platform = platform.as_str(), error = %e, "a cached game-stats copy does not read");
        GamesError::Unavailable {
            platform,
            retry_after_secs: 1,
        }
    })?;
    Ok(GameStats {
        platform,
        fetched_at,
        stale,
        data: reading.stats,
    })
}

/// The error for a request answered from the back-off, saying what the platform said.
fn trouble(
    platform: Platform,
    copy: Option<&Cached>,
    retry_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> GamesError {
    let label = copy
        .and_then(|c| c.last_error.as_deref())
        .unwrap_or_default();
    from_platform(platform, &PlatformError::from_label(label), retry_at, now)
}

fn from_platform(
    platform: Platform,
    e: &PlatformError,
    retry_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> GamesError {
    match e {
        PlatformError::NotFound => GamesError::UnknownAccount(platform),
        PlatformError::KeyRejected => GamesError::KeyRejected(platform),
        PlatformError::Unavailable { .. } => GamesError::Unavailable {
            platform,
            retry_after_secs: u64::try_from((retry_at - now).num_seconds())
                .unwrap_or(0)
                .max(1),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::faceit_raw;
    use crate::testing::{MemoryStatsCache, ScriptedPlatforms};
    use ayubi_kernel::ManualClock;
    use serde_json::json;

    fn setup() -> (
        GamesService,
        Arc<ScriptedPlatforms>,
        Arc<ManualClock>,
        UserId,
    ) {
        let cache = Arc::new(MemoryStatsCache::new());
        let user = UserId::new(1);
        cache.link(user, Platform::Faceit, "ada");
        let platforms = Arc::new(ScriptedPlatforms::default());
        let clock = Arc::new(ManualClock::new("2026-12-07T12:00:00Z".parse().unwrap()));
        let config = GamesConfig {
            policy: CachePolicy::default(),
            fetch_budget: Duration::from_secs(5),
        };
        let service = GamesService::new(cache, platforms.clone(), clock.clone(), config);
        (service, platforms, clock, user)
    }

    fn player() -> serde_json::Value {
        let p =
            json!({"player_id": "p1", "nickname": "ada", "games": {"cs2": {"faceit_elo": 2100}}});
        faceit_raw(p, Some(json!({"lifetime": {"Matches": "52"}})))
    }

    #[tokio::test]
    async fn a_fresh_copy_is_served_without_a_call_and_trouble_serves_it_stale() {
        let (s, platforms, clock, u) = setup();
        platforms.answer(Ok(player()));
        let first = s.stats(u, Platform::Faceit).await.unwrap();
        assert!(!first.stale);
        // Within the TTL: no second call, even for many requests at once.
        let (a, b) = tokio::join!(s.stats(u, Platform::Faceit), s.stats(u, Platform::Faceit));
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(platforms.calls(), 1);
        // Past the TTL the platform is asked; when it fails, the copy is served, stale.
        clock.set("2026-12-07T12:20:00Z".parse().unwrap());
        platforms.answer(Err(PlatformError::Unavailable {
            reason: "503".into(),
            retry_after: None,
        }));
        let stale = s.stats(u, Platform::Faceit).await.unwrap();
        assert!(stale.stale);
        assert_eq!(platforms.calls(), 2);
        // Backing off: no call until the back-off has passed.
        s.stats(u, Platform::Faceit).await.unwrap();
        assert_eq!(platforms.calls(), 2);
    }

    #[tokio::test]
    async fn an_unlinked_platform_is_refused_before_any_call() {
        let (s, platforms, _, u) = setup();
        let err = s.stats(u, Platform::Steam).await.unwrap_err();
        assert!(
            matches!(err, GamesError::NotLinked(Platform::Steam)),
            "{err:?}"
        );
        assert_eq!(platforms.calls(), 0);
    }
}
