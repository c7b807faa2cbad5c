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
use chrono::NaiveDate;
use sea_orm::{
    AccessMode, ColumnTrait, Condition, DatabaseBackend, DatabaseTransaction, EntityTrait,
    IsolationLevel, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Statement,
    TransactionTrait,
};
use std::collections::BTreeMap;

/// Rows read per query: large enough that a 200,000-row export is a few hundred
/// queries, small enough that a page is well under a megabyte.
const PAGE: u64 = 1000;
/// Habits per page; each brings its completion and skip days along.
const HABIT_PAGE: u64 = 100;
/// Journal entries per page: one may hold 100,000 characters (up to 400 KB), so a page
/// of 1,000 could be hundreds of megabytes; 50 bounds a page at ~20 MB in the worst case.
const JOURNAL_PAGE: u64 = 50;

/// Streams `E`'s rows of `user` in id order, keyset-paged (no OFFSET). For the small
/// per-user tables (travel, categories) whose indexes do not lead with the id.
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

/// Streams a dated table of `user` by (date, id), keyset-paged along its
/// `(user_id, date)` index. Ordering by id alone would make both databases sort the
/// user's whole table for every page (measured: a 400,000-row export held 30 MB of sort
/// and took quadratic time); by date, each page is one index range scan. The order is
/// also the one the REST lists use, and what a person reading the file expects.
async fn stream_dated<E: EntityTrait>(
    txn: &DatabaseTransaction,
    (user_col, date_col, id_col): (E::Column, E::Column, E::Column),
    page_size: u64,
    user: UserId,
    sink: &mut dyn RowSink,
    key_of: impl Fn(&E::Model) -> (NaiveDate, i64),
    to_row: impl Fn(E::Model) -> Row,
) -> Result<(), StoreError> {
    let mut after: Option<(NaiveDate, i64)> = None;
    loop {
        let page = dated_page::<E>((user_col, date_col, id_col), user, after, page_size)
            .all(txn)
            .await
            .map_err(store_err)?;
        let full = page.len() as u64 == page_size;
        for m in page {
            after = Some(key_of(&m));
            sink.row(to_row(m)).await?;
        }
        if !full {
            return Ok(());
        }
    }
}

/// One page of a dated table after the cursor `after` (the last row's date and id).
fn dated_page<E: EntityTrait>(
    (user_col, date_col, id_col): (E::Column, E::Column, E::Column),
    user: UserId,
    after: Option<(NaiveDate, i64)>,
    page_size: u64,
) -> Select<E> {
    let mut q = E::find().filter(user_col.eq(user.get()));
    if let Some((date, id)) = after {
        // `date >= d` bounds the index range; the rest only filters the rows of the
        // boundary day.
        q = q
            .filter(date_col.gte(date))
            .filter(Condition::any().add(date_col.gt(date)).add(id_col.gt(id)));
    }
    q.order_by_asc(date_col)
        .order_by_asc(id_col)
        .limit(page_size)
}

/// The export's paged statements for the big tables, first page and a later one, for
/// the query-plan test (each must be an index range scan, with no sort of the table).
#[must_use]
pub fn paged_statements(backend: DatabaseBackend) -> Vec<(&'static str, Statement)> {
    let user = UserId::new(1);
    let after = NaiveDate::from_ymd_opt(2026, 1, 1).map(|d| (d, 1));
    let mut out = Vec::new();
    macro_rules! both {
        ($name:literal, $ent:ident) => {
            for cursor in [None, after] {
                out.push((
                    $name,
                    dated_page::<$ent::Entity>(
                        ($ent::Column::UserId, $ent::Column::Date, $ent::Column::Id),
                        user,
                        cursor,
                        PAGE,
                    )
                    .build(backend),
                ));
            }
        };
    }
    both!("sport_water", water);
    both!("sport_food", food);
    both!("sport_workout", workout);
    both!("finance_entries", entry);
    both!("journal_entries", journal);
    out
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
        stream_dated::<water::Entity>(
            txn,
            (
                water::Column::UserId,
                water::Column::Date,
                water::Column::Id,
            ),
            PAGE,
            user,
            sink,
            |m| (m.date, m.id),
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
        stream_dated::<food::Entity>(
            txn,
            (food::Column::UserId, food::Column::Date, food::Column::Id),
            PAGE,
            user,
            sink,
            |m| (m.date, m.id),
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
        stream_dated::<workout::Entity>(
            txn,
            (
                workout::Column::UserId,
                workout::Column::Date,
                workout::Column::Id,
            ),
            PAGE,
            user,
            sink,
            |m| (m.date, m.id),
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
        stream_dated::<entry::Entity>(
            txn,
            (
                entry::Column::UserId,
                entry::Column::Date,
                entry::Column::Id,
            ),
            PAGE,
            user,
            sink,
            |m| (m.date, m.id),
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
        stream_dated::<journal::Entity>(
            txn,
            (
                journal::Column::UserId,
                journal::Column::Date,
                journal::Column::Id,
            ),
            JOURNAL_PAGE,
            user,
            sink,
            |m| (m.date, m.id),
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

/// One habit's days (completions or skips) as bare dates, a page at a time along the
/// `(habit_id, date)` unique index: a habit done daily for ten years is 3,650 dates
/// (15 KB) in the document, but fetched as whole rows at once it was megabytes.
async fn habit_days<E: EntityTrait>(
    txn: &DatabaseTransaction,
    (habit_col, date_col): (E::Column, E::Column),
    habit: i64,
) -> Result<Vec<NaiveDate>, StoreError> {
    let mut days: Vec<NaiveDate> = Vec::new();
    loop {
        let mut q = E::find()
            .select_only()
            .column(date_col)
            .filter(habit_col.eq(habit));
        if let Some(last) = days.last() {
            q = q.filter(date_col.gt(*last));
        }
        let page: Vec<NaiveDate> = q
            .order_by_asc(date_col)
            .limit(PAGE)
            .into_tuple()
            .all(txn)
            .await
            .map_err(store_err)?;
        let full = page.len() as u64 == PAGE;
        days.extend(page);
        if !full {
            return Ok(days);
        }
    }
}

/// Habits a page at a time, each with its days.
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
                completions: habit_days::<done::Entity>(
                    txn,
                    (done::Column::HabitId, done::Column::CompletionDate),
                    h.id,
                )
                .await?,
                skips: habit_days::<skip::Entity>(
                    txn,
                    (skip::Column::HabitId, skip::Column::SkipDate),
                    h.id,
                )
                .await?,
            }))
            .await?;
        }
        if !full {
            return Ok(());
        }
    }
}
