//! Live-sync metrics, served by `/metrics` with the HTTP ones.

use ayubi_sync::SyncObserver;
use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// What operators watch: open connections, whether this instance is polling for other
/// instances' changes, and why connections end (4008 slow consumers, 4001 expiry…).
#[derive(Debug, Clone)]
pub struct SyncMetrics {
    /// `ayubi_sync_connections`: open WebSocket and SSE connections on this instance.
    pub connections: IntGauge,
    /// `ayubi_sync_polling`: 1 while no wake-ups arrive from other instances (no Redis,
    /// or its subscription is down) and the log is polled instead.
    pub polling: IntGauge,
    /// `ayubi_sync_closes_total{code}`: connections the server ended, by close code.
    pub closes: IntCounterVec,
    /// `ayubi_sync_events_published_total`: changes committed through this instance and
    /// announced (to its own sockets, and through Redis to the other instances').
    pub published: IntCounter,
    /// `ayubi_sync_events_delivered_total`: changes written to a client connection of
    /// this instance (WebSocket or SSE), live or replayed from the log.
    pub delivered: IntCounter,
}

impl SyncMetrics {
    /// Unregistered metrics (they count all the same).
    ///
    /// # Panics
    /// Never: the names and labels are constant and valid.
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn new() -> Self {
        Self {
            connections: IntGauge::new(
                "ayubi_sync_connections",
                "Open live-sync connections (WebSocket and SSE) on this instance",
            )
            .expect("valid metric"),
            polling: IntGauge::new(
                "ayubi_sync_polling",
                "1 while this instance polls the change log for other instances' changes",
            )
            .expect("valid metric"),
            published: IntCounter::new(
                "ayubi_sync_events_published_total",
                "Changes committed through this instance and announced for live sync",
            )
            .expect("valid metric"),
            delivered: IntCounter::new(
                "ayubi_sync_events_delivered_total",
                "Changes written to this instance's live-sync connections",
            )
            .expect("valid metric"),
            closes: IntCounterVec::new(
                Opts::new(
                    "ayubi_sync_closes_total",
                    "Live-sync connections ended by the server, by close code",
                ),
                &["code"],
            )
            .expect("valid metric"),
        }
    }

    /// Adds them to `registry` (the one `/metrics` serves).
    ///
    /// # Errors
    /// When a metric of the same name is already registered there.
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.connections.clone()))?;
        registry.register(Box::new(self.polling.clone()))?;
        registry.register(Box::new(self.published.clone()))?;
        registry.register(Box::new(self.delivered.clone()))?;
        registry.register(Box::new(self.closes.clone()))
    }
}

impl SyncObserver for SyncMetrics {
    fn connection_opened(&self) {
        self.connections.inc();
    }
    fn connection_closed(&self) {
        self.connections.dec();
    }
    fn polling(&self, polling: bool) {
        self.polling.set(i64::from(polling));
    }
    fn published(&self) {
        self.published.inc();
    }
    fn delivered(&self) {
        self.delivered.inc();
    }
    fn closed(&self, code: u16) {
        self.closes.with_label_values(&[&code.to_string()]).inc();
    }
}

impl Default for SyncMetrics {
    fn default() -> Self {
        Self::new()
    }
}
