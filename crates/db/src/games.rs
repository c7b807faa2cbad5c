//! The game-stats cache (`game_stats_cache`) and the linked ids (on the user's row).

use crate::Database;
use crate::entity::{game_stats_cache as row, user};
use crate::error::store_err;
use ayubi_games::Platform;
use ayubi_games::model::Cached;
use ayubi_games::ports::StatsCache;
use ayubi_kernel::{StoreError, UserId};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};
use std::time::Duration;

/// How often an instance waiting for another's fetch looks at the row.
const POLL: Duration = Duration::from_millis(100);

/// [`StatsCache`] over the pool.
#[derive(Debug, Clone)]
pub struct SqlGameStatsCache {
    db: Database,
}

impl SqlGameStatsCache {
    /// Wraps the pool.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    async fn row(
        &self,
        user: UserId,
        platform: Platform,
    ) -> Result<Option<row::Model>, StoreError> {
        row::Entity::find_by_id((user.get(), platform.as_str().to_owned()))
            .one(self.db.conn())
            .await
            .map_err(store_err)
    }
}

fn to_cached(m: row::Model) -> Cached {
    Cached {
        account: m.account,
        raw: m.raw_data,
        complete: m.complete,
        updated_at: m.updated_at,
        retry_at: m.retry_at,
        last_error: m.last_error,
    }
}

#[async_trait::async_trait]
impl StatsCache for SqlGameStatsCache {
    async fn linked(&self, u: UserId, platform: Platform) -> Result<Option<String>, StoreError> {
        let column = match platform {
            Platform::Steam => user::Column::SteamId,
            Platform::Faceit => user::Column::FaceitNickname,
        };
        let linked: Option<Option<String>> = user::Entity::find_by_id(u.get())
            .select_only()
            .column(column)
            .into_tuple()
            .one(self.db.conn())
            .await
            .map_err(store_err)?;
        linked.ok_or(StoreError::NotFound)
    }

    async fn get(&self, user: UserId, platform: Platform) -> Result<Option<Cached>, StoreError> {
        Ok(self.row(user, platform).await?.map(to_cached))
    }

    async fn claim(
        &self,
        user: UserId,
        platform: Platform,
        account: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // The row must exist for the conditional UPDATE to have something to win; of two
        // first requests, one inserts and the other's insert does nothing.
        row::Entity::insert(row::ActiveModel {
            user_id: Set(user.get()),
            platform: Set(platform.as_str().to_owned()),
            account: Set(account.to_owned()),
            raw_data: Set(None),
            complete: Set(false),
            updated_at: Set(None),
            retry_at: Set(None),
            last_error: Set(None),
            lease_until: Set(None),
        })
        .on_conflict_do_nothing_on([row::Column::UserId, row::Column::Platform])
        .exec(self.db.conn())
        .await
        .map_err(store_err)?;
        // Both databases apply one UPDATE atomically: exactly one racer sees a row change.
        let taken = row::Entity::update_many()
            .col_expr(row::Column::LeaseUntil, Expr::value(until))
            .filter(row::Column::UserId.eq(user.get()))
            .filter(row::Column::Platform.eq(platform.as_str()))
            .filter(
                Condition::any()
                    .add(row::Column::LeaseUntil.is_null())
                    .add(row::Column::LeaseUntil.lt(now)),
            )
            .exec(self.db.conn())
            .await
            .map_err(store_err)?
            .rows_affected;
        Ok(taken == 1)
    }

    async fn wait(
        &self,
        user: UserId,
        platform: Platform,
        patience: Duration,
    ) -> Result<Option<Cached>, StoreError> {
        // Polling, because the fetch may be on another instance; the answer lands in the
        // row, so the row is what to watch. Bounded by real time: a holder that died
        // leaves a lease that only expires.
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let m = self.row(user, platform).await?;
            if m.as_ref().is_none_or(|m| m.lease_until.is_none())
                || tokio::time::Instant::now() >= deadline
            {
                return Ok(m.map(to_cached));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn save(&self, user: UserId, platform: Platform, c: &Cached) -> Result<(), StoreError> {
        row::Entity::insert(row::ActiveModel {
            user_id: Set(user.get()),
            platform: Set(platform.as_str().to_owned()),
            account: Set(c.account.clone()),
            raw_data: Set(c.raw.clone()),
            complete: Set(c.complete),
            updated_at: Set(c.updated_at),
            retry_at: Set(c.retry_at),
            last_error: Set(c.last_error.clone()),
            lease_until: Set(None),
        })
        .on_conflict(
            OnConflict::columns([row::Column::UserId, row::Column::Platform])
                .update_columns([
                    row::Column::Account,
                    row::Column::RawData,
                    row::Column::Complete,
                    row::Column::UpdatedAt,
                    row::Column::RetryAt,
                    row::Column::LastError,
                    row::Column::LeaseUntil,
                ])
                .to_owned(),
        )
        .exec(self.db.conn())
        .await
        .map_err(store_err)?;
        Ok(())
    }
}
