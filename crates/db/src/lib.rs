//! Ayubi's storage adapter: sea-orm over SQLite (default, embedded) or PostgreSQL.
//!
//! Owns the connection pool, the migrations run at start, the sea-orm entities (private to
//! this crate) and one repository per bounded context implementing that context's port.
//! Database errors are translated to [`ayubi_kernel::StoreError`] in one place
//! ([`error`]): unique violations become `Conflict`, missing rows `NotFound`.
//!
//! Cargo features pick what is compiled: a backend each (`sqlite`, `postgres`: the sqlx
//! drivers, most of this crate's dependencies) and a repository per context (`sport`,
//! `travel`, …; `backup` brings every context it reads). The default is everything, as
//! the app links it; `examples/water-log` links only `sqlite` and `sport`.

#![warn(missing_docs)]
// With some contexts or a backend off, helpers only they use go unused: expected in such
// a build, so only the full build (the one clippy checks) warns about dead code.
#![cfg_attr(
    not(all(
        feature = "sqlite",
        feature = "postgres",
        feature = "identity",
        feature = "sport",
        feature = "travel",
        feature = "settings",
        feature = "habits",
        feature = "finance",
        feature = "journal",
        feature = "games",
        feature = "backup"
    )),
    allow(dead_code, unused_imports)
)]

#[cfg(feature = "backup")]
pub mod backup;
mod changelog;
mod config;
mod entity;
pub mod error;
#[cfg(feature = "finance")]
pub mod finance;
#[cfg(feature = "games")]
mod games;
mod group;
#[cfg(feature = "habits")]
pub mod habits;
pub mod idempotency;
#[cfg(feature = "identity")]
mod identity;
#[cfg(feature = "journal")]
mod journal;
#[cfg(all(
    feature = "sport",
    feature = "finance",
    feature = "habits",
    feature = "journal",
    feature = "travel",
    feature = "identity"
))]
pub mod plans;
mod pool;
mod representations;
#[cfg(feature = "settings")]
mod settings;
#[cfg(feature = "sport")]
pub mod sport;
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite_writer;
#[cfg(feature = "travel")]
mod travel;
mod users;

#[cfg(feature = "backup")]
pub use backup::SqlBackupStore;
pub use changelog::{SqlChangeLog, SqlTimeZones};
#[cfg(feature = "finance")]
pub use finance::SqlFinanceStore;
#[cfg(feature = "games")]
pub use games::SqlGameStatsCache;
#[cfg(feature = "habits")]
pub use habits::SqlHabitStore;
pub use idempotency::SqlIdempotencyStore;
#[cfg(feature = "identity")]
pub use identity::SqlIdentityStore;
#[cfg(feature = "journal")]
pub use journal::SqlJournalStore;
pub use pool::{ACQUIRE_EVENT_TARGET, Backend, Database, DbConfig, PoolStats};
pub use representations::Representations;
#[cfg(feature = "settings")]
pub use settings::SqlSettingsStore;
#[cfg(feature = "sport")]
pub use sport::SqlSportStore;
#[cfg(feature = "travel")]
pub use travel::SqlTravelStore;
pub use users::SqlAccounts;
