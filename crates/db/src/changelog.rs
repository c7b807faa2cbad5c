//! The change log: appended inside every write transaction, read by sync clients.

use crate::entity::{change_log as row, user};
use crate::error::is_unique_violation;
use crate::error::store_err;
use crate::group::Closing;
use crate::idempotency::{SavedRow, save_in, take_saved};
use crate::pool::Database;
use crate::sql::stmt;
use ayubi_kernel::{Event, StoreError, TimeZone, UserId, UserTimeZones, Write};
use ayubi_sync::{Change, ChangeLog, ChangePage};
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// How a write transaction that is rolled back ends: a failure, or an answer that needs
/// nothing kept (a mark of a day already marked, a dry run).
#[derive(Debug)]
pub(crate) enum Rollback<T> {
    /// The write failed.
    Failed(StoreError),
    /// Nothing to keep; the caller answers with this.
    Answer(T),
}

impl<T> From<StoreError> for Rollback<T> {
    fn from(e: StoreError) -> Self {
        Self::Failed(e)
    }
}

/// Allocates the user's next `seq`, inside a transaction of the group-commit writer
/// ([`Database::transact_as`]), whose batch already holds the user's lock (PostgreSQL's
/// row lock, SQLite's write lock), so `seq`s are handed out in commit order.
pub(crate) async fn next_seq<C: ConnectionTrait>(c: &C, user: UserId) -> Result<i64, DbErr> {
    let st = stmt(
        c.get_database_backend(),
        "UPDATE users SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq",
        vec![user.get().into()],
    );
    let row = c
        .query_one_raw(st)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("user {user}")))?;
    row.try_get("", "last_seq")
}

/// Appends one change with a freshly allocated `seq`; returns it, for the notifier to
/// announce once the transaction commits.
pub(crate) async fn append<C: ConnectionTrait>(
    c: &C,
    user: UserId,
    seq: i64,
    event: Event,
    id: &serde_json::Value,
    data: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<Change, DbErr> {
    // Stored at microseconds (PostgreSQL's precision), so a change sent live and the same
    // change replayed from the log are byte-identical.
    let now = now.trunc_subsecs(6);
    row::Entity::insert(row::ActiveModel {
        user_id: Set(user.get()),
        seq: Set(seq),
        event: Set(event.name.to_owned()),
        entity: Set(event.entity.to_owned()),
        entity_id: Set(id.to_string()),
        data: Set(data.to_string()),
        created_at: Set(now),
    })
    .exec_without_returning(c)
    .await?;
    Ok(Change {
        seq,
        event: event.name.to_owned(),
        entity: event.entity.to_owned(),
        id: id.clone(),
        data: data.clone(),
        at: now,
    })
}

/// One write transaction: allocate the user's `seq` first, run `rows` (which returns the
/// written value and its id), record the change and the saved response, commit, then
/// announce the change. Any error drops the transaction: no rows, no `seq` consumed.
///
/// The user's writers are serialised from the transaction's start either way (SQLite's
/// write lock at `BEGIN IMMEDIATE`, PostgreSQL's batch taking the user's row lock first,
/// `group.rs`), which writes that read before they write (an update, a patch) rely on.
/// The `seq` first puts the main change before the further ones a write records
/// ([`write_txn_with`]); a write that records one change and only inserts or deletes
/// takes [`append_txn`], one round trip fewer.
pub(crate) async fn write_txn<T: 'static>(
    db: &Database,
    user: UserId,
    write: Write,
    rows: impl AsyncFnOnce(&DatabaseTransaction) -> Result<(T, serde_json::Value), StoreError>,
) -> Result<T, StoreError> {
    write_txn_with(db, user, write, async |txn, _| rows(txn).await).await
}

/// [`write_txn`] for a write that records further changes of its own (appending them to
/// the `Vec` it is given, after allocating their `seq`s with [`next_seq`]); they commit and
/// are announced with the main one, in `seq` order.
pub(crate) async fn write_txn_with<T: 'static>(
    db: &Database,
    user: UserId,
    write: Write,
    rows: impl AsyncFnOnce(
        &DatabaseTransaction,
        &mut Vec<Change>,
    ) -> Result<(T, serde_json::Value), StoreError>,
) -> Result<T, StoreError> {
    logged_txn(db, user, write, SeqAt::First, rows).await
}

