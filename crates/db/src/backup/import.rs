//! Import: one transaction for the whole document, one change-log entry for all of it.

use super::SqlBackupStore;
use crate::changelog::{Rollback, append, next_seq};
use crate::entity::{
    finance_category as category, finance_entry as entry, habit, habit_completion as done,
    habit_skip as skip, journal_entry as journal, sport_food as food, sport_goals as goals,
    sport_water as water, sport_workout as workout, travel_visited as visited,
    travel_wishlist as wish, user, user_setting,
};
use crate::error::store_err;
use crate::habits::schedule_json;
use crate::idempotency::save_in;
use ayubi_backup::import::{Import, Mode, Outcome, Stamps};
use ayubi_backup::merge::fresh;
use ayubi_backup::ports::{ImportOptions, ImportStore};
use ayubi_kernel::{StoreError, TimeZone, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, Iterable,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Bound parameters per multi-row INSERT: under SQLite's 32,766 and PostgreSQL's 65,535.
/// As many rows per statement as fit: every statement is a round trip, and with sqlx
/// 0.9 (no TCP_NODELAY on its sockets) a large statement can also wait out a 40 ms
/// delayed ACK, so fewer, larger statements import several times faster on PostgreSQL.
const PARAMS: usize = 30_000;

async fn insert_all<A>(txn: &DatabaseTransaction, rows: Vec<A>) -> Result<(), DbErr>
where
    A: ActiveModelTrait + Send,
{
    insert_weighed(txn, rows, |_| 0).await
}

/// Bytes of row data per statement: a statement is one message to the database, held
/// whole in memory on both sides. Journal entries of 100,000 characters would otherwise
/// make a 300 MB statement.
const STATEMENT_BYTES: usize = 4 * 1024 * 1024;

/// [`insert_all`] for rows whose size varies: `weigh` tells a row's large text in bytes.
async fn insert_weighed<A>(
    txn: &DatabaseTransaction,
    rows: Vec<A>,
    weigh: impl Fn(&A) -> usize,
) -> Result<(), DbErr>
where
    A: ActiveModelTrait + Send,
{
    let columns = <<A::Entity as EntityTrait>::Column as Iterable>::iter().count();
    let per_statement = (PARAMS / columns.max(1)).max(1);
    let mut batch: Vec<A> = Vec::new();
    let mut bytes = 0;
    for row in rows {
        let w = weigh(&row);
        if !batch.is_empty() && (batch.len() == per_statement || bytes + w > STATEMENT_BYTES) {
            A::Entity::insert_many(std::mem::take(&mut batch))
                .exec_without_returning(txn)
                .await?;
            bytes = 0;
        }
        bytes += w;
        batch.push(row);
    }
    if !batch.is_empty() {
        A::Entity::insert_many(batch)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Deletes every row of `user` in `E`; returns how many.
async fn clear<E: EntityTrait>(
    txn: &DatabaseTransaction,
    user_col: E::Column,
    user: UserId,
) -> Result<u64, DbErr> {
    Ok(E::delete_many()
        .filter(user_col.eq(user.get()))
        .exec(txn)
        .await?
        .rows_affected)
}

/// All of `user`'s rows of `E`.
async fn all<E: EntityTrait>(
    txn: &DatabaseTransaction,
    user_col: E::Column,
    user: UserId,
) -> Result<Vec<E::Model>, DbErr> {
    E::find().filter(user_col.eq(user.get())).all(txn).await
}

/// Why applying an import stopped.
enum Fail {
    Db(DbErr),
    /// The merge would leave more settings than a user may have.
    TooManySettings(String),
}

impl From<DbErr> for Fail {
    fn from(e: DbErr) -> Self {
        Self::Db(e)
    }
}

struct Ctx<'a> {
    txn: &'a DatabaseTransaction,
    user: UserId,
    mode: Mode,
    now: DateTime<Utc>,
    out: Outcome,
}

impl Ctx<'_> {
    fn created(&self, s: Stamps) -> DateTime<Utc> {
        s.created_at.unwrap_or(self.now)
    }

    fn updated(&self, s: Stamps) -> DateTime<Utc> {
        s.updated_at.or(s.created_at).unwrap_or(self.now)
    }

    fn deleted(&mut self, table: &'static str, n: u64) {
        *self.out.deleted.entry(table).or_default() += n;
    }

    fn replacing(&self) -> bool {
        self.mode == Mode::Replace
    }

    /// In replace mode, empties `E` for the user (counting under `table`) and returns no
    /// existing rows; in merge mode, returns the existing rows.
    async fn existing<E: EntityTrait>(
        &mut self,
        table: &'static str,
        user_col: E::Column,
    ) -> Result<Vec<E::Model>, DbErr> {
        if self.replacing() {
            let n = clear::<E>(self.txn, user_col, self.user).await?;
            self.deleted(table, n);
            Ok(Vec::new())
        } else {
            all::<E>(self.txn, user_col, self.user).await
        }
    }
}

#[async_trait::async_trait]
impl ImportStore for SqlBackupStore {
    async fn import(
        &self,
        user: UserId,
        import: &Import,
        options: ImportOptions,
    ) -> Result<Outcome, StoreError> {
        let ImportOptions { mode, dry_run, now } = options;
        let done = self
            .db
            .transact_as(user, async |txn| {
                // First write: takes this user's write lock, like every other write.
                let seq = next_seq(txn, user).await.map_err(store_err)?;
                let mut c = Ctx {
                    txn,
                    user,
                    mode,
                    now,
                    out: Outcome::for_tables(mode, dry_run, &import.tables()),
                };
                apply(&mut c, import).await.map_err(|e| match e {
                    Fail::Db(e) => store_err(e),
                    Fail::TooManySettings(m) => StoreError::Conflict(m),
                })?;
                let outcome = c.out;
                let data = serde_json::to_value(&outcome).unwrap_or_default();
                let change = append(
                    txn,
                    user,
                    seq,
                    ayubi_backup::IMPORTED,
                    &serde_json::Value::Null,
                    &data,
                    now,
                )
                .await
                .map_err(store_err)?;
                save_in(txn, &outcome).await?;
                if dry_run {
                    // Everything was checked and written as it would be; none of it kept.
                    return Err(Rollback::Answer(outcome));
                }
                Ok((outcome, change))
            })
            .await;
        match done {
            Ok((outcome, change)) => {
                self.db.committed(user, &change).await;
                Ok(outcome)
            }
            Err(Rollback::Answer(outcome)) => Ok(outcome),
            Err(Rollback::Failed(e)) => Err(e),
        }
    }
}

async fn apply(c: &mut Ctx<'_>, i: &Import) -> Result<(), Fail> {
    if let Some(p) = &i.profile {
        profile(c, p).await?;
    }
    if let Some(s) = &i.settings {
        settings(c, s).await?;
    }
    if let Some(g) = &i.goals {
        sport_goals(c, g.as_ref()).await?;
    }
    if let Some(rows) = &i.water {
        let have = c
            .existing::<water::Entity>("water", water::Column::UserId)
            .await?;
        let new = fresh(
            have.iter().map(|m| (m.date, m.ml)),
            rows.iter().map(|r| (r.row.date(), r.row.ml())),
        );
        c.out.count("water", &new);
        let models = rows
            .iter()
            .zip(&new)
            .filter(|(_, n)| **n)
            .map(|(r, _)| water::ActiveModel {
                user_id: Set(c.user.get()),
                date: Set(r.row.date()),
                ml: Set(r.row.ml()),
                created_at: Set(c.created(r.stamps)),
                ..Default::default()
            })
            .collect();
        insert_all(c.txn, models).await?;
    }
    if let Some(rows) = &i.food {
        let have = c
            .existing::<food::Entity>("food", food::Column::UserId)
            .await?;
        let key =
            |date: NaiveDate, name: &str, kcal, p, cb, f| (date, name.to_owned(), kcal, p, cb, f);
        let new = fresh(
            have.iter()
                .map(|m| key(m.date, &m.name, m.kcal, m.protein_dg, m.carbs_dg, m.fat_dg)),
            rows.iter().map(|r| {
                let t = |g: Option<ayubi_sport::Grams>| g.map(ayubi_sport::Grams::tenths);
                let f = &r.row;
                key(
                    f.date(),
                    f.name().as_str(),
                    f.kcal(),
                    t(f.protein()),
                    t(f.carbs()),
                    t(f.fat()),
                )
            }),
        );
        c.out.count("food", &new);
        let models = rows
            .iter()
            .zip(&new)
            .filter(|(_, n)| **n)
            .map(|(r, _)| food::ActiveModel {
                user_id: Set(c.user.get()),
                date: Set(r.row.date()),
                name: Set(r.row.name().as_str().to_owned()),
                kcal: Set(r.row.kcal()),
                protein_dg: Set(r.row.protein().map(ayubi_sport::Grams::tenths)),
                carbs_dg: Set(r.row.carbs().map(ayubi_sport::Grams::tenths)),
                fat_dg: Set(r.row.fat().map(ayubi_sport::Grams::tenths)),
                created_at: Set(c.created(r.stamps)),
                ..Default::default()
            })
            .collect();
        insert_all(c.txn, models).await?;
    }
    if let Some(rows) = &i.workouts {
        let have = c
            .existing::<workout::Entity>("workouts", workout::Column::UserId)
            .await?;
        let new = fresh(
            have.iter()
                .map(|m| (m.date, m.name.clone(), m.duration_min, m.kcal_burned)),
            rows.iter().map(|r| {
                let w = &r.row;
                (
                    w.date(),
                    w.name().as_str().to_owned(),
                    w.duration_min(),
                    w.kcal_burned(),
                )
            }),
        );
        c.out.count("workouts", &new);
        let models = rows
            .iter()
            .zip(&new)
            .filter(|(_, n)| **n)
            .map(|(r, _)| workout::ActiveModel {
                user_id: Set(c.user.get()),
                date: Set(r.row.date()),
                name: Set(r.row.name().as_str().to_owned()),
                duration_min: Set(r.row.duration_min()),
                kcal_burned: Set(r.row.kcal_burned()),
                created_at: Set(c.created(r.stamps)),
                ..Default::default()
            })
            .collect();
        insert_all(c.txn, models).await?;
    }
    travel(c, i).await?;
    if let Some(h) = &i.habits {
        habits(c, h).await?;
    }
    if let Some(f) = &i.finance {
        finance(c, f).await?;
    }
    if let Some(rows) = &i.journal {
        let have = c
            .existing::<journal::Entity>("journal", journal::Column::UserId)
            .await?;
        let tags = |t: &[String]| serde_json::json!(t).to_string();
        // Keys borrow the texts: an entry may be 100,000 characters.
        let new = fresh(
            have.iter().map(|m| {
                (
                    m.title.as_deref(),
                    m.content.as_str(),
                    m.date,
                    m.mood,
                    m.tags.clone(),
                )
            }),
            rows.iter().map(|r| {
                let e = &r.row;
                (
                    e.title(),
                    e.content(),
                    e.date(),
                    e.mood().map(i16::from),
                    tags(e.tags()),
                )
            }),
        );
        c.out.count("journal", &new);
        let models = rows
            .iter()
            .zip(&new)
            .filter(|(_, n)| **n)
            .map(|(r, _)| journal::ActiveModel {
                user_id: Set(c.user.get()),
                title: Set(r.row.title().map(str::to_owned)),
                content: Set(r.row.content().to_owned()),
                date: Set(r.row.date()),
                mood: Set(r.row.mood().map(i16::from)),
                tags: Set(tags(r.row.tags())),
                created_at: Set(c.created(r.stamps)),
                updated_at: Set(c.updated(r.stamps)),
                ..Default::default()
            })
            .collect();
        drop(have);
        insert_weighed(c.txn, models, |m: &journal::ActiveModel| match &m.content {
            sea_orm::ActiveValue::Set(text) => text.len(),
            _ => 0,
        })
        .await?;
    }
    Ok(())
}

/// Replace sets every profile field; merge fills only what the account lacks (a time
/// zone still at the default UTC counts as lacking). The email never changes.
async fn profile(c: &mut Ctx<'_>, p: &ayubi_settings::ProfilePatch) -> Result<(), Fail> {
    let u = user::Entity::find_by_id(c.user.get())
        .one(c.txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("user {}", c.user)))?;
    let replace = c.replacing();
    let pick = |current: &Option<String>, new: Option<Option<&str>>| match new {
        Some(v) if current.as_deref() != v && (replace || (current.is_none() && v.is_some())) => {
            Some(v.map(str::to_owned))
        }
        _ => None,
    };
    let mut am: user::ActiveModel = u.clone().into();
    let mut changed = false;
    if let Some(v) = pick(&u.display_name, p.display_name()) {
        am.display_name = Set(v);
        changed = true;
    }
    if let Some(v) = pick(&u.steam_id, p.steam_id()) {
        am.steam_id = Set(v);
        changed = true;
    }
    if let Some(v) = pick(&u.faceit_nickname, p.faceit_nickname()) {
        am.faceit_nickname = Set(v);
        changed = true;
    }
    if let Some(tz) = p.timezone()
        && tz.name() != u.timezone
        && (replace || u.timezone == TimeZone::UTC.name())
    {
        am.timezone = Set(tz.name().to_owned());
        changed = true;
    }
    if changed {
        am.updated_at = Set(c.now);
        am.update(c.txn).await?;
    }
    c.out.count("profile", &[changed]);
    Ok(())
}

