//! Habits, their completions and skips.
//!
//! `habit_completions` and `habit_skips` hold one row per habit and day
//! (`UNIQUE(habit_id, …_date)`: completing a day twice cannot make two rows) and carry
//! `user_id` too, so every read and delete is scoped by the owner and a deleted account
//! cascades without a join. The plan's indexes: `habits(user_id)` and
//! `habit_completions(completion_date)`. `schedule` is JSON text
//! (`{"kind": "weekdays", "days": ["mon"]}`); `updated_at` is trigger-kept.

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
enum Habits {
    Table,
    Id,
    UserId,
    Name,
    Description,
    Schedule,
    Archived,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum HabitCompletions {
    Table,
    Id,
    HabitId,
    UserId,
    CompletionDate,
    CreatedAt,
}

#[derive(DeriveIden)]
enum HabitSkips {
    Table,
    Id,
    HabitId,
    UserId,
    SkipDate,
    CreatedAt,
}

fn cascade_from<T: IntoIden, U: IntoIden, C: IntoIden>(
    table: T,
    col: &str,
    to: U,
    to_col: C,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, Alias::new(col))
        .to(to, to_col)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

const PG_TRIGGER: &str = "CREATE TRIGGER trg_habits_updated_at BEFORE UPDATE ON habits \
     FOR EACH ROW EXECUTE FUNCTION ayubi_set_updated_at()";

const SQLITE_TRIGGER: &str = r"
CREATE TRIGGER trg_habits_updated_at AFTER UPDATE ON habits
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE habits SET updated_at = strftime('%Y-%m-%d %H:%M:%f+00:00', 'now') WHERE id = NEW.id;
END;
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Habits::Table)
                .col(big_pk_auto(Habits::Id))
                .col(big_integer(Habits::UserId))
                .col(string_len(Habits::Name, 100))
                .col(text_null(Habits::Description))
                .col(string_len(Habits::Schedule, 255))
                .col(boolean(Habits::Archived).default(false))
                .col(timestamp_with_time_zone(Habits::CreatedAt))
                .col(timestamp_with_time_zone(Habits::UpdatedAt))
                .foreign_key(&mut cascade_from(
                    Habits::Table,
                    "user_id",
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_habits_user_id")
                .table(Habits::Table)
                .col(Habits::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(HabitCompletions::Table)
                .col(big_pk_auto(HabitCompletions::Id))
                .col(big_integer(HabitCompletions::HabitId))
                .col(big_integer(HabitCompletions::UserId))
                .col(date(HabitCompletions::CompletionDate))
                .col(timestamp_with_time_zone(HabitCompletions::CreatedAt))
                .foreign_key(&mut cascade_from(
                    HabitCompletions::Table,
                    "habit_id",
                    Habits::Table,
                    Habits::Id,
                ))
                .foreign_key(&mut cascade_from(
                    HabitCompletions::Table,
                    "user_id",
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_habit_completions_habit_date")
                .table(HabitCompletions::Table)
                .col(HabitCompletions::HabitId)
                .col(HabitCompletions::CompletionDate)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_habit_completions_date")
                .table(HabitCompletions::Table)
                .col(HabitCompletions::CompletionDate)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_habit_completions_user")
                .table(HabitCompletions::Table)
                .col(HabitCompletions::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(HabitSkips::Table)
                .col(big_pk_auto(HabitSkips::Id))
                .col(big_integer(HabitSkips::HabitId))
                .col(big_integer(HabitSkips::UserId))
                .col(date(HabitSkips::SkipDate))
                .col(timestamp_with_time_zone(HabitSkips::CreatedAt))
                .foreign_key(&mut cascade_from(
                    HabitSkips::Table,
                    "habit_id",
                    Habits::Table,
                    Habits::Id,
                ))
                .foreign_key(&mut cascade_from(
                    HabitSkips::Table,
                    "user_id",
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_habit_skips_habit_date")
                .table(HabitSkips::Table)
                .col(HabitSkips::HabitId)
                .col(HabitSkips::SkipDate)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_habit_skips_user")
                .table(HabitSkips::Table)
                .col(HabitSkips::UserId)
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        match m.get_database_backend() {
            DatabaseBackend::Postgres => db.execute_unprepared(PG_TRIGGER).await?,
            _ => db.execute_unprepared(SQLITE_TRIGGER).await?,
        };
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            HabitSkips::Table.into_iden(),
            HabitCompletions::Table.into_iden(),
            Habits::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
