//! [`SportStore`] over SQL.

use crate::changelog::{append_txn, remove_owned, write_txn};
use crate::entity::{
    sport_food as food, sport_goals as goals, sport_water as water, sport_workout as workout,
};
use crate::error::store_err;
use crate::pool::Database;
use crate::sql::stmt;
use ayubi_kernel::{DateRange, Event, StoreError, UserId, Write};
use ayubi_sport::ports::SportStore;
use ayubi_sport::*;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select, Statement,
};
use serde_json::json;

/// Sport's logs and goals in SQL.
#[derive(Debug, Clone)]
pub struct SqlSportStore {
    db: Database,
}

impl SqlSportStore {
    /// Wraps the pool.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn to_water(m: water::Model) -> WaterEntry {
    WaterEntry {
        id: m.id,
        date: m.date,
        ml: m.ml,
        created_at: m.created_at,
    }
}

fn to_food(m: food::Model) -> FoodEntry {
    FoodEntry {
        id: m.id,
        date: m.date,
        name: m.name,
        kcal: m.kcal,
        protein: m.protein_dg.map(Grams::from_tenths),
        carbs: m.carbs_dg.map(Grams::from_tenths),
        fat: m.fat_dg.map(Grams::from_tenths),
        created_at: m.created_at,
    }
}

fn to_workout(m: workout::Model) -> WorkoutEntry {
    WorkoutEntry {
        id: m.id,
        date: m.date,
        name: m.name,
        duration_min: m.duration_min,
        kcal_burned: m.kcal_burned,
        created_at: m.created_at,
    }
}

fn to_goals(m: goals::Model) -> Goals {
    Goals {
        water_ml_per_day: m.water_ml_per_day,
        kcal_per_day: m.kcal_per_day,
        updated_at: Some(m.updated_at),
    }
}

/// The list query of one log: this user's entries in `range`, newest date then id first.
/// It is what `(user_id, date)` indexes exist for.
fn list<E: EntityTrait>(
    user_col: E::Column,
    date_col: E::Column,
    id_col: E::Column,
    user: UserId,
    range: DateRange,
    limit: u32,
) -> Select<E> {
    E::find()
        .filter(user_col.eq(user.get()))
        .filter(date_col.between(range.from(), range.to()))
        .order_by_desc(date_col)
        .order_by_desc(id_col)
        .limit(u64::from(limit))
}

fn list_water(user: UserId, range: DateRange, limit: u32) -> Select<water::Entity> {
    list::<water::Entity>(
        water::Column::UserId,
        water::Column::Date,
        water::Column::Id,
        user,
        range,
        limit,
    )
}

fn list_food(user: UserId, range: DateRange, limit: u32) -> Select<food::Entity> {
    list::<food::Entity>(
        food::Column::UserId,
        food::Column::Date,
        food::Column::Id,
        user,
        range,
        limit,
    )
}

fn list_workouts(user: UserId, range: DateRange, limit: u32) -> Select<workout::Entity> {
    list::<workout::Entity>(
        workout::Column::UserId,
        workout::Column::Date,
        workout::Column::Id,
        user,
        range,
        limit,
    )
}

/// SQLite: a page of the water list, newest date then id first, read backwards from
/// `idx_sport_water_user_date` alone (it covers the page: migration 12).
const WATER_ROWS: &str = "SELECT id, date, ml, created_at FROM sport_water \
     WHERE user_id = ? AND date BETWEEN ? AND ? ORDER BY date DESC, id DESC LIMIT ?";

fn water_rows_statement(user: UserId, range: DateRange, limit: u32) -> Statement {
    stmt(
        DatabaseBackend::Sqlite,
        WATER_ROWS,
        vec![
            user.get().into(),
            range.from().into(),
            range.to().into(),
            i64::from(limit).into(),
        ],
    )
}