async fn settings(c: &mut Ctx<'_>, rows: &[(String, serde_json::Value)]) -> Result<(), Fail> {
    let have = c
        .existing::<user_setting::Entity>("settings", user_setting::Column::UserId)
        .await?;
    let keys: HashSet<&str> = have.iter().map(|s| s.setting_key.as_str()).collect();
    let new: Vec<bool> = rows
        .iter()
        .map(|(k, _)| !keys.contains(k.as_str()))
        .collect();
    let total = have.len() + new.iter().filter(|n| **n).count();
    if total > ayubi_settings::MAX_KEYS {
        return Err(Fail::TooManySettings(format!(
            "the merge would leave {total} settings; at most {} are kept",
            ayubi_settings::MAX_KEYS
        )));
    }
    c.out.count("settings", &new);
    let models = rows
        .iter()
        .zip(&new)
        .filter(|(_, n)| **n)
        .map(|((k, v), _)| user_setting::ActiveModel {
            user_id: Set(c.user.get()),
            setting_key: Set(k.clone()),
            setting_value: Set(v.to_string()),
            created_at: Set(c.now),
            updated_at: Set(c.now),
            ..Default::default()
        })
        .collect();
    Ok(insert_all(c.txn, models).await?)
}

async fn sport_goals(
    c: &mut Ctx<'_>,
    g: Option<&ayubi_backup::import::Stamped<ayubi_sport::Goals>>,
) -> Result<(), Fail> {
    let have = c
        .existing::<goals::Entity>("goals", goals::Column::UserId)
        .await?;
    let Some(g) = g else {
        // `null`: the defaults. Replace has just removed any stored goals.
        return Ok(());
    };
    let new = have.is_empty();
    c.out.count("goals", &[new]);
    if new {
        goals::ActiveModel {
            user_id: Set(c.user.get()),
            water_ml_per_day: Set(g.row.water_ml_per_day),
            kcal_per_day: Set(g.row.kcal_per_day),
            created_at: Set(c.now),
            updated_at: Set(c.updated(g.stamps)),
        }
        .insert(c.txn)
        .await?;
    }
    Ok(())
}

