//! [`HabitStore`] over SQL.

use crate::changelog::{Rollback, append, next_seq, remove_owned, write_txn};
use crate::entity::{habit, habit_completion as done, habit_skip as skip, user_setting};
use crate::error::store_err;
use crate::idempotency::save_in;
use crate::pool::Database;
use ayubi_habits::ports::HabitStore;
use ayubi_habits::*;
use ayubi_kernel::{Event, Limit, StoreError, UserId, Write};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

/// Habits in SQL.
#[derive(Debug, Clone)]
pub struct SqlHabitStore {
    db: Database,
}

impl SqlHabitStore {
    /// Wraps the pool.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// The stored JSON of a schedule.
#[must_use]
pub fn schedule_json(s: &Schedule) -> Value {
    match s {
        Schedule::Daily => json!({"kind": "daily"}),
        Schedule::Weekdays(days) => {
            json!({"kind": "weekdays", "days": days.iter().map(|d| d.name()).collect::<Vec<_>>()})
        }
        Schedule::TimesPerWeek(t) => json!({"kind": "times_per_week", "times": t}),
    }
}

fn parse_schedule(text: &str) -> Schedule {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let days: Option<Vec<String>> = v["days"].as_array().map(|a| {
        a.iter()
            .filter_map(|d| d.as_str().map(str::to_owned))
            .collect()
    });
    Schedule::parse(
        v["kind"].as_str().unwrap_or("daily"),
        days.as_deref(),
        v["times"].as_i64(),
    )
    .unwrap_or(Schedule::Daily)
}

fn to_habit(m: habit::Model) -> Habit {
    Habit {
        id: m.id,
        name: m.name,
        description: m.description,
        schedule: parse_schedule(&m.schedule),
        archived: m.archived,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

async fn owned<C: ConnectionTrait>(
    c: &C,
    user: UserId,
    id: i64,
) -> Result<habit::Model, StoreError> {
    habit::Entity::find_by_id(id)
        .filter(habit::Column::UserId.eq(user.get()))
        .one(c)
        .await
        .map_err(store_err)?
        .ok_or(StoreError::NotFound)
}

#[async_trait::async_trait]
impl HabitStore for SqlHabitStore {
    async fn create(
        &self,
        user: UserId,
        f: &HabitFields,
        write: Write,
    ) -> Result<Habit, StoreError> {
        let now = write.now;
        write_txn(&self.db, user, write, async |txn| {
            let m = habit::Entity::insert(habit::ActiveModel {
                user_id: Set(user.get()),
                name: Set(f.name().to_owned()),
                description: Set(f.description().map(str::to_owned)),
                schedule: Set(schedule_json(f.schedule()).to_string()),
                archived: Set(f.archived()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .exec_with_returning(txn)
            .await
            .map_err(store_err)?;
            let id = m.id;
            Ok((to_habit(m), json!(id)))
        })
        .await
    }

    async fn list(
        &self,
        user: UserId,
        archived: Option<bool>,
        limit: u32,
    ) -> Result<Vec<Habit>, StoreError> {
        let mut q = habit::Entity::find().filter(habit::Column::UserId.eq(user.get()));
        if let Some(a) = archived {
            q = q.filter(habit::Column::Archived.eq(a));
        }
        let rows = q
            .order_by_desc(habit::Column::CreatedAt)
            .order_by_desc(habit::Column::Id)
            .limit(u64::from(limit))
            .all(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(rows.into_iter().map(to_habit).collect())
    }

    async fn get(&self, user: UserId, id: i64) -> Result<Habit, StoreError> {
        owned(self.db.conn(), user, id).await.map(to_habit)
    }

    async fn update(
        &self,
        user: UserId,
        id: i64,
        f: &HabitFields,
        write: Write,
    ) -> Result<Habit, StoreError> {
        write_txn(&self.db, user, write, async |txn| {
            let res = habit::Entity::update_many()
                .col_expr(habit::Column::Name, Expr::value(f.name().to_owned()))
                .col_expr(
                    habit::Column::Description,
                    Expr::value(f.description().map(str::to_owned)),
                )
                .col_expr(
                    habit::Column::Schedule,
                    Expr::value(schedule_json(f.schedule()).to_string()),
                )
                .col_expr(habit::Column::Archived, Expr::value(f.archived()))
                .filter(habit::Column::Id.eq(id))
                .filter(habit::Column::UserId.eq(user.get()))
                .exec(txn)
                .await
                .map_err(store_err)?;
            if res.rows_affected == 0 {
                return Err(StoreError::NotFound);
            }
            Ok((to_habit(owned(txn, user, id).await?), json!(id)))
        })
        .await
    }

    async fn delete(
        &self,
        user: UserId,
        id: i64,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        remove_owned::<habit::Entity>(
            &self.db,
            user,
            id,
            event,
            now,
            (habit::Column::Id, habit::Column::UserId),
        )
        .await
    }

    async fn mark(
        &self,
        user: UserId,
        day: HabitDay,
        is_skip: bool,
        write: Write,
    ) -> Result<(HabitDay, bool), StoreError> {
        let change = self
            .db
            .transact_as(user, async |txn| {
                let seq = next_seq(txn, user).await.map_err(store_err)?;
                owned(txn, user, day.habit_id).await?;
                let exists = if is_skip {
                    skip::Entity::find()
                        .filter(skip::Column::HabitId.eq(day.habit_id))
                        .filter(skip::Column::SkipDate.eq(day.date))
                        .count(txn)
                        .await
                } else {
                    done::Entity::find()
                        .filter(done::Column::HabitId.eq(day.habit_id))
                        .filter(done::Column::CompletionDate.eq(day.date))
                        .count(txn)
                        .await
                }
                .map_err(store_err)?;
                if exists > 0 {
                    // Already there: nothing written, the seq is rolled back with the transaction.
                    return Err(Rollback::Answer(()));
                }
                let inserted = if is_skip {
                    skip::Entity::insert(skip::ActiveModel {
                        habit_id: Set(day.habit_id),
                        user_id: Set(user.get()),
                        skip_date: Set(day.date),
                        created_at: Set(write.now),
                        ..Default::default()
                    })
                    .exec_without_returning(txn)
                    .await
                } else {
                    done::Entity::insert(done::ActiveModel {
                        habit_id: Set(day.habit_id),
                        user_id: Set(user.get()),
                        completion_date: Set(day.date),
                        created_at: Set(write.now),
                        ..Default::default()
                    })
                    .exec_without_returning(txn)
                    .await
                };
                inserted.map_err(store_err)?;
                let data = self.db.representations().render(&day)?;
                let change = append(
                    txn,
                    user,
                    seq,
                    write.event,
                    &json!(day.habit_id),
                    &data,
                    write.now,
                )
                .await
                .map_err(store_err)?;
                // The response of a mark that wrote is the day, created.
                save_in(txn, &(day, true)).await?;
                Ok(change)
            })
            .await;
        match change {
            Ok(change) => {
                self.db.committed(user, &change).await;
                Ok((day, true))
            }
            Err(Rollback::Answer(())) => Ok((day, false)),
            Err(Rollback::Failed(e)) => Err(e),
        }
    }

    async fn unmark(
        &self,
        user: UserId,
        day: HabitDay,
        is_skip: bool,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let u = user.get();
        let change = self
            .db
            .transact_as(user, async |txn| {
                let seq = next_seq(txn, user).await.map_err(store_err)?;
                let res = if is_skip {
                    skip::Entity::delete_many()
                        .filter(skip::Column::HabitId.eq(day.habit_id))
                        .filter(skip::Column::UserId.eq(u))
                        .filter(skip::Column::SkipDate.eq(day.date))
                        .exec(txn)
                        .await
                } else {
                    done::Entity::delete_many()
                        .filter(done::Column::HabitId.eq(day.habit_id))
                        .filter(done::Column::UserId.eq(u))
                        .filter(done::Column::CompletionDate.eq(day.date))
                        .exec(txn)
                        .await
                }
                .map_err(store_err)?;
                if res.rows_affected == 0 {
                    return Err(StoreError::NotFound);
                }
                let data = json!({"habit_id": day.habit_id, "date": day.date});
                crate::changelog::append(txn, user, seq, event, &json!(day.habit_id), &data, now)
                    .await
                    .map_err(store_err)
            })
            .await?;
        self.db.committed(user, &change).await;
        Ok(())
    }

    async fn completions(
        &self,
        user: UserId,
        id: i64,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        limit: Limit,
    ) -> Result<Vec<NaiveDate>, StoreError> {
        owned(self.db.conn(), user, id).await?;
        let mut query = done::Entity::find()
            .filter(done::Column::HabitId.eq(id))
            .filter(done::Column::UserId.eq(user.get()));
        if let Some(from) = from {
            query = query.filter(done::Column::CompletionDate.gte(from));
        }
        if let Some(to) = to {
            query = query.filter(done::Column::CompletionDate.lte(to));
        }
        let rows = query
            .order_by_desc(done::Column::CompletionDate)
            .limit(u64::from(limit.get()))
            .all(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(rows.into_iter().map(|r| r.completion_date).collect())
    }

    async fn histories(&self, user: UserId) -> Result<Vec<HabitHistory>, StoreError> {
        let c = self.db.conn();
        let habits = active_habits(user).all(c).await.map_err(store_err)?;
        let mut completions: HashMap<i64, BTreeSet<NaiveDate>> = HashMap::new();
        for r in all_completions(user).all(c).await.map_err(store_err)? {
            completions
                .entry(r.habit_id)
                .or_default()
                .insert(r.completion_date);
        }
        let mut skips: HashMap<i64, BTreeSet<NaiveDate>> = HashMap::new();
        for r in all_skips(user).all(c).await.map_err(store_err)? {
            skips.entry(r.habit_id).or_default().insert(r.skip_date);
        }
        Ok(habits
            .into_iter()
            .map(|m| {
                let id = m.id;
                HabitHistory {
                    habit: to_habit(m),
                    completions: completions.remove(&id).unwrap_or_default(),
                    skips: skips.remove(&id).unwrap_or_default(),
                }
            })
            .collect())
    }

    async fn week_start(&self, user: UserId) -> Result<WeekStart, StoreError> {
        let value: Option<String> = user_setting::Entity::find()
            .select_only()
            .column(user_setting::Column::SettingValue)
            .filter(user_setting::Column::UserId.eq(user.get()))
            .filter(user_setting::Column::SettingKey.eq("week_start"))
            .into_tuple::<String>()
            .one(self.db.conn())
            .await
            .map_err(store_err)?;
        let value: Option<String> = value.and_then(|v| serde_json::from_str::<String>(&v).ok());
        Ok(WeekStart::from_setting(value.as_deref()))
    }
}

/// The stats' reads: a user's active habits, and every completion and skip (along the
/// `user_id` indexes).
pub(crate) fn active_habits(user: UserId) -> sea_orm::Select<habit::Entity> {
    habit::Entity::find()
        .filter(habit::Column::UserId.eq(user.get()))
        .filter(habit::Column::Archived.eq(false))
        .order_by_asc(habit::Column::Id)
}

pub(crate) fn all_completions(user: UserId) -> sea_orm::Select<done::Entity> {
    done::Entity::find().filter(done::Column::UserId.eq(user.get()))
}

pub(crate) fn all_skips(user: UserId) -> sea_orm::Select<skip::Entity> {
    skip::Entity::find().filter(skip::Column::UserId.eq(user.get()))
}