/// SQLite: a page of the water list as JSON in the serde form of `WaterEntry`
/// (`{"id","date","ml","created_at"}`), written straight from the rows where SQLite
/// keeps them: no row becomes a model, no date is parsed and formatted again. `date` is
/// stored as serde writes it (`%F`); `created_at` as sqlx writes a `DateTime<Utc>`
/// (RFC 3339 with `+00:00`), which serde writes with `Z`, the only difference (any other
/// stored form is parsed and written by serde). Building the same text in SQL
/// (`json_group_array`) cost SQLite more than the read itself (`docs/benchmarks.md`).
/// The contract suite compares the two forms byte for byte, order included.
#[cfg(feature = "sqlite")]
fn water_json(
    conn: &rusqlite::Connection,
    user: UserId,
    range: DateRange,
    limit: u32,
) -> rusqlite::Result<Vec<u8>> {
    use std::io::Write as _;
    // Writing into a `Vec` does not fail; the conversions only satisfy the types.
    fn io(e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
        rusqlite::Error::ToSqlConversionFailure(Box::new(e))
    }
    let mut st = conn.prepare_cached(WATER_ROWS)?;
    let mut rows = st.query(rusqlite::params![
        user.get(),
        range.from().format("%F").to_string(),
        range.to().format("%F").to_string(),
        i64::from(limit),
    ])?;
    let mut out = Vec::with_capacity(96 * limit.min(100) as usize + 2);
    out.push(b'[');
    while let Some(r) = rows.next()? {
        if out.len() > 1 {
            out.push(b',');
        }
        let id: i64 = r.get(0)?;
        let date = r.get_ref(1)?.as_str()?;
        let ml: i64 = r.get(2)?;
        let at = r.get_ref(3)?.as_str()?;
        write!(out, "{{\"id\":{id},\"date\":").map_err(io)?;
        serde_json::to_writer(&mut out, date).map_err(io)?;
        write!(out, ",\"ml\":{ml},\"created_at\":").map_err(io)?;
        match at.strip_suffix("+00:00") {
            Some(utc)
                if utc
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b":.-".contains(&b)) =>
            {
                write!(out, "\"{utc}Z\"").map_err(io)?;
            }
            _ => {
                let t = chrono::DateTime::parse_from_rfc3339(at)
                    .map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(
                            3,
                            rusqlite::types::Type::Text,
                            Box::new(e),
                        )
                    })?
                    .with_timezone(&Utc);
                serde_json::to_writer(&mut out, &t).map_err(io)?;
            }
        }
        out.push(b'}');
    }
    out.push(b']');
    Ok(out)
}

/// Per-day sums of the three logs and the goals, as ONE statement (a `UNION ALL` of three
/// grouped index range scans and the goals row), whatever the length of the range.
fn totals_statement(backend: DatabaseBackend, user: UserId, range: DateRange) -> Statement {
    let sql = "\
        SELECT date AS day, 'w' AS k, COALESCE(SUM(ml), 0) AS a, 0 AS b, 0 AS c, 0 AS d \
          FROM sport_water WHERE user_id = ? AND date BETWEEN ? AND ? GROUP BY date \
        UNION ALL \
        SELECT date, 'f', COALESCE(SUM(kcal), 0), COALESCE(SUM(protein_dg), 0), \
               COALESCE(SUM(carbs_dg), 0), COALESCE(SUM(fat_dg), 0) \
          FROM sport_food WHERE user_id = ? AND date BETWEEN ? AND ? GROUP BY date \
        UNION ALL \
        SELECT date, 'o', COALESCE(SUM(kcal_burned), 0), 0, 0, 0 \
          FROM sport_workout WHERE user_id = ? AND date BETWEEN ? AND ? GROUP BY date \
        UNION ALL \
        SELECT NULL, 'g', water_ml_per_day, kcal_per_day, 0, 0 \
          FROM sport_goals WHERE user_id = ?";
    let (u, f, t) = (user.get(), range.from(), range.to());
    stmt(
        backend,
        sql,
        vec![
            u.into(),
            f.into(),
            t.into(),
            u.into(),
            f.into(),
            t.into(),
            u.into(),
            f.into(),
            t.into(),
            u.into(),
        ],
    )
}

