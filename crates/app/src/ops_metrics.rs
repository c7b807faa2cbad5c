//! Metrics beyond HTTP that no other module owns: the database pool (sampled at each
//! scrape, and the time each query waited for a connection) and failed logins.

use ayubi_db::{ACQUIRE_EVENT_TARGET, Database};
use ayubi_identity::IdentityError;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};
use std::sync::LazyLock;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{Filtered, Targets};
use tracing_subscriber::layer::Context;

/// `ayubi_db_pool_acquire_seconds`: how long each acquire waited for a connection — the
/// pool's "waiting" (sqlx keeps no count of its waiters; this is the same saturation
/// seen from the waiters' side: acquires in the buckets above a millisecond had to wait
/// for another query to give its connection back). Fed by [`PoolAcquireLayer`] from the
/// event sqlx emits after every acquire, so one per process — the tracing subscriber it
/// hangs on is global too — and registered on each app's registry.
pub static POOL_ACQUIRE_SECONDS: LazyLock<Option<Histogram>> = LazyLock::new(|| {
    // Constant options, so `None` never happens; `register_pool` would report it.
    Histogram::with_opts(
        HistogramOpts::new(
            "ayubi_db_pool_acquire_seconds",
            "Time a database operation waited for a pooled connection",
        )
        .buckets(vec![
            0.000_05, 0.000_25, 0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10.0,
        ]),
    )
    .ok()
});

/// The tracing layer that turns sqlx's acquire events into [`POOL_ACQUIRE_SECONDS`]
/// observations; [`PoolAcquireLayer::filtered`] lets only those events reach it.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolAcquireLayer;

impl PoolAcquireLayer {
    /// The layer with its own filter: sqlx's acquire events, nothing else, whatever the
    /// log filter says (so `RUST_LOG` cannot switch the metric off, and the log lines are
    /// not switched on by it).
    #[must_use]
    pub fn filtered<S>() -> Filtered<Self, Targets, S>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        Self.with_filter(Targets::new().with_target(ACQUIRE_EVENT_TARGET, tracing::Level::DEBUG))
    }
}

struct AcquiredAfter(Option<f64>);

impl Visit for AcquiredAfter {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "acquired_after_secs" {
            self.0 = Some(value);
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> Layer<S> for PoolAcquireLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut waited = AcquiredAfter(None);
        event.record(&mut waited);
        if let (Some(secs), Some(h)) = (waited.0, POOL_ACQUIRE_SECONDS.as_ref()) {
            h.observe(secs);
        }
    }
}

/// `ayubi_db_pool_connections{state="idle"|"in_use"}`, `ayubi_db_pool_max_connections`
/// and `ayubi_db_writers_waiting`, read from the pool when `/metrics` is scraped (a
/// gauge updated on every acquire would cost the hot path for a value read every 15 s).
struct PoolCollector {
    db: Database,
    connections: IntGaugeVec,
    max: IntGauge,
    writers_waiting: IntGauge,
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        let mut d = self.connections.desc();
        d.extend(self.max.desc());
        d.extend(self.writers_waiting.desc());
        d
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let s = self.db.pool_stats();
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.connections
            .with_label_values(&["idle"])
            .set(gauge(s.idle.into()));
        self.connections
            .with_label_values(&["in_use"])
            .set(gauge(s.size.saturating_sub(s.idle).into()));
        self.max.set(gauge(s.max.into()));
        self.writers_waiting.set(gauge(s.writers_waiting));
        let mut out = self.connections.collect();
        out.extend(self.max.collect());
        out.extend(self.writers_waiting.collect());
        out
    }
}

/// Registers the pool's gauges and [`POOL_ACQUIRE_SECONDS`] on `registry`.
///
/// # Errors
/// When a metric of the same name is already registered there.
pub fn register_pool(db: Database, registry: &Registry) -> prometheus::Result<()> {
    let acquire = POOL_ACQUIRE_SECONDS
        .clone()
        .ok_or_else(|| prometheus::Error::Msg("ayubi_db_pool_acquire_seconds options".into()))?;
    registry.register(Box::new(acquire))?;
    registry.register(Box::new(PoolCollector {
        db,
        connections: IntGaugeVec::new(
            Opts::new(
                "ayubi_db_pool_connections",
                "Open database connections of this instance, by state (idle, in_use)",
            ),
            &["state"],
        )?,
        max: IntGauge::new(
            "ayubi_db_pool_max_connections",
            "The most database connections this instance opens",
        )?,
        writers_waiting: IntGauge::new(
            "ayubi_db_writers_waiting",
            "Write transactions queued for a group-commit batch (PostgreSQL: per user, for writes that record a change)",
        )?,
    }))
}

