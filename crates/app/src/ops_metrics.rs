//! Metrics beyond HTTP that no other module owns: the database pool (sampled at each
//! scrape) and failed logins.

use ayubi_db::Database;
use ayubi_identity::IdentityError;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

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

/// Registers the pool's gauges on `registry`.
///
/// # Errors
/// When a metric of the same name is already registered there.
pub fn register_pool(db: Database, registry: &Registry) -> prometheus::Result<()> {
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
            "SQLite: write transactions queued for their turn (0 on PostgreSQL)",
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