/// The statements behind day lists, range lists and stats, for tests that check their
/// query plans use the `(user_id, date)` indexes.
#[must_use]
pub fn indexed_statements(
    backend: DatabaseBackend,
    day: NaiveDate,
) -> Vec<(&'static str, Statement)> {
    let user = UserId::new(1);
    let one = DateRange::day(day);
    let year = DateRange::new(day - chrono::Duration::days(365), day).unwrap_or(one);
    let mut statements = vec![
        ("water day list", list_water(user, one, 100).build(backend)),
        (
            "water range list",
            list_water(user, year, 100).build(backend),
        ),
        ("food range list", list_food(user, year, 100).build(backend)),
        (
            "workout range list",
            list_workouts(user, year, 100).build(backend),
        ),
        ("stats", totals_statement(backend, user, year)),
    ];
    if backend == DatabaseBackend::Sqlite {
        statements.push(("water list as JSON", water_rows_statement(user, year, 100)));
    }
    statements
}

#[async_trait::async_trait]
impl SportStore for SqlSportStore {
    async fn add_water(
        &self,
        user: UserId,
        new: &NewWater,
        write: Write,
    ) -> Result<WaterEntry, StoreError> {
        let now = write.now;
        append_txn(&self.db, user, write, async |txn| {
            let m = water::Entity::insert(water::ActiveModel {
                user_id: Set(user.get()),
                date: Set(new.date()),
                ml: Set(new.ml()),
                created_at: Set(now),
                ..Default::default()
            })
            .exec_with_returning(txn)
            .await
            .map_err(store_err)?;
            Ok((to_water(m.clone()), json!(m.id)))
        })
        .await
    }

    async fn add_food(
        &self,
        user: UserId,
        new: &NewFood,
        write: Write,
    ) -> Result<FoodEntry, StoreError> {
        let now = write.now;
        append_txn(&self.db, user, write, async |txn| {
            let m = food::Entity::insert(food::ActiveModel {
                user_id: Set(user.get()),
                date: Set(new.date()),
                name: Set(new.name().as_str().to_owned()),
                kcal: Set(new.kcal()),
                protein_dg: Set(new.protein().map(Grams::tenths)),
                carbs_dg: Set(new.carbs().map(Grams::tenths)),
                fat_dg: Set(new.fat().map(Grams::tenths)),
                created_at: Set(now),
                ..Default::default()
            })
            .exec_with_returning(txn)
            .await
            .map_err(store_err)?;
            Ok((to_food(m.clone()), json!(m.id)))
        })
        .await
    }

    async fn add_workout(
        &self,
        user: UserId,
        new: &NewWorkout,
        write: Write,
    ) -> Result<WorkoutEntry, StoreError> {
        let now = write.now;
        append_txn(&self.db, user, write, async |txn| {
            let m = workout::Entity::insert(workout::ActiveModel {
                user_id: Set(user.get()),
                date: Set(new.date()),
                name: Set(new.name().as_str().to_owned()),
                duration_min: Set(new.duration_min()),
                kcal_burned: Set(new.kcal_burned()),
                created_at: Set(now),
                ..Default::default()
            })
            .exec_with_returning(txn)
            .await
            .map_err(store_err)?;
            Ok((to_workout(m.clone()), json!(m.id)))
        })
        .await
    }

