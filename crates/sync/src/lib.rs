//! Ayubi's live sync, without a transport.
//!
//! Owns what makes sync lossless: the change [`Change`] as clients get it
//! ([`message`]), the cursor and the resync rule ([`ChangePage::resync_required`]), the
//! [`Feed`] that joins a replay of the log with live changes (no gap, no duplicate), the
//! per-instance [`Hub`] and its queue policy (bounded per user; a slow consumer re-reads
//! the log), the [`Fanout`] that announces commits here and, as [`Hint`]s over a [`Bus`],
//! to other instances, and [`drive`], the policy of one connection (heartbeats, send
//! timeout, expiry, revocation). Its ports: [`ChangeLog`] (read the log),
//! [`ChangeNotifier`] (told of commits), [`Bus`], [`CredentialCheck`] and
//! [`SyncObserver`] (metrics).
//!
//! It does not own the transports (the app's WebSocket and SSE outlets), the log's
//! storage (`ayubi-db`, which writes each change in its write's transaction) or the bus
//! (`ayubi-cache`'s Redis pub/sub).
//!
//! # Example
//!
//! A client's cursor against the log: catch up, or refetch when the log no longer has
//! what follows it:
//!
//! ```
//! use ayubi_sync::ChangePage;
//!
//! let page = ChangePage { changes: vec![], oldest_kept: Some(41), latest: 50 };
//! assert!(!page.resync_required(40)); // 41.. are all kept
//! assert!(page.resync_required(12)); // 13..40 were purged
//! assert!(page.resync_required(51)); // ahead of the log: another server's cursor
//! ```

#![warn(missing_docs)]

pub mod connection;
pub mod fanout;
pub mod feed;
pub mod hint;
pub mod hub;
pub mod log;
pub mod message;
pub mod observer;

pub use connection::{
    Checked, Close, Conn, CredentialCheck, Inbound, Live, Outlet, SyncConfig, Timing, code, drive,
    too_many,
};
pub use fanout::{Bus, Fanout, RemoteChangeListener, RevocationListener};
pub use feed::{Feed, Item};
pub use hint::{Hint, channel};
pub use hub::{Hub, Signal, Subscription};
pub use log::{Change, ChangeLog, ChangeNotifier, ChangePage};
pub use observer::{NoMetrics, SyncObserver};
