//! [`TravelStore`] over SQL.

use crate::changelog::{append, delete_txn, next_seq, write_txn, write_txn_with};
use crate::entity::{travel_visited as visited, travel_wishlist as wish};
use crate::error::store_err;
use crate::pool::Database;
use crate::sql::stmt;
use ayubi_kernel::{Event, StoreError, UserId, Write};
use ayubi_travel::catalog;
use ayubi_travel::ports::TravelStore;
use ayubi_travel::{Visit, WishlistItem};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{NullOrdering, Order};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

/// The travel lists in SQL.
#[derive(Debug, Clone)]
pub struct SqlTravelStore {
    db: Database,
}

impl SqlTravelStore {
    /// Wraps the pool.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

// A stored code the catalogue no longer knows (a future dataset dropping a country) is
// left out of lists rather than failing them.
fn to_wish(m: wish::Model) -> Option<WishlistItem> {
    Some(WishlistItem {
        country: catalog::country(&m.country_iso3)?,
        added_at: m.added_at,
    })
}

fn to_visit(m: visited::Model) -> Option<Visit> {
    Some(Visit {
        country: catalog::country(&m.country_iso3)?,
        visit_date: m.visit_date,
        notes: m.notes,
        created_at: m.created_at,
    })
}

async fn listed(txn: &DatabaseTransaction, user: UserId, iso3: &str) -> Result<bool, StoreError> {
    let n = wish::Entity::find()
        .filter(wish::Column::UserId.eq(user.get()))
        .filter(wish::Column::CountryIso3.eq(iso3))
        .count(txn)
        .await
        .map_err(store_err)?;
    Ok(n > 0)
}

async fn visited_already(
    txn: &DatabaseTransaction,
    user: UserId,
    iso3: &str,
) -> Result<bool, StoreError> {
    let n = visited::Entity::find()
        .filter(visited::Column::UserId.eq(user.get()))
        .filter(visited::Column::CountryIso3.eq(iso3))
        .count(txn)
        .await
        .map_err(store_err)?;
    Ok(n > 0)
}

#[async_trait::async_trait]
impl TravelStore for SqlTravelStore {
    async fn add_wish(
        &self,
        user: UserId,
        item: &WishlistItem,
        write: Write,
    ) -> Result<WishlistItem, StoreError> {
        let iso3 = item.country.iso3.as_str();
        // The checks run after `write_txn` has taken the user's seq lock, so no concurrent
        // write of this user can slip between check and insert.
        write_txn(&self.db, user, write, async |txn| {
            if visited_already(txn, user, iso3).await? {
                return Err(StoreError::Conflict("already visited".into()));
            }
            if listed(txn, user, iso3).await? {
                return Err(StoreError::Conflict("already on the wishlist".into()));
            }
            wish::Entity::insert(wish::ActiveModel {
                user_id: Set(user.get()),
                country_iso3: Set(iso3.to_owned()),
                added_at: Set(item.added_at),
                ..Default::default()
            })
            .exec_without_returning(txn)
            .await
            .map_err(store_err)?;
            Ok((item.clone(), json!(iso3)))
        })
        .await
    }

    async fn remove_wish(
        &self,
        user: UserId,
        iso3: &str,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        delete_txn(&self.db, user, event, json!(iso3), now, async |txn| {
            let res = wish::Entity::delete_many()
                .filter(wish::Column::UserId.eq(user.get()))
                .filter(wish::Column::CountryIso3.eq(iso3))
                .exec(txn)
                .await?;
            Ok(res.rows_affected)
        })
        .await
    }

    async fn add_visit(
        &self,
        user: UserId,
        visit: &Visit,
        write: Write,
        wishlist_removed: Event,
    ) -> Result<Visit, StoreError> {
        let iso3 = visit.country.iso3.as_str();
        let now = write.now;
        write_txn_with(&self.db, user, write, async |txn, extra| {
            if visited_already(txn, user, iso3).await? {
                return Err(StoreError::Conflict("already visited".into()));
            }
            visited::Entity::insert(visited::ActiveModel {
                user_id: Set(user.get()),
                country_iso3: Set(iso3.to_owned()),
                visit_date: Set(visit.visit_date),
                notes: Set(visit.notes.clone()),
                created_at: Set(visit.created_at),
                ..Default::default()
            })
            .exec_without_returning(txn)
            .await
            .map_err(store_err)?;
            // Leaving the wishlist is part of the same change, and is logged as its own
            // event so clients drop the entry.
            let removed = wish::Entity::delete_many()
                .filter(wish::Column::UserId.eq(user.get()))
                .filter(wish::Column::CountryIso3.eq(iso3))
                .exec(txn)
                .await
                .map_err(store_err)?;
            if removed.rows_affected > 0 {
                let seq = next_seq(txn, user).await.map_err(store_err)?;
                let change = append(
                    txn,
                    user,
                    seq,
                    wishlist_removed,
                    &json!(iso3),
                    &json!({ "id": iso3 }),
                    now,
                )
                .await
                .map_err(store_err)?;
                extra.push(change);
            }
            Ok((visit.clone(), json!(iso3)))
        })
        .await
    }

    async fn remove_visit(
        &self,
        user: UserId,
        iso3: &str,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        delete_txn(&self.db, user, event, json!(iso3), now, async |txn| {
            let res = visited::Entity::delete_many()
                .filter(visited::Column::UserId.eq(user.get()))
                .filter(visited::Column::CountryIso3.eq(iso3))
                .exec(txn)
                .await?;
            Ok(res.rows_affected)
        })
        .await
    }

    async fn wishlist(&self, user: UserId, limit: u32) -> Result<Vec<WishlistItem>, StoreError> {
        let rows = wish::Entity::find()
            .filter(wish::Column::UserId.eq(user.get()))
            .order_by_desc(wish::Column::AddedAt)
            .order_by_desc(wish::Column::Id)
            .limit(u64::from(limit))
            .all(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(rows.into_iter().filter_map(to_wish).collect())
    }

    async fn visits(&self, user: UserId, limit: u32) -> Result<Vec<Visit>, StoreError> {
        let rows = visited::Entity::find()
            .filter(visited::Column::UserId.eq(user.get()))
            .order_by_with_nulls(visited::Column::VisitDate, Order::Desc, NullOrdering::Last)
            .order_by_desc(visited::Column::Id)
            .limit(u64::from(limit))
            .all(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(rows.into_iter().filter_map(to_visit).collect())
    }

    async fn codes(&self, user: UserId) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let c = self.db.conn();
        let st = codes_statement(c.get_database_backend(), user);
        let mut visited_codes = Vec::new();
        let mut wish_codes = Vec::new();
        for r in c.query_all_raw(st).await.map_err(store_err)? {
            let kind: String = r.try_get("", "k").map_err(store_err)?;
            let code: String = r.try_get("", "country_iso3").map_err(store_err)?;
            if catalog::country(&code).is_none() {
                continue;
            }
            if kind == "v" {
                visited_codes.push(code)
            } else {
                wish_codes.push(code)
            }
        }
        Ok((visited_codes, wish_codes))
    }
}

/// The stats' read: the user's visited and wished-for country codes.
pub(crate) fn codes_statement(
    backend: sea_orm::DatabaseBackend,
    user: UserId,
) -> sea_orm::Statement {
    stmt(
        backend,
        "SELECT 'v' AS k, country_iso3 FROM travel_visited WHERE user_id = ? \
         UNION ALL SELECT 'w', country_iso3 FROM travel_wishlist WHERE user_id = ?",
        vec![user.get().into(), user.get().into()],
    )
}