    async fn list_water(
        &self,
        user: UserId,
        range: DateRange,
        limit: u32,
    ) -> Result<Vec<WaterEntry>, StoreError> {
        let rows = list_water(user, range, limit)
            .all(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(rows.into_iter().map(to_water).collect())
    }

    async fn list_water_json(
        &self,
        user: UserId,
        range: DateRange,
        limit: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        #[cfg(feature = "sqlite")]
        if let Some(read) = self
            .db
            .sqlite_read(|conn| water_json(conn, user, range, limit))
        {
            return read.map(Some).map_err(store_err);
        }
        // PostgreSQL: the service lists the entries.
        #[cfg(not(feature = "sqlite"))]
        let _ = (user, range, limit);
        Ok(None)
    }

    async fn list_food(
        &self,
        user: UserId,
        range: DateRange,
        limit: u32,
    ) -> Result<Vec<FoodEntry>, StoreError> {
        let rows = list_food(user, range, limit)
            .all(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(rows.into_iter().map(to_food).collect())
    }

    async fn list_workouts(
        &self,
        user: UserId,
        range: DateRange,
        limit: u32,
    ) -> Result<Vec<WorkoutEntry>, StoreError> {
        let rows = list_workouts(user, range, limit)
            .all(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(rows.into_iter().map(to_workout).collect())
    }

    async fn delete_entry(
        &self,
        user: UserId,
        id: i64,
        event: Event,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let db = &self.db;
        match event.entity {
            "sport_water" => {
                remove_owned::<water::Entity>(
                    db,
                    user,
                    id,
                    event,
                    now,
                    (water::Column::Id, water::Column::UserId),
                )
                .await
            }
            "sport_food" => {
                remove_owned::<food::Entity>(
                    db,
                    user,
                    id,
                    event,
                    now,
                    (food::Column::Id, food::Column::UserId),
                )
                .await
            }
            _ => {
                remove_owned::<workout::Entity>(
                    db,
                    user,
                    id,
                    event,
                    now,
                    (workout::Column::Id, workout::Column::UserId),
                )
                .await
            }
        }
    }

    async fn goals(&self, user: UserId) -> Result<Goals, StoreError> {
        Ok(goals::Entity::find_by_id(user.get())
            .one(self.db.conn())
            .await
            .map_err(store_err)?
            .map_or(Goals::DEFAULT, to_goals))
    }

    async fn set_goals(&self, user: UserId, g: &Goals, write: Write) -> Result<Goals, StoreError> {
        let now = write.now;
        write_txn(&self.db, user, write, async |txn| {
            // `updated_at` is left to the trigger on update; an insert sets both stamps.
            goals::Entity::insert(goals::ActiveModel {
                user_id: Set(user.get()),
                water_ml_per_day: Set(g.water_ml_per_day),
                kcal_per_day: Set(g.kcal_per_day),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .on_conflict(
                OnConflict::column(goals::Column::UserId)
                    .update_columns([goals::Column::WaterMlPerDay, goals::Column::KcalPerDay])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await
            .map_err(store_err)?;
            let row = goals::Entity::find_by_id(user.get())
                .one(txn)
                .await
                .map_err(store_err)?
                .ok_or(StoreError::NotFound)?;
            Ok((to_goals(row), json!(user.get())))
        })
        .await
    }

    async fn day_totals(
        &self,
        user: UserId,
        range: DateRange,
    ) -> Result<(Vec<(NaiveDate, DayTotals)>, Goals), StoreError> {
        let c = self.db.conn();
        let rows = c
            .query_all_raw(totals_statement(c.get_database_backend(), user, range))
            .await
            .map_err(store_err)?;
        let mut days: std::collections::BTreeMap<NaiveDate, DayTotals> = Default::default();
        let mut current = Goals::DEFAULT;
        for r in rows {
            let kind: String = r.try_get("", "k").map_err(store_err)?;
            let n = |col: &str| r.try_get::<i64>("", col).map_err(store_err);
            let (a, b, cc, d) = (n("a")?, n("b")?, n("c")?, n("d")?);
            if kind == "g" {
                current = Goals {
                    water_ml_per_day: i32::try_from(a).unwrap_or(Goals::DEFAULT.water_ml_per_day),
                    kcal_per_day: i32::try_from(b).unwrap_or(Goals::DEFAULT.kcal_per_day),
                    updated_at: None,
                };
                continue;
            }
            let day: NaiveDate = r.try_get("", "day").map_err(store_err)?;
            let t = days.entry(day).or_default();
            match kind.as_str() {
                "w" => t.water_ml = a,
                "f" => {
                    t.kcal_in = a;
                    t.protein_tenths = b;
                    t.carbs_tenths = cc;
                    t.fat_tenths = d;
                }
                _ => t.kcal_burned = a,
            }
        }
        Ok((days.into_iter().collect(), current))
    }
}