/// `ayubi_login_failures_total{reason}`: refused logins — `credentials` (unknown email or
/// wrong password), `invalid` (a malformed request), `error` (the store failed). Logins
/// refused by the rate limit never reach the handler; they are the 429s of
/// `ayubi_http_requests_total{endpoint="/api/v1/auth/login"}`.
#[derive(Debug, Clone)]
pub struct AuthMetrics {
    login_failures: IntCounterVec,
}

impl AuthMetrics {
    /// Creates and registers the counter.
    ///
    /// # Errors
    /// When a metric of the same name is already registered there.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let login_failures = IntCounterVec::new(
            Opts::new("ayubi_login_failures_total", "Refused logins, by reason"),
            &["reason"],
        )?;
        registry.register(Box::new(login_failures.clone()))?;
        Ok(Self { login_failures })
    }

    /// Counts a refused login.
    pub fn login_failed(&self, e: &IdentityError) {
        let reason = match e {
            IdentityError::InvalidCredentials => "credentials",
            IdentityError::Invalid { .. } => "invalid",
            _ => "error",
        };
        self.login_failures.with_label_values(&[reason]).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sqlx::sqlite::SqlitePoolOptions;
    use std::time::Duration;
    use tracing_subscriber::layer::SubscriberExt;

    /// sqlx's real event, through the layer as `init_logs` installs it: a query that
    /// finds the only connection taken is observed with the time it waited.
    #[tokio::test(flavor = "current_thread")]
    async fn the_wait_for_a_pooled_connection_is_observed() {
        let subscriber = tracing_subscriber::registry().with(PoolAcquireLayer::filtered());
        let _guard = tracing::subscriber::set_default(subscriber);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_time_level(log::LevelFilter::Debug)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        // Other tests of this binary may observe too (the histogram is the process's):
        // look for this test's wait, not for exact counts.
        let slow_before = slow_acquires();
        let held = pool.acquire().await.unwrap();
        let waiter = tokio::spawn({
            let pool = pool.clone();
            async move { drop(pool.acquire().await.unwrap()) }
        });
        tokio::time::sleep(Duration::from_millis(150)).await;
        drop(held);
        waiter.await.unwrap();
        assert!(
            slow_acquires() > slow_before,
            "the 150 ms wait is in the histogram above 0.1 s"
        );
    }

    /// Observations over 0.1 s so far.
    fn slow_acquires() -> u64 {
        let m = POOL_ACQUIRE_SECONDS.as_ref().unwrap().collect();
        let h = m[0].get_metric()[0].get_histogram();
        let le_01 = h
            .get_bucket()
            .iter()
            .find(|b| (b.upper_bound() - 0.1).abs() < 1e-9)
            .map_or(0, |b| b.cumulative_count());
        h.get_sample_count() - le_01
    }
}

/// Backup metrics, served by `/metrics`.
#[derive(Debug, Clone)]
pub struct BackupMetrics {
    /// `ayubi_backup_runs_total`: scheduled backups made.
    pub runs: IntCounter,
    /// `ayubi_backup_failures_total`: scheduled backups that failed.
    pub failures: IntCounter,
    /// `ayubi_backup_scheduler_passes_total`: scheduler passes on this instance.
    pub passes: IntCounter,
}

impl ayubi_backup::ports::BackupObserver for BackupMetrics {
    fn run(&self) {
        self.runs.inc();
    }
    fn failure(&self) {
        self.failures.inc();
    }
    fn pass(&self) {
        self.passes.inc();
    }
}

impl BackupMetrics {
    /// Creates and registers them.
    ///
    /// # Errors
    /// When a metric of the same name is already registered.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self {
            runs: IntCounter::new("ayubi_backup_runs_total", "Scheduled backups made")?,
            failures: IntCounter::new(
                "ayubi_backup_failures_total",
                "Scheduled backups that failed",
            )?,
            passes: IntCounter::new(
                "ayubi_backup_scheduler_passes_total",
                "Backup scheduler passes on this instance",
            )?,
        };
        registry.register(Box::new(m.runs.clone()))?;
        registry.register(Box::new(m.failures.clone()))?;
        registry.register(Box::new(m.passes.clone()))?;
        Ok(m)
    }
}
