//! Pool and connection settings: what the app's configuration says of the database.

use std::time::Duration;

/// Pool and connection settings (mapped from the app's configuration).
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// `sqlite://path?mode=rwc` or `postgres://…` (not an in-memory SQLite: the writer
    /// and the readers open the file on connections of their own).
    pub url: String,
    /// Upper bound of pooled connections.
    pub max_connections: u32,
    /// Connections kept open when idle.
    pub min_connections: u32,
    /// How long a request may wait for a free connection.
    pub acquire_timeout: Duration,
    /// Idle connections above `min_connections` are closed after this.
    pub idle_timeout: Duration,
    /// Connections are recycled after this (survives server-side timeouts and failovers).
    pub max_lifetime: Duration,
    /// Ping a connection before handing it out ("pre-ping"; PostgreSQL only).
    pub test_before_acquire: bool,
    /// SQLite: how long a writer waits for the write lock before failing.
    pub sqlite_busy_timeout: Duration,
    /// SQLite: `synchronous = FULL` (fsync every commit) instead of `NORMAL`.
    pub sqlite_synchronous_full: bool,
    /// SQLite: page cache per connection, KiB (`PRAGMA cache_size = -N`).
    pub sqlite_cache_size_kib: u32,
    /// SQLite: the most heap all connections of the process keep together, KiB
    /// (`PRAGMA soft_heap_limit`; 0: no limit beyond each connection's `cache_size`).
    pub sqlite_heap_limit_kib: u64,
    /// SQLite: `PRAGMA max_page_count` on every connection, 0 for SQLite's own limit. A
    /// quota for the file (and how tests make the disk "full").
    pub sqlite_max_page_count: u64,
    /// Prepared statements kept per connection (both backends).
    pub statement_cache_capacity: usize,
}

impl DbConfig {
    /// `url` with the defaults of `config/default.toml`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 8,
            min_connections: 1,
            acquire_timeout: Duration::from_secs(3),
            idle_timeout: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(3600),
            test_before_acquire: true,
            sqlite_busy_timeout: Duration::from_secs(5),
            sqlite_synchronous_full: false,
            sqlite_cache_size_kib: 8192,
            sqlite_heap_limit_kib: 16384,
            sqlite_max_page_count: 0,
            statement_cache_capacity: 256,
        }
    }
}
