//! Stored backups and backup schedules.
//!
//! `backups` records each stored document (the bytes live in an object store under
//! `object_key`); `(user_id, created_at)` serves the newest-first history and the prune
//! of scheduled backups beyond `keep`.
//!
//! `backup_schedules` has one row per user who set a schedule. `next_run_at` is indexed:
//! every instance's scheduler asks "who is due?" every minute across all users. The lease
//! (`lease_owner`, `lease_until`) is how several instances agree that exactly one of them
//! runs a given user's backup: an instance takes it with a conditional UPDATE (the row
//! must still be due and unleased or its lease expired), which both databases apply
//! atomically, so of two instances racing for the row one updates it and one updates
//! nothing. An instance that dies mid-run leaves a lease that expires, and the run is
//! picked up again.

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
enum Backups {
    Table,
    Id,
    UserId,
    CreatedAt,
    Trigger,
    SizeBytes,
    Sha256,
    ObjectKey,
}

#[derive(DeriveIden)]
enum BackupSchedules {
    Table,
    UserId,
    Interval,
    Keep,
    NextRunAt,
    LeaseOwner,
    LeaseUntil,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Backups::Table)
                .col(big_pk_auto(Backups::Id))
                .col(big_integer(Backups::UserId))
                .col(timestamp_with_time_zone(Backups::CreatedAt))
                .col(string_len(Backups::Trigger, 16))
                .col(big_integer(Backups::SizeBytes))
                .col(string_len(Backups::Sha256, 64))
                .col(string_len(Backups::ObjectKey, 255))
                .foreign_key(
                    ForeignKey::create()
                        .from(Backups::Table, Backups::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_backups_user_created")
                .table(Backups::Table)
                .col(Backups::UserId)
                .col(Backups::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BackupSchedules::Table)
                .col(big_integer(BackupSchedules::UserId).primary_key())
                .col(string_len(BackupSchedules::Interval, 16))
                .col(small_integer(BackupSchedules::Keep))
                .col(timestamp_with_time_zone_null(BackupSchedules::NextRunAt))
                .col(string_len_null(BackupSchedules::LeaseOwner, 64))
                .col(timestamp_with_time_zone_null(BackupSchedules::LeaseUntil))
                .col(timestamp_with_time_zone(BackupSchedules::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(BackupSchedules::Table, BackupSchedules::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_backup_schedules_next_run_at")
                .table(BackupSchedules::Table)
                .col(BackupSchedules::NextRunAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(BackupSchedules::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Backups::Table).to_owned())
            .await
    }
}
