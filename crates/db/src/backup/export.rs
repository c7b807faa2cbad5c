//! Export: every row of a user, in document order, from one snapshot, a page at a time.

use super::SqlBackupStore;
use crate::entity::{
    finance_category as category, finance_entry as entry, habit, habit_completion as done,
    habit_skip as skip, journal_entry as journal, sport_food as food, sport_goals as goals,
    sport_water as water, sport_workout as workout, travel_visited as visited,
    travel_wishlist as wish, user, user_setting,
};
use crate::error::store_err;
use crate::pool::Backend;
use ayubi_backup::document::{
    CategoryRow, EntryRow, FoodRow, GoalsRow, HabitRow, JournalRow, ProfileRow, Row, ScheduleRow,
    VisitRow, WaterRow, WishRow, WorkoutRow,
};
use ayubi_backup::ports::{ExportSource, RowSink};
use ayubi_kernel::{StoreError, UserId};
use sea_orm::{
    AccessMode, ColumnTrait, DatabaseTransaction, EntityTrait, IsolationLevel, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use std::collections::{BTreeMap, HashMap};

/// Rows read per query: large enough that a 200,000-row export is a few hundred
/// queries, small enough that a page is well under a megabyte.
const PAGE: u64 = 1000;
/// Habits per page; each brings its completion and skip days along.
const HABIT_PAGE: u64 = 100;

/// Streams `E`'s rows of `user` in id order, keyset-paged (no OFFSET: every page is one
/// index range scan).
async fn stream<E: EntityTrait>(
    txn: &DatabaseTransaction,
    (user_col, id_col): (E::Column, E::Column),
    user: UserId,
    sink: &mut dyn RowSink,
    id_of: impl Fn(&E::Model) -> i64,
    to_row: impl Fn(E::Model) -> Row,
) -> Result<(), StoreError> {
    let mut after = i64::MIN;
    loop {
        let page = E::find()
            .filter(user_col.eq(user.get()))
            .filter(id_col.gt(after))
            .order_by_asc(id_col)
            .limit(PAGE)
            .all(txn)
            .await
            .map_err(store_err)?;
        let full = page.len() as u64 == PAGE;
        for m in page {
            after = id_of(&m);
            sink.row(to_row(m)).await?;
        }
        if !full {
            return Ok(());
        }
    }
}

#[async_trait::async_trait]
impl ExportSource for SqlBackupStore {
    async fn export(&self, user: UserId, sink: &mut dyn RowSink) -> Result<(), StoreError> {
        // One snapshot for the whole document: PostgreSQL's REPEATABLE READ; on SQLite
        // (WAL) a read transaction sees the database as of its first read until it ends.
        let txn = match self.db.backend() {
            Backend::Postgres => {
                self.db
                    .conn()
                    .begin_with_config(
                        Some(IsolationLevel::RepeatableRead),
                        Some(AccessMode::ReadOnly),
                    )
                    .await
            }
            Backend::Sqlite => self.db.conn().begin().await,
        }
        .map_err(store_err)?;
        let txn = &txn;
        let u = user::Entity::find_by_id(user.get())
            .one(txn)
            .await
            .map_err(store_err)?
            .ok_or(StoreError::NotFound)?;
        sink.row(Row::Profile(ProfileRow {
            email: Some(u.email),
            display_name: u.display_name,
            timezone: Some(u.timezone),
            steam_id: u.steam_id,
            faceit_nickname: u.faceit_nickname,
        }))
        .await?;
        let settings: BTreeMap<String, serde_json::Value> = user_setting::Entity::find()
            .filter(user_setting::Column::UserId.eq(user.get()))
            .all(txn)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|s| {
                let v = serde_json::from_str(&s.setting_value)
                    .unwrap_or(serde_json::Value::String(s.setting_value));
                (s.setting_key, v)
            })
            .collect();
        sink.row(Row::Settings(settings)).await?;
        let g = goals::Entity::find_by_id(user.get())
            .one(txn)
            .await
            .map_err(store_err)?;
        sink.row(Row::Goals(g.map(|g| GoalsRow {
            water_ml_per_day: g.water_ml_per_day.into(),
            kcal_per_day: g.kcal_per_day.into(),
            updated_at: Some(g.updated_at),
        })))
        .await?;
        stream::<water::Entity>(
            txn,
            (water::Column::UserId, water::Column::Id),
            user,
            sink,
            |m| m.id,
            |m| {
                Row::Water(WaterRow {
                    id: Some(m.id),
                    date: m.date,
                    ml: m.ml.into(),
                    created_at: Some(m.created_at),
                })
            },
        )
        .await?;
        let grams = |dg: Option<i32>| dg.map(|t| ayubi_sport::Grams::from_tenths(t).grams());
        stream::<food::Entity>(
            txn,
            (food::Column::UserId, food::Column::Id),
            user,
            sink,
            |m| m.id,
            |m| {
                Row::Food(FoodRow {
                    id: Some(m.id),
                    date: m.date,
                    name: m.name,
                    kcal: m.kcal.into(),
                    protein: grams(m.protein_dg),
                    carbs: grams(m.carbs_dg),
                    fat: grams(m.fat_dg),
                    created_at: Some(m.created_at),
                })
            },
        )
        .await?;
        stream::<workout::Entity>(
            txn,
            (workout::Column::UserId, workout::Column::Id),
            user,
            sink,
            |m| m.id,
            |m| {
                Row::Workout(WorkoutRow {
                    id: Some(m.id),
                    date: m.date,
                    name: m.name,
                    duration_min: m.duration_min.into(),
                    kcal_burned: m.kcal_burned.into(),
                    created_at: Some(m.created_at),
                })
            },
        )
        .await?;
        stream::<visited::Entity>(
            txn,
            (visited::Column::UserId, visited::Column::Id),
            user,
            sink,
            |m| m.id,
            |m| {
                Row::Visit(VisitRow {
                    id: Some(m.id),
                    country_iso3: m.country_iso3,
                    visit_date: m.visit_date,
                    notes: m.notes,
                    created_at: Some(m.created_at),
                })
            },
        )
        .await?;
        stream::<wish::Entity>(
            txn,
            (wish::Column::UserId, wish::Column::Id),
            user,
            sink,
            |m| m.id,
            |m| {
                Row::Wish(WishRow {
                    id: Some(m.id),
                    country_iso3: m.country_iso3,
                    added_at: Some(m.added_at),
                })
            },
        )
        .await?;
        export_habits(txn, user, sink).await?;
        stream::<category::Entity>(
            txn,
            (category::Column::UserId, category::Column::Id),
            user,
            sink,
            |m| m.id,
            |m| {
                Row::Category(CategoryRow {
                    id: Some(m.id),
                    name: m.name,
                    kind: m.kind,
                    created_at: Some(m.created_at),
                    updated_at: Some(m.updated_at),
                })
            },
        )
        .await?;
        stream::<entry::Entity>(
            txn,
            (entry::Column::UserId, entry::Column::Id),
            user,
            sink,
            |m| m.id,
            |m| {
                Row::Entry(EntryRow {
                    id: Some(m.id),
                    kind: m.kind,
                    amount: ayubi_finance::minor_to_major(m.amount_minor),
                    currency: m.currency,
                    category_id: m.category_id,
                    date: m.date,
                    note: m.note,
                    created_at: Some(m.created_at),
                    updated_at: Some(m.updated_at),
                })
            },
        )
        .await?;
        stream::<journal::Entity>(
            txn,
            (journal::Column::UserId, journal::Column::Id),
            user,
            sink,
            |m| m.id,
            |m| {
                Row::Journal(JournalRow {
                    id: Some(m.id),
                    title: m.title,
                    content: m.content,
                    date: m.date,
                    mood: m.mood.map(i64::from),
                    tags: serde_json::from_str(&m.tags).unwrap_or_default(),
                    created_at: Some(m.created_at),
                    updated_at: Some(m.updated_at),
                })
            },
        )
        .await
    }
}

