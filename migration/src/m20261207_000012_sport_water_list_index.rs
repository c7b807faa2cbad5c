//! The water list's index covers the page: `(user_id, date, id, ml, created_at)` instead
//! of `(user_id, date)`.
//!
//! A page of the list (`ORDER BY date DESC, id DESC LIMIT n`, the dashboard's hottest
//! read) is then read from the index alone, in its order, without a lookup of the table
//! row per entry: on SQLite that lookup was about a fifth of the statement
//! (`docs/benchmarks.md`). `id` is in the key so the order needs no sort; the same name
//! keeps the seed plan's index. Water rows are small, so the wider key costs a write
//! little. On a large PostgreSQL table the rebuild holds the table's write lock while
//! it runs; it is one statement each way, in the migration's transaction.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_sport_water_user_date";

/// Drops the index and creates it with `columns`, in one round trip: on SQLite the two
/// must run on one connection (the migrator's pool may hand them two, and a connection
/// that has not seen the drop refuses the create: "index … already exists").
async fn replace(m: &SchemaManager<'_>, columns: &str) -> Result<(), DbErr> {
    m.get_connection()
        .execute_unprepared(&format!(
            "DROP INDEX {NAME}; CREATE INDEX {NAME} ON sport_water ({columns})"
        ))
        .await
        .map(|_| ())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        replace(m, "user_id, date, id, ml, created_at").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        replace(m, "user_id, date").await
    }
}