/// A write that only inserts (or deletes) its rows: they go first, and the `seq`
/// is allocated with the change-log entry in the write's last statement — one round trip
/// for the `seq`, the entry, the saved response and (on SQLite) the savepoint's end.
pub(crate) async fn append_txn<T: 'static>(
    db: &Database,
    user: UserId,
    write: Write,
    rows: impl AsyncFnOnce(&DatabaseTransaction) -> Result<(T, serde_json::Value), StoreError>,
) -> Result<T, StoreError> {
    logged_txn(db, user, write, SeqAt::Last, async |txn, _| rows(txn).await).await
}

/// Where a write's `seq` is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SeqAt {
    /// Its first statement (see [`write_txn`]).
    First,
    /// With the change-log entry (see [`append_txn`]).
    Last,
}

async fn logged_txn<T: 'static>(
    db: &Database,
    user: UserId,
    write: Write,
    at: SeqAt,
    rows: impl AsyncFnOnce(
        &DatabaseTransaction,
        &mut Vec<Change>,
    ) -> Result<(T, serde_json::Value), StoreError>,
) -> Result<T, StoreError> {
    let mut extra = Vec::new();
    let ((written, entry), returned) = db
        .transact_closing(Some(user), async |txn| {
            let seq = if at == SeqAt::Last {
                None
            } else {
                Some(next_seq(txn, user).await.map_err(store_err)?)
            };
            let (written, id) = rows(txn, &mut extra).await?;
            let entry = Entry {
                event: write.event,
                data: db.representations().render(&written)?,
                id,
                at: write.now.trunc_subsecs(6),
            };
            // PostgreSQL: the saved response in a statement of its own (its upsert tells a
            // live key apart); SQLite: in the closing round trip.
            let backend = txn.get_database_backend();
            let saved = if backend == DatabaseBackend::Postgres {
                save_in(txn, &written).await?;
                None
            } else {
                take_saved(&written)?
            };
            let closing = closing(backend, user, seq, &entry, saved);
            Ok(((written, entry), Some(closing)))
        })
        .await?;
    let change = entry.change(seq_in(&returned)?);
    announce(db, user, change, extra).await;
    Ok(written)
}

/// After the commit: every change of the write, in `seq` order.
async fn announce(db: &Database, user: UserId, change: Change, mut extra: Vec<Change>) {
    extra.push(change);
    extra.sort_by_key(|c| c.seq);
    for change in &extra {
        db.committed(user, change).await;
    }
}

/// A change-log entry before its `seq` is known.
#[derive(Debug)]
struct Entry {
    event: Event,
    id: serde_json::Value,
    data: serde_json::Value,
    /// At microseconds (PostgreSQL's precision), so a change sent live and the same
    /// change replayed from the log are byte-identical.
    at: DateTime<Utc>,
}

impl Entry {
    fn change(self, seq: i64) -> Change {
        Change {
            seq,
            event: self.event.name.to_owned(),
            entity: self.event.entity.to_owned(),
            id: self.id,
            data: self.data,
            at: self.at,
        }
    }
}

/// The `seq` the closing statements returned.
fn seq_in(rows: &[sea_orm::QueryResult]) -> Result<i64, StoreError> {
    rows.iter()
        .find_map(|r| r.try_get::<i64>("", "seq").ok())
        .ok_or_else(|| StoreError::Unavailable("the change-log entry returned no seq".into()))
}

