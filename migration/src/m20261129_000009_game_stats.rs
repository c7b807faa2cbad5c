//! The game-stats cache.
//!
//! One row per user and platform (the primary key), holding the platform's last kept
//! answer as received (`raw_data`, JSON) and when it was fetched (`updated_at`). `account`
//! is the linked id the copy belongs to, so a copy outlives no re-linking. `complete`
//! tells a full answer from an empty or private one (which never replaces a full one).
//! `retry_at` and `last_error` are the back-off after upstream trouble; `lease_until` is
//! the fetch lease that makes instances agree on one upstream call at a time: taken by a
//! conditional UPDATE (no lease, or an expired one), released by the write of the answer.
//! Not user data: no change log, not in backups, gone with the user (cascade).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum GameStatsCache {
    Table,
    UserId,
    Platform,
    Account,
    RawData,
    Complete,
    UpdatedAt,
    RetryAt,
    LastError,
    LeaseUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(GameStatsCache::Table)
                .col(big_integer(GameStatsCache::UserId))
                .col(string_len(GameStatsCache::Platform, 16))
                .col(string_len(GameStatsCache::Account, 64))
                .col(json_null(GameStatsCache::RawData))
                .col(boolean(GameStatsCache::Complete).default(false))
                .col(timestamp_with_time_zone_null(GameStatsCache::UpdatedAt))
                .col(timestamp_with_time_zone_null(GameStatsCache::RetryAt))
                .col(string_len_null(GameStatsCache::LastError, 32))
                .col(timestamp_with_time_zone_null(GameStatsCache::LeaseUntil))
                .primary_key(
                    Index::create()
                        .col(GameStatsCache::UserId)
                        .col(GameStatsCache::Platform),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(GameStatsCache::Table, GameStatsCache::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(GameStatsCache::Table).to_owned())
            .await
    }
}
