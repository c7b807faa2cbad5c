//! An index on `change_log(created_at)`, for the retention purge: it deletes by age
//! across all users, which the `(user_id, seq)` primary key cannot serve.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    CreatedAt,
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
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(ChangeLog::Table).to_owned())
            .await
    }
}
