//! Game stats wiring: the platforms' adapter, metered, under the service.
//!
//! The meter is a decorator on the [`GamePlatforms`] port, so every upstream call is
//! counted whoever makes it, and the domain stays free of Prometheus.

use crate::config::GamesSettings;
use ayubi_db::{Database, SqlGameStatsCache};
use ayubi_game_platforms::HttpPlatforms;
use ayubi_games::ports::GamePlatforms;
use ayubi_games::{GamesConfig, GamesService, Platform, PlatformError};
use ayubi_kernel::Clock;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use std::sync::Arc;

/// Upstream calls by platform and outcome, and how long they took.
#[derive(Debug, Clone)]
pub struct PlatformMetrics {
    /// `ayubi_game_platform_fetches_total{platform, outcome}`: `ok`, `not_found`,
    /// `key_rejected`, `unavailable`.
    pub fetches: IntCounterVec,
    /// `ayubi_game_platform_fetch_seconds{platform}`.
    pub seconds: HistogramVec,
}

impl PlatformMetrics {
    /// Creates and registers them.
    ///
    /// # Errors
    /// When a metric of the same name is already registered.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self {
            fetches: IntCounterVec::new(
                Opts::new(
                    "ayubi_game_platform_fetches_total",
                    "Fetches from Steam and FACEIT, by outcome",
                ),
                &["platform", "outcome"],
            )?,
            seconds: HistogramVec::new(
                HistogramOpts::new(
                    "ayubi_game_platform_fetch_seconds",
                    "Time a fetch from Steam or FACEIT took, retry included",
                )
                .buckets(vec![0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
                &["platform"],
            )?,
        };
        registry.register(Box::new(m.fetches.clone()))?;
        registry.register(Box::new(m.seconds.clone()))?;
        Ok(m)
    }
}

/// [`GamePlatforms`] that counts and times every fetch.
#[derive(Debug)]
struct Metered<P> {
    inner: P,
    metrics: PlatformMetrics,
}

#[async_trait::async_trait]
impl<P: GamePlatforms> GamePlatforms for Metered<P> {
    fn configured(&self, platform: Platform) -> bool {
        self.inner.configured(platform)
    }

    async fn fetch(
        &self,
        platform: Platform,
        account: &str,
    ) -> Result<serde_json::Value, PlatformError> {
        let timer = self
            .metrics
            .seconds
            .with_label_values(&[platform.as_str()])
            .start_timer();
        let out = self.inner.fetch(platform, account).await;
        timer.observe_duration();
        let outcome = out.as_ref().map_or_else(PlatformError::label, |_| "ok");
        self.metrics
            .fetches
            .with_label_values(&[platform.as_str(), outcome])
            .inc();
        out
    }
}

/// The game-stats service over the cache table and the platforms' HTTP adapters.
///
/// # Errors
/// A platform base URL that does not parse; metrics already registered.
pub fn service(
    games: &GamesSettings,
    db: &Database,
    clock: Arc<dyn Clock>,
    registry: &Registry,
) -> anyhow::Result<GamesService> {
    let platforms = games.platforms();
    let config = GamesConfig {
        policy: games.policy(),
        fetch_budget: platforms.fetch_budget(),
    };
    let http = HttpPlatforms::new(platforms).map_err(|e| anyhow::anyhow!("games: {e}"))?;
    let metered = Metered {
        inner: http,
        metrics: PlatformMetrics::register(registry)?,
    };
    Ok(GamesService::new(
        Arc::new(SqlGameStatsCache::new(db.clone())),
        Arc::new(metered),
        clock,
        config,
    ))
}
