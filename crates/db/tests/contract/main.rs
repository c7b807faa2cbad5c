//! Contract suites of the storage adapter: one story per port, told against the adapter
//! directly — on SQLite always, and on PostgreSQL when `TEST_DATABASE_URL` is set (CI's
//! second pass). What every adapter of a port must do (ordering, limits, ownership, the
//! change-log entry in the write's transaction, idempotent replay) is asserted here once
//! for both backends; the HTTP tests in `crates/app/tests` cover the rest of the way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod backup;
mod changelog;
mod finance;
mod games;
mod habits;
mod harness;
mod idempotency;
mod identity;
mod journal;
mod settings;
mod sport;
mod travel;
