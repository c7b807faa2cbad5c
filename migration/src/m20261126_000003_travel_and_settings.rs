//! Travel lists, user settings, and the profile's game accounts.
//!
//! Each travel list holds a country at most once per user: `UNIQUE(user_id, country_iso3)`
//! enforces it and, with `user_id` leading, is also the index every per-user read uses.
//! Codes are stored upper-case, as the catalogue spells them.
//!
//! `user_settings` is a key/value table (`UNIQUE(user_id, setting_key)`), values stored as
//! JSON text; `updated_at` is kept by a trigger (the same function as `sport_goals` on
//! PostgreSQL). The time zone is not a row here: it lives on `users` with the rest of the
//! profile, so "today" has one source.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    SteamId,
    FaceitNickname,
}

#[derive(DeriveIden)]
enum TravelWishlist {
    Table,
    Id,
    UserId,
    CountryIso3,
    AddedAt,
}

#[derive(DeriveIden)]
enum TravelVisited {
    Table,
    Id,
    UserId,
    CountryIso3,
    VisitDate,
    Notes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserSettings {
    Table,
    Id,
    UserId,
    SettingKey,
    SettingValue,
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

fn unique_per_user<T: IntoIden>(name: &str, table: T, col: &str) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(table)
        .col(Alias::new("user_id"))
        .col(Alias::new(col))
        .unique()
        .to_owned()
}

const PG_TRIGGER: &str = "CREATE TRIGGER trg_user_settings_updated_at BEFORE UPDATE ON user_settings \
     FOR EACH ROW EXECUTE FUNCTION ayubi_set_updated_at()";

const SQLITE_TRIGGER: &str = r"
CREATE TRIGGER trg_user_settings_updated_at AFTER UPDATE ON user_settings
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE user_settings SET updated_at = strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')
    WHERE id = NEW.id;
END;
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(string_len_null(Users::SteamId, 32))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(string_len_null(Users::FaceitNickname, 64))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(TravelWishlist::Table)
                .col(big_pk_auto(TravelWishlist::Id))
                .col(big_integer(TravelWishlist::UserId))
                .col(string_len(TravelWishlist::CountryIso3, 3))
                .col(timestamp_with_time_zone(TravelWishlist::AddedAt))
                .foreign_key(&mut owned_by_user(TravelWishlist::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_per_user(
            "idx_travel_wishlist_user_country",
            TravelWishlist::Table,
            "country_iso3",
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(TravelVisited::Table)
                .col(big_pk_auto(TravelVisited::Id))
                .col(big_integer(TravelVisited::UserId))
                .col(string_len(TravelVisited::CountryIso3, 3))
                .col(date_null(TravelVisited::VisitDate))
                .col(text_null(TravelVisited::Notes))
                .col(timestamp_with_time_zone(TravelVisited::CreatedAt))
                .foreign_key(&mut owned_by_user(TravelVisited::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_per_user(
            "idx_travel_visited_user_country",
            TravelVisited::Table,
            "country_iso3",
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(UserSettings::Table)
                .col(big_pk_auto(UserSettings::Id))
                .col(big_integer(UserSettings::UserId))
                .col(string_len(UserSettings::SettingKey, 100))
                .col(text(UserSettings::SettingValue))
                .col(timestamp_with_time_zone(UserSettings::CreatedAt))
                .col(timestamp_with_time_zone(UserSettings::UpdatedAt))
                .foreign_key(&mut owned_by_user(UserSettings::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_per_user(
            "idx_user_settings_user_key",
            UserSettings::Table,
            "setting_key",
        ))
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
            UserSettings::Table.into_iden(),
            TravelVisited::Table.into_iden(),
            TravelWishlist::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        let db = m.get_connection();
        db.execute_unprepared("ALTER TABLE users DROP COLUMN faceit_nickname")
            .await?;
        db.execute_unprepared("ALTER TABLE users DROP COLUMN steam_id")
            .await?;
        Ok(())
    }
}
