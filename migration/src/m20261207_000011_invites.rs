//! Single-use sign-up invites (`auth.registration = invite`).
//!
//! Like tokens, a code is stored only as its SHA-256 `digest` (unique): a leaked table
//! hands out no usable invite. `created_by` is null for the operator's invites (made
//! from the command line) and cascades with the maker's account; `used_by` keeps the
//! row when the invited account is deleted (it still says the code was spent). Using an
//! invite is one conditional `UPDATE … WHERE used_at IS NULL AND expires_at > now` in
//! the transaction that creates the user, so two sign-ups racing for a code make one
//! account.

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
enum Invites {
    Table,
    Id,
    Digest,
    Note,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    UsedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Invites::Table)
                .col(big_pk_auto(Invites::Id))
                .col(blob_uniq(Invites::Digest))
                .col(string_len_null(Invites::Note, 200))
                .col(big_integer_null(Invites::CreatedBy))
                .col(timestamp_with_time_zone(Invites::CreatedAt))
                .col(timestamp_with_time_zone(Invites::ExpiresAt))
                .col(timestamp_with_time_zone_null(Invites::UsedAt))
                .col(big_integer_null(Invites::UsedBy))
                .foreign_key(
                    ForeignKey::create()
                        .from(Invites::Table, Invites::CreatedBy)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Invites::Table, Invites::UsedBy)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        // The maker's list, newest first.
        m.create_index(
            Index::create()
                .name("idx_invites_created_by")
                .table(Invites::Table)
                .col(Invites::CreatedBy)
                .col(Invites::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Invites::Table).to_owned())
            .await
    }
}
