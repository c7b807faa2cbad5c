//! [`FinanceStore`] over SQL.

use crate::changelog::{remove_owned, write_txn};
use crate::entity::{finance_category as cat, finance_entry as entry, user_setting};
use crate::error::store_err;
use crate::pool::Database;
use crate::sql::stmt;
use ayubi_finance::ports::FinanceStore;
use ayubi_finance::*;
use ayubi_kernel::{DateRange, Event, StoreError, UserId, Write};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
    Statement,
};
use serde_json::json;

/// Finance in SQL.
#[derive(Debug, Clone)]
pub struct SqlFinanceStore {
    db: Database,
}

impl SqlFinanceStore {
    /// Wraps the pool.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn kind_of(s: &str) -> Kind {
    if s == "income" {
        Kind::Income
    } else {
        Kind::Expense
    }
}

fn to_category(m: cat::Model) -> Category {
    Category {
        id: m.id,
        name: m.name,
        kind: kind_of(&m.kind),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn to_entry(m: entry::Model) -> Entry {
    Entry {
        id: m.id,
        kind: kind_of(&m.kind),
        amount: Money::from_minor(m.amount_minor),
        currency: Currency::from_trusted(m.currency),
        category_id: m.category_id,
        date: m.date,
        note: m.note,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

async fn duplicate(
    txn: &DatabaseTransaction,
    user: UserId,
    f: &CategoryFields,
    except: Option<i64>,
) -> Result<(), StoreError> {
    let mut q = cat::Entity::find()
        .filter(cat::Column::UserId.eq(user.get()))
        .filter(cat::Column::Kind.eq(f.kind().as_str()))
        .filter(cat::Column::Name.eq(f.name()));
    if let Some(id) = except {
        q = q.filter(cat::Column::Id.ne(id));
    }
    if q.count(txn).await.map_err(store_err)? > 0 {
        return Err(StoreError::Conflict(format!(
            "a {} category named {:?} exists",
            f.kind().as_str(),
            f.name()
        )));
    }
    Ok(())
}

/// The category must be the user's and of the entry's kind.
async fn check_category(
    txn: &DatabaseTransaction,
    user: UserId,
    f: &EntryFields,
) -> Result<(), StoreError> {
    if let Some(id) = f.category_id() {
        let ok = cat::Entity::find_by_id(id)
            .filter(cat::Column::UserId.eq(user.get()))
            .filter(cat::Column::Kind.eq(f.kind().as_str()))
            .count(txn)
            .await
            .map_err(store_err)?;
        if ok == 0 {
            return Err(StoreError::Conflict("category_id".into()));
        }
    }
    Ok(())
}

/// The list query: what `(user_id, date)` serves.
fn list_query(user: UserId, f: EntryFilter, limit: u32) -> Select<entry::Entity> {
    let mut q = entry::Entity::find().filter(entry::Column::UserId.eq(user.get()));
    if let Some(from) = f.from {
        q = q.filter(entry::Column::Date.gte(from));
    }
    if let Some(to) = f.to {
        q = q.filter(entry::Column::Date.lte(to));
    }
    if let Some(c) = f.category_id {
        q = q.filter(entry::Column::CategoryId.eq(c));
    }
    if let Some(k) = f.kind {
        q = q.filter(entry::Column::Kind.eq(k.as_str()));
    }
    q.order_by_desc(entry::Column::Date)
        .order_by_desc(entry::Column::Id)
        .limit(u64::from(limit))
}

fn totals_statement(
    backend: DatabaseBackend,
    user: UserId,
    range: DateRange,
    currency: &Currency,
) -> Statement {
    stmt(
        backend,
        "SELECT e.category_id AS category_id, c.name AS name, e.kind AS kind, CAST(SUM(e.amount_minor) AS BIGINT) AS total \
           FROM finance_entries e LEFT JOIN finance_categories c ON c.id = e.category_id \
          WHERE e.user_id = ? AND e.date BETWEEN ? AND ? AND e.currency = ? \
          GROUP BY e.category_id, c.name, e.kind",
        vec![
            user.get().into(),
            range.from().into(),
            range.to().into(),
            currency.as_str().into(),
        ],
    )
}

/// The statements behind a month's list and summary, for plan tests and the benchmark.
#[must_use]
pub fn month_statements(
    backend: DatabaseBackend,
    user: UserId,
    range: DateRange,
) -> Vec<(&'static str, Statement)> {
    let filter = EntryFilter {
        from: Some(range.from()),
        to: Some(range.to()),
        ..EntryFilter::default()
    };
    vec![
        ("month list", list_query(user, filter, 100).build(backend)),
        (
            "month summary",
            totals_statement(backend, user, range, &Currency::from_trusted("EUR".into())),
        ),
    ]
}

#[async_trait::async_trait]
impl FinanceStore for SqlFinanceStore {
    async fn create_category(
        &self,
        user: UserId,
        f: &CategoryFields,
        write: Write,
    ) -> Result<Category, StoreError> {
        let now = write.now;
        write_txn(&self.db, user, write, async |txn| {
            duplicate(txn, user, f, None).await?;
            let m = cat::Entity::insert(cat::ActiveModel {
                user_id: Set(user.get()),
                name: Set(f.name().to_owned()),
                kind: Set(f.kind().as_str().to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .exec_with_returning(txn)
            .await
            .map_err(store_err)?;
            let id = m.id;
            Ok((to_category(m), json!(id)))
        })
        .await
    }

    async fn categories(&self, user: UserId, limit: u32) -> Result<Vec<Category>, StoreError> {
        let rows = cat::Entity::find()
            .filter(cat::Column::UserId.eq(user.get()))
            .order_by_asc(cat::Column::Name)
            .order_by_asc(cat::Column::Id)
            .limit(u64::from(limit))
            .all(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(rows.into_iter().map(to_category).collect())
    }

    async fn update_category(
        &self,
        user: UserId,
        id: i64,
        f: &CategoryFields,
        write: Write,
    ) -> Result<Category, StoreError> {
        write_txn(&self.db, user, write, async |txn| {
            duplicate(txn, user, f, Some(id)).await?;
            let res = cat::Entity::update_many()
                .col_expr(cat::Column::Name, Expr::value(f.name().to_owned()))
                .col_expr(cat::Column::Kind, Expr::value(f.kind().as_str()))
                .filter(cat::Column::Id.eq(id))
                .filter(cat::Column::UserId.eq(user.get()))
                .exec(txn)
                .await
                .map_err(store_err)?;
            if res.rows_affected == 0 {
                return Err(StoreError::NotFound);
            }
            let m = cat::Entity::find_by_id(id)
                .one(txn)
                .await
                .map_err(store_err)?
                .ok_or(StoreError::NotFound)?;
            Ok((to_category(m), json!(id)))
        })
        .await
    }

    async fn delete_category(
        &self,
        user: UserId,
        id: i64,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let used = entry::Entity::find()
            .filter(entry::Column::CategoryId.eq(id))
            .filter(entry::Column::UserId.eq(user.get()))
            .count(self.db.conn())
            .await
            .map_err(store_err)?;
        if used > 0 {
            return Err(StoreError::Conflict(format!(
                "the category has {used} entries; move or delete them first"
            )));
        }
        // The foreign key (ON DELETE RESTRICT) refuses the delete should an entry have been
        // added since the count above.
        remove_owned::<cat::Entity>(
            &self.db,
            user,
            id,
            event,
            now,
            (cat::Column::Id, cat::Column::UserId),
        )
        .await
    }

    async fn create_entry(
        &self,
        user: UserId,
        f: &EntryFields,
        write: Write,
    ) -> Result<Entry, StoreError> {
        let now = write.now;
        write_txn(&self.db, user, write, async |txn| {
            check_category(txn, user, f).await?;
            let m = entry::Entity::insert(entry::ActiveModel {
                user_id: Set(user.get()),
                kind: Set(f.kind().as_str().to_owned()),
                amount_minor: Set(f.amount().minor()),
                currency: Set(f.currency().as_str().to_owned()),
                category_id: Set(f.category_id()),
                date: Set(f.date()),
                note: Set(f.note().map(str::to_owned)),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .exec_with_returning(txn)
            .await
            .map_err(store_err)?;
            let id = m.id;
            Ok((to_entry(m), json!(id)))
        })
        .await
    }

    async fn entries(
        &self,
        user: UserId,
        filter: EntryFilter,
        limit: u32,
    ) -> Result<Vec<Entry>, StoreError> {
        let rows = list_query(user, filter, limit)
            .all(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(rows.into_iter().map(to_entry).collect())
    }

    async fn entry(&self, user: UserId, id: i64) -> Result<Entry, StoreError> {
        entry::Entity::find_by_id(id)
            .filter(entry::Column::UserId.eq(user.get()))
            .one(self.db.conn())
            .await
            .map_err(store_err)?
            .map(to_entry)
            .ok_or(StoreError::NotFound)
    }

    async fn update_entry(
        &self,
        user: UserId,
        id: i64,
        f: &EntryFields,
        write: Write,
    ) -> Result<Entry, StoreError> {
        write_txn(&self.db, user, write, async |txn| {
            check_category(txn, user, f).await?;
            let res = entry::Entity::update_many()
                .col_expr(entry::Column::Kind, Expr::value(f.kind().as_str()))
                .col_expr(entry::Column::AmountMinor, Expr::value(f.amount().minor()))
                .col_expr(entry::Column::Currency, Expr::value(f.currency().as_str()))
                .col_expr(entry::Column::CategoryId, Expr::value(f.category_id()))
                .col_expr(entry::Column::Date, Expr::value(f.date()))
                .col_expr(
                    entry::Column::Note,
                    Expr::value(f.note().map(str::to_owned)),
                )
                .filter(entry::Column::Id.eq(id))
                .filter(entry::Column::UserId.eq(user.get()))
                .exec(txn)
                .await
                .map_err(store_err)?;
            if res.rows_affected == 0 {
                return Err(StoreError::NotFound);
            }
            let m = entry::Entity::find_by_id(id)
                .one(txn)
                .await
                .map_err(store_err)?
                .ok_or(StoreError::NotFound)?;
            Ok((to_entry(m), json!(id)))
        })
        .await
    }

    async fn delete_entry(
        &self,
        user: UserId,
        id: i64,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        remove_owned::<entry::Entity>(
            &self.db,
            user,
            id,
            event,
            now,
            (entry::Column::Id, entry::Column::UserId),
        )
        .await
    }

    async fn totals(
        &self,
        user: UserId,
        range: DateRange,
        currency: &Currency,
    ) -> Result<Vec<CategoryTotal>, StoreError> {
        let c = self.db.conn();
        let rows = c
            .query_all_raw(totals_statement(
                c.get_database_backend(),
                user,
                range,
                currency,
            ))
            .await
            .map_err(store_err)?;
        rows.into_iter()
            .map(|r| {
                let kind: String = r.try_get("", "kind").map_err(store_err)?;
                Ok(CategoryTotal {
                    category_id: r.try_get("", "category_id").map_err(store_err)?,
                    name: r.try_get("", "name").map_err(store_err)?,
                    kind: kind_of(&kind),
                    // PostgreSQL's SUM(bigint) is NUMERIC: the query casts it back.
                    total: r.try_get("", "total").map_err(store_err)?,
                })
            })
            .collect()
    }

    async fn default_currency(&self, user: UserId) -> Result<Currency, StoreError> {
        let value: Option<String> = user_setting::Entity::find()
            .select_only()
            .column(user_setting::Column::SettingValue)
            .filter(user_setting::Column::UserId.eq(user.get()))
            .filter(user_setting::Column::SettingKey.eq("currency"))
            .into_tuple::<String>()
            .one(self.db.conn())
            .await
            .map_err(store_err)?;
        let code = value
            .and_then(|v| serde_json::from_str::<String>(&v).ok())
            .unwrap_or_else(|| "EUR".into());
        Ok(Currency::from_trusted(code))
    }
}