/// Visits first: a visited country leaves the wishlist (the travel rule), so wishlist
/// entries for visited countries are skipped and visits remove them.
async fn travel(c: &mut Ctx<'_>, i: &Import) -> Result<(), Fail> {
    let mut visited_now: HashSet<String> = HashSet::new();
    if let Some(rows) = &i.visited {
        let have = c
            .existing::<visited::Entity>("visited", visited::Column::UserId)
            .await?;
        visited_now.extend(have.into_iter().map(|m| m.country_iso3));
        let new: Vec<bool> = rows
            .iter()
            .map(|r| !visited_now.contains(&r.row.country().iso3))
            .collect();
        c.out.count("visited", &new);
        let mut models = Vec::new();
        let mut codes = Vec::new();
        for (r, _) in rows.iter().zip(&new).filter(|(_, n)| **n) {
            codes.push(r.row.country().iso3.clone());
            models.push(visited::ActiveModel {
                user_id: Set(c.user.get()),
                country_iso3: Set(r.row.country().iso3.clone()),
                visit_date: Set(r.row.visit_date()),
                notes: Set(r.row.notes().map(str::to_owned)),
                created_at: Set(c.created(r.stamps)),
                ..Default::default()
            });
        }
        insert_all(c.txn, models).await?;
        if !codes.is_empty() {
            let gone = wish::Entity::delete_many()
                .filter(wish::Column::UserId.eq(c.user.get()))
                .filter(wish::Column::CountryIso3.is_in(codes.clone()))
                .exec(c.txn)
                .await?
                .rows_affected;
            if gone > 0 {
                c.deleted("wishlist", gone);
            }
        }
        visited_now.extend(codes);
    } else if i.wishlist.is_some() {
        visited_now.extend(
            all::<visited::Entity>(c.txn, visited::Column::UserId, c.user)
                .await?
                .into_iter()
                .map(|m| m.country_iso3),
        );
    }
    if let Some(rows) = &i.wishlist {
        let have = c
            .existing::<wish::Entity>("wishlist", wish::Column::UserId)
            .await?;
        let listed: HashSet<String> = have.into_iter().map(|m| m.country_iso3).collect();
        let new: Vec<bool> = rows
            .iter()
            .map(|r| !listed.contains(&r.row.iso3) && !visited_now.contains(&r.row.iso3))
            .collect();
        c.out.count("wishlist", &new);
        let models = rows
            .iter()
            .zip(&new)
            .filter(|(_, n)| **n)
            .map(|(r, _)| wish::ActiveModel {
                user_id: Set(c.user.get()),
                country_iso3: Set(r.row.iso3.clone()),
                added_at: Set(c.created(r.stamps)),
                ..Default::default()
            })
            .collect();
        insert_all(c.txn, models).await?;
    }
    Ok(())
}

