//! Ayubi's storage adapter: sea-orm over SQLite (default, embedded) or PostgreSQL.
//!
//! Owns the connection pool, the migrations run at start, the sea-orm entities (private to
//! this crate) and one repository per bounded context implementing that context's port.
//! Database errors are translated to [`ayubi_kernel::StoreError`] in one place
//! ([`error`]): unique violations become `Conflict`, missing rows `NotFound`.

pub mod backup;
mod changelog;
mod entity;
pub mod error;
pub mod finance;
mod games;
pub mod habits;
mod idempotency;
mod identity;
mod journal;
pub mod plans;
mod pool;
mod settings;
pub mod sport;
mod sql;
mod travel;

pub use backup::SqlBackupStore;
pub use changelog::{SqlChangeLog, SqlTimeZones};
pub use finance::SqlFinanceStore;
pub use games::SqlGameStatsCache;
pub use habits::SqlHabitStore;
pub use idempotency::SqlIdempotencyStore;
pub use identity::SqlIdentityStore;
pub use journal::SqlJournalStore;
pub use pool::{ACQUIRE_EVENT_TARGET, Backend, Database, DbConfig, PoolStats};
pub use settings::SqlSettingsStore;
pub use sport::SqlSportStore;
pub use travel::SqlTravelStore;