/// The statements that end a write: its change-log entry (allocating the `seq` when
/// `seq` is `None`) and, on SQLite, its saved response (PostgreSQL saves it before, with
/// [`save_in`]).
///
/// SQLite runs them as one `;`-separated batch (one round trip; the group writer adds the
/// savepoint's end). A live saved response under the key makes the last `INSERT` fail on
/// the primary key, so nothing after it (the `RELEASE`) runs; an expired one is deleted
/// first. PostgreSQL takes one statement, with the `seq` allocated in a data-modifying CTE
/// when it is not yet.
fn closing(
    backend: DatabaseBackend,
    user: UserId,
    seq: Option<i64>,
    e: &Entry,
    saved: Option<SavedRow>,
) -> Closing {
    let u: sea_orm::Value = user.get().into();
    let entry: [sea_orm::Value; 5] = [
        e.event.name.into(),
        e.event.entity.into(),
        e.id.to_string().into(),
        e.data.to_string().into(),
        e.at.into(),
    ];
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(20);
    let mut sql = String::with_capacity(512);
    const COLUMNS: &str =
        "INSERT INTO change_log (user_id, seq, event, entity, entity_id, data, created_at)";
    match (seq, backend == DatabaseBackend::Postgres) {
        (Some(seq), _) => {
            sql.push_str(COLUMNS);
            sql.push_str(" VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq");
            values.extend([u.clone(), seq.into()]);
            values.extend(entry);
        }
        (None, false) => {
            sql.push_str(COLUMNS);
            sql.push_str(
                " SELECT ?, last_seq + 1, ?, ?, ?, ?, ? FROM users WHERE id = ? RETURNING seq; \
                 UPDATE users SET last_seq = last_seq + 1 WHERE id = ?",
            );
            values.push(u.clone());
            values.extend(entry);
            values.extend([u.clone(), u.clone()]);
        }
        (None, true) => {
            sql.push_str(
                "WITH s AS (UPDATE users SET last_seq = last_seq + 1 WHERE id = ? \
                 RETURNING last_seq) ",
            );
            sql.push_str(COLUMNS);
            sql.push_str(" SELECT ?, s.last_seq, ?, ?, ?, ?, ? FROM s RETURNING seq");
            values.extend([u.clone(), u.clone()]);
            values.extend(entry);
        }
    }
    if let Some(r) = saved {
        sql.push_str(
            "; DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? AND created_at < ?; \
             INSERT INTO idempotency_keys (user_id, key, fingerprint, status, body, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        );
        values.extend([
            r.user.get().into(),
            r.key.clone().into(),
            r.expired_before.into(),
            r.user.get().into(),
            r.key.into(),
            r.fingerprint.into(),
            i16::try_from(r.response.status).unwrap_or(500).into(),
            r.response.body.into(),
            r.now.into(),
        ]);
    }
    Closing {
        statement: stmt(backend, &sql, values),
        error: closing_error,
    }
}

/// A unique violation of the saved response's key: a concurrent request with the same key
/// saved first (SQLite: the closing statements insert it; PostgreSQL's upsert in
/// [`save_in`] reports the race itself).
fn closing_error(e: DbErr) -> StoreError {
    if is_unique_violation(&e) && e.to_string().contains("idempotency_keys") {
        StoreError::IdempotencyRace
    } else {
        store_err(e)
    }
}

/// One delete transaction: run `delete` (returning rows deleted); none →
/// [`StoreError::NotFound`] and nothing recorded; else record `event` with `{"id": id}`
/// (the `seq` allocated with the entry, as [`append_txn`] does) and commit.
pub(crate) async fn delete_txn(
    db: &Database,
    user: UserId,
    event: Event,
    id: serde_json::Value,
    now: DateTime<Utc>,
    delete: impl AsyncFnOnce(&DatabaseTransaction) -> Result<u64, DbErr>,
) -> Result<(), StoreError> {
    let (entry, returned) = db
        .transact_closing(Some(user), async |txn| {
            if delete(txn).await.map_err(store_err)? == 0 {
                return Err(StoreError::NotFound);
            }
            let entry = Entry {
                event,
                data: serde_json::json!({ "id": id }),
                id,
                at: now.trunc_subsecs(6),
            };
            let closing = closing(txn.get_database_backend(), user, None, &entry, None);
            Ok((entry, Some(closing)))
        })
        .await?;
    let change = entry.change(seq_in(&returned)?);
    db.committed(user, &change).await;
    Ok(())
}

/// Deletes row `id` of `E` if it belongs to `user`; returns how many rows went (0 or 1).
pub(crate) async fn delete_owned<E: EntityTrait, C: ConnectionTrait>(
    c: &C,
    (id_col, user_col): (E::Column, E::Column),
    id: i64,
    user: UserId,
) -> Result<u64, DbErr> {
    let res = E::delete_many()
        .filter(id_col.eq(id))
        .filter(user_col.eq(user.get()))
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}

/// Deletes the user's row `id` of `E` and records `event` with `{"id": id}`, in one
/// transaction; [`StoreError::NotFound`] (nothing recorded) when the user has no such row.
pub(crate) async fn remove_owned<E: EntityTrait>(
    db: &Database,
    user: UserId,
    id: i64,
    event: Event,
    now: DateTime<Utc>,
    cols: (E::Column, E::Column),
) -> Result<(), StoreError> {
    delete_txn(db, user, event, serde_json::json!(id), now, async |txn| {
        delete_owned::<E, _>(txn, cols, id, user).await
    })
    .await
}

/// Reads the change log.
#[derive(Debug, Clone)]
pub struct SqlChangeLog {
    db: Database,
}

impl SqlChangeLog {
    /// Wraps the pool.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl ChangeLog for SqlChangeLog {
    async fn since(&self, user: UserId, since: i64, limit: u32) -> Result<ChangePage, StoreError> {
        // Three reads without a shared snapshot, in an order that never makes a live
        // cursor look lost: `latest` first (every change up to it is committed), then the
        // rows, then the oldest kept. A write landing in between can only add rows after
        // `latest`; only a purge can make `oldest` skip past the cursor.
        let c = self.db.conn();
        let latest: i64 = user::Entity::find_by_id(user.get())
            .select_only()
            .column(user::Column::LastSeq)
            .into_tuple::<i64>()
            .one(c)
            .await
            .map_err(store_err)?
            .unwrap_or(0);
        let rows = since_query(user, since, limit)
            .all(c)
            .await
            .map_err(store_err)?;
        let oldest: Option<i64> = row::Entity::find()
            .select_only()
            .column_as(row::Column::Seq.min(), "oldest")
            .filter(row::Column::UserId.eq(user.get()))
            .into_tuple::<Option<i64>>()
            .one(c)
            .await
            .map_err(store_err)?
            .flatten();
        let latest = rows.last().map_or(latest, |r| r.seq.max(latest));
        let changes = rows
            .into_iter()
            .map(|r| Change {
                seq: r.seq,
                event: r.event,
                entity: r.entity,
                id: serde_json::from_str(&r.entity_id).unwrap_or(serde_json::Value::Null),
                data: serde_json::from_str(&r.data).unwrap_or(serde_json::Value::Null),
                at: r.created_at,
            })
            .collect();
        Ok(ChangePage {
            changes,
            oldest_kept: oldest,
            latest,
        })
    }

    async fn latest(&self, users: &[UserId]) -> Result<Vec<(UserId, i64)>, StoreError> {
        let mut out = Vec::with_capacity(users.len());
        // Chunked: SQLite caps bound parameters, and one huge IN list plans badly.
        for chunk in users.chunks(500) {
            let rows: Vec<(i64, i64)> = user::Entity::find()
                .select_only()
                .column(user::Column::Id)
                .column(user::Column::LastSeq)
                .filter(user::Column::Id.is_in(chunk.iter().map(|u| u.get())))
                .into_tuple()
                .all(self.db.conn())
                .await
                .map_err(store_err)?;
            out.extend(rows.into_iter().map(|(id, seq)| (UserId::new(id), seq)));
        }
        Ok(out)
    }

    async fn purge(&self, before: DateTime<Utc>, keep_latest: u32) -> Result<u64, StoreError> {
        // `seq` is gap-free per user, so "the newest N" is `seq > last_seq - N`: no window
        // function, the same statement on both databases, served by the `created_at`
        // index and the primary key.
        let st = stmt(
            self.db.conn().get_database_backend(),
            "DELETE FROM change_log WHERE created_at < ? \
             AND seq <= (SELECT u.last_seq FROM users u WHERE u.id = change_log.user_id) - ?",
            vec![before.into(), i64::from(keep_latest).into()],
        );
        let res = self.db.conn().execute_raw(st).await.map_err(store_err)?;
        Ok(res.rows_affected())
    }
}

/// Reads users' time zones (the profile's `timezone`).
#[derive(Debug, Clone)]
pub struct SqlTimeZones {
    db: Database,
}

impl SqlTimeZones {
    /// Wraps the pool.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl UserTimeZones for SqlTimeZones {
    async fn time_zone(&self, user: UserId) -> Result<TimeZone, StoreError> {
        let name: String = user::Entity::find_by_id(user.get())
            .select_only()
            .column(user::Column::Timezone)
            .into_tuple::<String>()
            .one(self.db.conn())
            .await
            .map_err(store_err)?
            .ok_or(StoreError::NotFound)?;
        // Stored names were validated on the way in; an unknown one (a zone removed from a
        // later tz database) falls back to UTC rather than failing every request.
        Ok(TimeZone::parse(&name).unwrap_or_default())
    }
}

/// A user's changes after `since`, oldest first (along the `(user_id, seq)` key).
pub(crate) fn since_query(user: UserId, since: i64, limit: u32) -> sea_orm::Select<row::Entity> {
    row::Entity::find()
        .filter(row::Column::UserId.eq(user.get()))
        .filter(row::Column::Seq.gt(since))
        .order_by_asc(row::Column::Seq)
        .limit(u64::from(limit))
}
