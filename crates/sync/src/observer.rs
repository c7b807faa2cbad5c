//! What operators watch, as a port: the app turns these calls into Prometheus metrics;
//! a service that does not care passes [`NoMetrics`].

/// Told of everything countable in live sync. Must not block.
pub trait SyncObserver: Send + Sync + std::fmt::Debug {
    /// A connection (WebSocket or SSE) registered with the hub…
    fn connection_opened(&self) {}
    /// …and went away.
    fn connection_closed(&self) {}
    /// Whether this instance polls the log for other instances' changes (no live
    /// wake-ups arrive).
    fn polling(&self, _polling: bool) {}
    /// A change committed through this instance was announced.
    fn published(&self) {}
    /// A change was written to a client connection of this instance.
    fn delivered(&self) {}
    /// The server ended a connection with `code`.
    fn closed(&self, _code: u16) {}
}

/// Counts nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMetrics;

impl SyncObserver for NoMetrics {}
