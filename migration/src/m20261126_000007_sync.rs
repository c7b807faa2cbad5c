//! Live sync's storage needs:
//! - an index on `change_log(created_at)`, for the retention purge: it deletes by age
//!   across all users, which the `(user_id, seq)` primary key cannot serve;
//! - `ayubi_meta`, a key/value table for facts about the deployment itself, starting with
//!   its id: instances sharing a database share it, and it namespaces what they put in a
//!   Redis that other deployments may share (user 1 of staging is not user 1 of prod).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AyubiMeta {
    Table,
    Key,
    Value,
}

const INDEX: &str = "idx_change_log_created_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(ChangeLog::Table)
                    .col(ChangeLog::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AyubiMeta::Table)
                    .col(string_len(AyubiMeta::Key, 64).primary_key())
                    .col(text(AyubiMeta::Value))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AyubiMeta::Table).to_owned())
            .await?;
        manager
            .drop_index(Index::drop().name(INDEX).table(ChangeLog::Table).to_owned())
            .await
    }
}
