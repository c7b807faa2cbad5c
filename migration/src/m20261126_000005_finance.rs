//! Finance categories and entries.
//!
//! Amounts are `amount_minor BIGINT` (cents): exact, and summed exactly. A category is
//! unique per user, kind and name. `finance_entries.category_id` references a category
//! with `ON DELETE RESTRICT`: a category in use cannot vanish under its entries (the API
//! answers 409 first; the constraint is the backstop). Indexes: `(user_id, date)` for
//! lists and monthly summaries, `(category_id)` for the in-use check. `updated_at` is
//! trigger-kept on both tables.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum FinanceCategories {
    Table,
    Id,
    UserId,
    Name,
    Kind,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FinanceEntries {
    Table,
    Id,
    UserId,
    Kind,
    AmountMinor,
    Currency,
    CategoryId,
    Date,
    Note,
    CreatedAt,
    UpdatedAt,
}

fn triggers(backend: DatabaseBackend) -> Vec<String> {
    ["finance_categories", "finance_entries"]
        .iter()
        .map(|t| match backend {
            DatabaseBackend::Postgres => format!(
                "CREATE TRIGGER trg_{t}_updated_at BEFORE UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION ayubi_set_updated_at()"
            ),
            _ => format!(
                "CREATE TRIGGER trg_{t}_updated_at AFTER UPDATE ON {t} FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at \
                 BEGIN UPDATE {t} SET updated_at = strftime('%Y-%m-%d %H:%M:%f+00:00', 'now') WHERE id = NEW.id; END;"
            ),
        })
        .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(FinanceCategories::Table)
                .col(big_pk_auto(FinanceCategories::Id))
                .col(big_integer(FinanceCategories::UserId))
                .col(string_len(FinanceCategories::Name, 100))
                .col(string_len(FinanceCategories::Kind, 16))
                .col(timestamp_with_time_zone(FinanceCategories::CreatedAt))
                .col(timestamp_with_time_zone(FinanceCategories::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(FinanceCategories::Table, FinanceCategories::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_finance_categories_user_kind_name")
                .table(FinanceCategories::Table)
                .col(FinanceCategories::UserId)
                .col(FinanceCategories::Kind)
                .col(FinanceCategories::Name)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(FinanceEntries::Table)
                .col(big_pk_auto(FinanceEntries::Id))
                .col(big_integer(FinanceEntries::UserId))
                .col(string_len(FinanceEntries::Kind, 16))
                .col(big_integer(FinanceEntries::AmountMinor))
                .col(string_len(FinanceEntries::Currency, 3))
                .col(big_integer_null(FinanceEntries::CategoryId))
                .col(date(FinanceEntries::Date))
                .col(text_null(FinanceEntries::Note))
                .col(timestamp_with_time_zone(FinanceEntries::CreatedAt))
                .col(timestamp_with_time_zone(FinanceEntries::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(FinanceEntries::Table, FinanceEntries::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(FinanceEntries::Table, FinanceEntries::CategoryId)
                        .to(FinanceCategories::Table, FinanceCategories::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_finance_entries_user_date")
                .table(FinanceEntries::Table)
                .col(FinanceEntries::UserId)
                .col(FinanceEntries::Date)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_finance_entries_category")
                .table(FinanceEntries::Table)
                .col(FinanceEntries::CategoryId)
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        for sql in triggers(m.get_database_backend()) {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(FinanceEntries::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(FinanceCategories::Table).to_owned())
            .await
    }
}