/// Habits a page at a time, each with its days (two queries per page, not per habit).
async fn export_habits(
    txn: &DatabaseTransaction,
    user: UserId,
    sink: &mut dyn RowSink,
) -> Result<(), StoreError> {
    let mut after = i64::MIN;
    loop {
        let page = habit::Entity::find()
            .filter(habit::Column::UserId.eq(user.get()))
            .filter(habit::Column::Id.gt(after))
            .order_by_asc(habit::Column::Id)
            .limit(HABIT_PAGE)
            .all(txn)
            .await
            .map_err(store_err)?;
        let ids: Vec<i64> = page.iter().map(|h| h.id).collect();
        let mut completions: HashMap<i64, Vec<chrono::NaiveDate>> = HashMap::new();
        for d in done::Entity::find()
            .filter(done::Column::HabitId.is_in(ids.clone()))
            .order_by_asc(done::Column::CompletionDate)
            .all(txn)
            .await
            .map_err(store_err)?
        {
            completions
                .entry(d.habit_id)
                .or_default()
                .push(d.completion_date);
        }
        let mut skips: HashMap<i64, Vec<chrono::NaiveDate>> = HashMap::new();
        for d in skip::Entity::find()
            .filter(skip::Column::HabitId.is_in(ids))
            .order_by_asc(skip::Column::SkipDate)
            .all(txn)
            .await
            .map_err(store_err)?
        {
            skips.entry(d.habit_id).or_default().push(d.skip_date);
        }
        let full = page.len() as u64 == HABIT_PAGE;
        for h in page {
            after = h.id;
            let schedule: ScheduleRow = serde_json::from_str(&h.schedule).unwrap_or(ScheduleRow {
                kind: "daily".into(),
                days: None,
                times: None,
            });
            sink.row(Row::Habit(HabitRow {
                id: Some(h.id),
                name: h.name,
                description: h.description,
                schedule: Some(schedule),
                archived: h.archived,
                created_at: Some(h.created_at),
                updated_at: Some(h.updated_at),
                completions: completions.remove(&h.id).unwrap_or_default(),
                skips: skips.remove(&h.id).unwrap_or_default(),
            }))
            .await?;
        }
        if !full {
            return Ok(());
        }
    }
}
