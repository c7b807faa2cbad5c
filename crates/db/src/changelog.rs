//! The change log: appended inside every write transaction, read by sync clients.

use crate::entity::{change_log as row, user};
use crate::error::store_err;
use crate::idempotency::save_in;
use crate::pool::Database;
use crate::sql::stmt;
use ayubi_kernel::{Event, StoreError, TimeZone, UserId, UserTimeZones, Write};
use ayubi_sync::{Change, ChangeLog, ChangePage};
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

/// Allocates the user's next `seq`. It must be the transaction's first write: on
/// PostgreSQL the row lock it takes serialises this user's writers until commit; on
/// SQLite it takes the write lock before anything is read, so no snapshot goes stale.
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

/// Records a write besides its rows: the change-log entry (with `seq`, allocated by the
/// caller as its first write) and the idempotent response, in the caller's transaction.
pub(crate) async fn record<C: ConnectionTrait, T: 'static>(
    c: &C,
    db: &Database,
    user: UserId,
    seq: i64,
    write: Write,
    written: &T,
    id: serde_json::Value,
) -> Result<Change, StoreError> {
    let data = db.representations().render(written)?;
    let change = append(c, user, seq, write.event, &id, &data, write.now)
        .await
        .map_err(store_err)?;
    save_in(c, written).await?;
    Ok(change)
}

/// One write transaction: allocate the user's `seq` first, run `rows` (which returns the
/// written value and its id), record the change and the saved response, commit, then
/// announce the change. Any error drops the transaction: no rows, no `seq` consumed.
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
    let (turn, txn) = db.begin_write().await.map_err(store_err)?;
    let seq = next_seq(&txn, user).await.map_err(store_err)?;
    let mut extra = Vec::new();
    let (written, id) = rows(&txn, &mut extra).await?;
    let change = record(&txn, db, user, seq, write, &written, id).await?;
    txn.commit().await.map_err(store_err)?;
    drop(turn);
    db.committed(user, &change).await;
    for change in &extra {
        db.committed(user, change).await;
    }
    Ok(written)
}

/// One delete transaction: allocate the `seq`, run `delete` (returning rows deleted);
/// none → [`StoreError::NotFound`] and nothing recorded; else record `event` with
/// `{"id": id}` and commit.
pub(crate) async fn delete_txn(
    db: &Database,
    user: UserId,
    event: Event,
    id: serde_json::Value,
    now: DateTime<Utc>,
    delete: impl AsyncFnOnce(&DatabaseTransaction) -> Result<u64, DbErr>,
) -> Result<(), StoreError> {
    let (turn, txn) = db.begin_write().await.map_err(store_err)?;
    let seq = next_seq(&txn, user).await.map_err(store_err)?;
    if delete(&txn).await.map_err(store_err)? == 0 {
        return Err(StoreError::NotFound);
    }
    let data = serde_json::json!({ "id": id });
    let change = append(&txn, user, seq, event, &id, &data, now)
        .await
        .map_err(store_err)?;
    txn.commit().await.map_err(store_err)?;
    drop(turn);
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
