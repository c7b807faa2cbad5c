//! Ayubi's schema, as sea-orm migrations that run unchanged on SQLite and PostgreSQL.
//!
//! Self-contained: migrations never import the entities of `ayubi-db`, so an old migration
//! keeps meaning what it meant when it shipped. Run them with `ayubi migrate up|down|status`
//! or let the server apply them at start (`database.migrate_on_start`).
//!
//! Every user-owned table references `users(id) ON DELETE CASCADE`, declared inside
//! `CREATE TABLE` because SQLite cannot add a foreign key afterwards; deleting a user is
//! then one statement that can never leave orphans behind.

#![warn(missing_docs)]

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_identity;
mod m20261126_000002_sport_and_change_log;
mod m20261126_000003_travel_and_settings;
mod m20261126_000004_habits;
mod m20261126_000005_finance;
mod m20261126_000006_journal;
mod m20261126_000007_sync;
mod m20261126_000008_backup;
mod m20261129_000009_game_stats;
mod m20261129_000010_journal_fts_update;
mod m20261207_000011_invites;
mod m20261207_000012_sport_water_list_index;

/// The ordered list of migrations.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_identity::Migration),
            Box::new(m20261126_000002_sport_and_change_log::Migration),
            Box::new(m20261126_000003_travel_and_settings::Migration),
            Box::new(m20261126_000004_habits::Migration),
            Box::new(m20261126_000005_finance::Migration),
            Box::new(m20261126_000006_journal::Migration),
            Box::new(m20261126_000007_sync::Migration),
            Box::new(m20261126_000008_backup::Migration),
            Box::new(m20261129_000009_game_stats::Migration),
            Box::new(m20261129_000010_journal_fts_update::Migration),
            Box::new(m20261207_000011_invites::Migration),
            Box::new(m20261207_000012_sport_water_list_index::Migration),
        ]
    }
}
