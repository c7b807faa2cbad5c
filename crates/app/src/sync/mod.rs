//! Live sync: the per-instance hub and its Redis bridge ([`hub`]), a client's position in
//! the change log ([`feed`]), and the two transports that drive it ([`socket`] for
//! WebSocket, [`sse`] for Server-Sent Events). The routes are in [`crate::routes::sync`].

pub mod feed;
pub mod hub;
pub mod metrics;
pub mod socket;
pub mod sse;

pub use hub::{Fanout, Hub};
pub use metrics::SyncMetrics;

/// Live-sync runtime settings, from `[sync]`.
#[derive(Debug, Clone, Copy)]
pub struct SyncConfig {
    /// Heartbeat and send timeout.
    pub timing: socket::Timing,
    /// Changes per replay read.
    pub batch_size: u32,
}