/// A habit of the document is the user's habit of the same name (each existing habit
/// matched at most once); its days merge into it.
async fn habits(c: &mut Ctx<'_>, rows: &[ayubi_backup::import::HabitImport]) -> Result<(), Fail> {
    if c.replacing() {
        // Counted before the habits go: their days go with them (ON DELETE CASCADE).
        let u = c.user.get();
        let d = done::Entity::find()
            .filter(done::Column::UserId.eq(u))
            .count(c.txn)
            .await?;
        let s = skip::Entity::find()
            .filter(skip::Column::UserId.eq(u))
            .count(c.txn)
            .await?;
        c.deleted("habit_completions", d);
        c.deleted("habit_skips", s);
    }
    let have = c
        .existing::<habit::Entity>("habits", habit::Column::UserId)
        .await?;
    let mut by_name: HashMap<String, Vec<i64>> = HashMap::new();
    for h in have.iter().rev() {
        by_name.entry(h.name.clone()).or_default().push(h.id);
    }
    let mut days_done = Vec::new();
    let mut days_skipped = Vec::new();
    for h in rows {
        let id = match by_name.get_mut(h.fields.name()).and_then(Vec::pop) {
            Some(id) => {
                c.out.count("habits", &[false]);
                id
            }
            None => {
                c.out.count("habits", &[true]);
                habit::ActiveModel {
                    user_id: Set(c.user.get()),
                    name: Set(h.fields.name().to_owned()),
                    description: Set(h.fields.description().map(str::to_owned)),
                    schedule: Set(schedule_json(h.fields.schedule()).to_string()),
                    archived: Set(h.fields.archived()),
                    created_at: Set(c.created(h.stamps)),
                    updated_at: Set(c.updated(h.stamps)),
                    ..Default::default()
                }
                .insert(c.txn)
                .await?
                .id
            }
        };
        let have_done: BTreeSet<NaiveDate> = done::Entity::find()
            .filter(done::Column::HabitId.eq(id))
            .order_by_asc(done::Column::CompletionDate)
            .all(c.txn)
            .await?
            .into_iter()
            .map(|d| d.completion_date)
            .collect();
        let have_skips: BTreeSet<NaiveDate> = skip::Entity::find()
            .filter(skip::Column::HabitId.eq(id))
            .all(c.txn)
            .await?
            .into_iter()
            .map(|d| d.skip_date)
            .collect();
        let new: Vec<bool> = h
            .completions
            .iter()
            .map(|d| !have_done.contains(d))
            .collect();
        c.out.count("habit_completions", &new);
        for (d, _) in h.completions.iter().zip(&new).filter(|(_, n)| **n) {
            days_done.push(done::ActiveModel {
                habit_id: Set(id),
                user_id: Set(c.user.get()),
                completion_date: Set(*d),
                created_at: Set(c.now),
                ..Default::default()
            });
        }
        let new: Vec<bool> = h.skips.iter().map(|d| !have_skips.contains(d)).collect();
        c.out.count("habit_skips", &new);
        for (d, _) in h.skips.iter().zip(&new).filter(|(_, n)| **n) {
            days_skipped.push(skip::ActiveModel {
                habit_id: Set(id),
                user_id: Set(c.user.get()),
                skip_date: Set(*d),
                created_at: Set(c.now),
                ..Default::default()
            });
        }
    }
    insert_all(c.txn, days_done).await?;
    Ok(insert_all(c.txn, days_skipped).await?)
}

