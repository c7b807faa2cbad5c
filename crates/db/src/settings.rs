//! [`SettingsStore`] over SQL: `user_settings` rows and the profile columns of `users`.

use crate::changelog::write_txn;
use crate::entity::{user, user_setting as row};
use crate::error::store_err;
use crate::pool::Database;
use ayubi_kernel::{StoreError, TimeZone, UserId, Write};
use ayubi_settings::ports::SettingsStore;
use ayubi_settings::{Profile, ProfilePatch, SettingChange, Settings};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::json;

/// Settings and profile in SQL.
#[derive(Debug, Clone)]
pub struct SqlSettingsStore {
    db: Database,
}

impl SqlSettingsStore {
    /// Wraps the pool.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

async fn load<C: ConnectionTrait>(c: &C, u: UserId) -> Result<Settings, StoreError> {
    let account = user::Entity::find_by_id(u.get())
        .one(c)
        .await
        .map_err(store_err)?
        .ok_or(StoreError::NotFound)?;
    let rows = row::Entity::find()
        .filter(row::Column::UserId.eq(u.get()))
        .all(c)
        .await
        .map_err(store_err)?;
    Ok(Settings {
        timezone: TimeZone::parse(&account.timezone).unwrap_or_default(),
        stored: rows
            .into_iter()
            .map(|r| {
                let value =
                    serde_json::from_str(&r.setting_value).unwrap_or(serde_json::Value::Null);
                (r.setting_key, value)
            })
            .collect(),
    })
}

async fn load_profile<C: ConnectionTrait>(c: &C, u: UserId) -> Result<Profile, StoreError> {
    let m = user::Entity::find_by_id(u.get())
        .one(c)
        .await
        .map_err(store_err)?
        .ok_or(StoreError::NotFound)?;
    Ok(Profile {
        email: m.email,
        display_name: m.display_name,
        timezone: TimeZone::parse(&m.timezone).unwrap_or_default(),
        steam_id: m.steam_id,
        faceit_nickname: m.faceit_nickname,
    })
}

#[async_trait::async_trait]
impl SettingsStore for SqlSettingsStore {
    async fn settings(&self, u: UserId) -> Result<Settings, StoreError> {
        load(self.db.conn(), u).await
    }

    async fn apply(
        &self,
        u: UserId,
        changes: &[SettingChange],
        max_keys: usize,
        write: Write,
    ) -> Result<Settings, StoreError> {
        let now = write.now;
        write_txn(&self.db, u, write, async |txn| {
            for change in changes {
                match change {
                    SettingChange::Timezone(tz) => {
                        let name = tz.unwrap_or_default().name();
                        user::Entity::update_many()
                            .col_expr(user::Column::Timezone, Expr::value(name))
                            .filter(user::Column::Id.eq(u.get()))
                            .exec(txn)
                            .await
                            .map_err(store_err)?;
                    }
                    SettingChange::Set { key, value } => {
                        row::Entity::insert(row::ActiveModel {
                            user_id: Set(u.get()),
                            setting_key: Set(key.clone()),
                            setting_value: Set(value.to_string()),
                            created_at: Set(now),
                            updated_at: Set(now),
                            ..Default::default()
                        })
                        .on_conflict(
                            OnConflict::columns([row::Column::UserId, row::Column::SettingKey])
                                .update_column(row::Column::SettingValue)
                                .to_owned(),
                        )
                        .exec_without_returning(txn)
                        .await
                        .map_err(store_err)?;
                    }
                    SettingChange::Remove { key } => {
                        row::Entity::delete_many()
                            .filter(row::Column::UserId.eq(u.get()))
                            .filter(row::Column::SettingKey.eq(key.as_str()))
                            .exec(txn)
                            .await
                            .map_err(store_err)?;
                    }
                }
            }
            let stored = row::Entity::find()
                .filter(row::Column::UserId.eq(u.get()))
                .count(txn)
                .await
                .map_err(store_err)?;
            if usize::try_from(stored).unwrap_or(usize::MAX) > max_keys {
                return Err(StoreError::Conflict("too many settings".into()));
            }
            Ok((load(txn, u).await?, json!(u.get())))
        })
        .await
    }

    async fn profile(&self, u: UserId) -> Result<Profile, StoreError> {
        load_profile(self.db.conn(), u).await
    }

    async fn update_profile(
        &self,
        u: UserId,
        patch: &ProfilePatch,
        write: Write,
    ) -> Result<Profile, StoreError> {
        let now = write.now;
        write_txn(&self.db, u, write, async |txn| {
            let mut update = user::Entity::update_many().filter(user::Column::Id.eq(u.get()));
            if let Some(v) = patch.display_name() {
                update =
                    update.col_expr(user::Column::DisplayName, Expr::value(v.map(str::to_owned)));
            }
            if let Some(tz) = patch.timezone() {
                update = update.col_expr(user::Column::Timezone, Expr::value(tz.name()));
            }
            if let Some(v) = patch.steam_id() {
                update = update.col_expr(user::Column::SteamId, Expr::value(v.map(str::to_owned)));
            }
            if let Some(v) = patch.faceit_nickname() {
                update = update.col_expr(
                    user::Column::FaceitNickname,
                    Expr::value(v.map(str::to_owned)),
                );
            }
            update = update.col_expr(user::Column::UpdatedAt, Expr::value(now));
            update.exec(txn).await.map_err(store_err)?;
            Ok((load_profile(txn, u).await?, json!(u.get())))
        })
        .await
    }
}
