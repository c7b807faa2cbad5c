//! The change log, the user's time zone, and the sport tables.
//!
//! `users.last_seq` allocates the per-user change-log sequence: the writer runs
//! `UPDATE users SET last_seq = last_seq + 1 … RETURNING last_seq` inside its transaction,
//! so on PostgreSQL the row lock serialises one user's writers (others are not blocked) and
//! on SQLite the single writer does. The log's primary key `(user_id, seq)` makes a
//! duplicate impossible even if that discipline were broken.
//!
//! Sport quantities are integers; macros are stored in decigrams (`*_dg`, tenths of a
//! gram) so per-day sums are exact. The three logs are read by `(user_id, date)` — day
//! lists, ranges and stats — hence one composite index each.
//!
//! `sport_goals.updated_at` is kept by a trigger on both databases: a write that does not
//! set it gets the database's clock.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Timezone,
    LastSeq,
}

#[derive(DeriveIden)]
enum ChangeLog {
    Table,
    UserId,
    Seq,
    Event,
    Entity,
    EntityId,
    Data,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SportWater {
    Table,
    Id,
    UserId,
    Date,
    Ml,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SportFood {
    Table,
    Id,
    UserId,
    Date,
    Name,
    Kcal,
    ProteinDg,
    CarbsDg,
    FatDg,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SportWorkout {
    Table,
    Id,
    UserId,
    Date,
    Name,
    DurationMin,
    KcalBurned,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SportGoals {
    Table,
    UserId,
    WaterMlPerDay,
    KcalPerDay,
    CreatedAt,
    UpdatedAt,
}

fn owned_by_user<T: IntoIden>(table: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, Alias::new("user_id"))
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn user_date_index<T: IntoIden>(name: &str, table: T) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(table)
        .col(Alias::new("user_id"))
        .col(Alias::new("date"))
        .to_owned()
}

const PG_UPDATED_AT: &str = r"
CREATE OR REPLACE FUNCTION ayubi_set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER trg_sport_goals_updated_at BEFORE UPDATE ON sport_goals
    FOR EACH ROW EXECUTE FUNCTION ayubi_set_updated_at();
";

// The text format sqlx reads back as a UTC timestamp.
const SQLITE_UPDATED_AT: &str = r"
CREATE TRIGGER trg_sport_goals_updated_at AFTER UPDATE ON sport_goals
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE sport_goals SET updated_at = strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')
    WHERE user_id = NEW.user_id;
END;
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(string_len(Users::Timezone, 64).default("UTC"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(big_integer(Users::LastSeq).default(0))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ChangeLog::Table)
                .col(big_integer(ChangeLog::UserId))
                .col(big_integer(ChangeLog::Seq))
                .col(string_len(ChangeLog::Event, 64))
                .col(string_len(ChangeLog::Entity, 64))
                // JSON text of the id: a number, or a key such as a country code.
                .col(string_len(ChangeLog::EntityId, 128))
                .col(text(ChangeLog::Data))
                .col(timestamp_with_time_zone(ChangeLog::CreatedAt))
                .primary_key(Index::create().col(ChangeLog::UserId).col(ChangeLog::Seq))
                .foreign_key(&mut owned_by_user(ChangeLog::Table))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SportWater::Table)
                .col(big_pk_auto(SportWater::Id))
                .col(big_integer(SportWater::UserId))
                .col(date(SportWater::Date))
                .col(integer(SportWater::Ml))
                .col(timestamp_with_time_zone(SportWater::CreatedAt))
                .foreign_key(&mut owned_by_user(SportWater::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(user_date_index(
            "idx_sport_water_user_date",
            SportWater::Table,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(SportFood::Table)
                .col(big_pk_auto(SportFood::Id))
                .col(big_integer(SportFood::UserId))
                .col(date(SportFood::Date))
                .col(string_len(SportFood::Name, 255))
                .col(integer(SportFood::Kcal))
                .col(integer_null(SportFood::ProteinDg))
                .col(integer_null(SportFood::CarbsDg))
                .col(integer_null(SportFood::FatDg))
                .col(timestamp_with_time_zone(SportFood::CreatedAt))
                .foreign_key(&mut owned_by_user(SportFood::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(user_date_index(
            "idx_sport_food_user_date",
            SportFood::Table,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(SportWorkout::Table)
                .col(big_pk_auto(SportWorkout::Id))
                .col(big_integer(SportWorkout::UserId))
                .col(date(SportWorkout::Date))
                .col(string_len(SportWorkout::Name, 255))
                .col(integer(SportWorkout::DurationMin))
                .col(integer(SportWorkout::KcalBurned))
                .col(timestamp_with_time_zone(SportWorkout::CreatedAt))
                .foreign_key(&mut owned_by_user(SportWorkout::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(user_date_index(
            "idx_sport_workout_user_date",
            SportWorkout::Table,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(SportGoals::Table)
                .col(big_integer(SportGoals::UserId).primary_key())
                .col(integer(SportGoals::WaterMlPerDay))
                .col(integer(SportGoals::KcalPerDay))
                .col(timestamp_with_time_zone(SportGoals::CreatedAt))
                .col(timestamp_with_time_zone(SportGoals::UpdatedAt))
                .foreign_key(&mut owned_by_user(SportGoals::Table))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        match m.get_database_backend() {
            DatabaseBackend::Postgres => db.execute_unprepared(PG_UPDATED_AT).await?,
            _ => db.execute_unprepared(SQLITE_UPDATED_AT).await?,
        };
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SportGoals::Table.into_iden(),
            SportWorkout::Table.into_iden(),
            SportFood::Table.into_iden(),
            SportWater::Table.into_iden(),
            ChangeLog::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        let db = m.get_connection();
        if m.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared("DROP FUNCTION IF EXISTS ayubi_set_updated_at()")
                .await?;
        }
        db.execute_unprepared("ALTER TABLE users DROP COLUMN last_seq")
            .await?;
        db.execute_unprepared("ALTER TABLE users DROP COLUMN timezone")
            .await?;
        Ok(())
    }
}