/// Categories match by kind and name; entries then compare with their category
/// resolved to the user's own id.
async fn finance(c: &mut Ctx<'_>, f: &ayubi_backup::import::FinanceImport) -> Result<(), Fail> {
    // Entries go first on replace: they hold the categories' foreign keys.
    let have_entries = c
        .existing::<entry::Entity>("finance_entries", entry::Column::UserId)
        .await?;
    let have_cats = c
        .existing::<category::Entity>("finance_categories", category::Column::UserId)
        .await?;
    let by_key: HashMap<(String, String), i64> = have_cats
        .iter()
        .map(|m| ((m.kind.clone(), m.name.clone()), m.id))
        .collect();
    let mut ids = Vec::with_capacity(f.categories.len());
    for cat in &f.categories {
        let key = (
            cat.row.kind().as_str().to_owned(),
            cat.row.name().to_owned(),
        );
        match by_key.get(&key) {
            Some(id) => {
                c.out.count("finance_categories", &[false]);
                ids.push(*id);
            }
            None => {
                c.out.count("finance_categories", &[true]);
                let m = category::ActiveModel {
                    user_id: Set(c.user.get()),
                    name: Set(cat.row.name().to_owned()),
                    kind: Set(key.0),
                    created_at: Set(c.created(cat.stamps)),
                    updated_at: Set(c.updated(cat.stamps)),
                    ..Default::default()
                }
                .insert(c.txn)
                .await?;
                ids.push(m.id);
            }
        }
    }
    let resolved: Vec<Option<i64>> = f
        .entries
        .iter()
        .map(|e| e.category.and_then(|at| ids.get(at).copied()))
        .collect();
    let new = fresh(
        have_entries.iter().map(|m| {
            (
                m.kind.clone(),
                m.amount_minor,
                m.currency.clone(),
                m.category_id,
                m.date,
                m.note.clone(),
            )
        }),
        f.entries.iter().zip(&resolved).map(|(e, cat)| {
            let x = &e.fields;
            (
                x.kind().as_str().to_owned(),
                x.amount().minor(),
                x.currency().as_str().to_owned(),
                *cat,
                x.date(),
                x.note().map(str::to_owned),
            )
        }),
    );
    c.out.count("finance_entries", &new);
    let models = f
        .entries
        .iter()
        .zip(&resolved)
        .zip(&new)
        .filter(|(_, n)| **n)
        .map(|((e, cat), _)| entry::ActiveModel {
            user_id: Set(c.user.get()),
            kind: Set(e.fields.kind().as_str().to_owned()),
            amount_minor: Set(e.fields.amount().minor()),
            currency: Set(e.fields.currency().as_str().to_owned()),
            category_id: Set(*cat),
            date: Set(e.fields.date()),
            note: Set(e.fields.note().map(str::to_owned)),
            created_at: Set(c.created(e.stamps)),
            updated_at: Set(c.updated(e.stamps)),
            ..Default::default()
        })
        .collect();
    Ok(insert_all(c.txn, models).await?)
}
