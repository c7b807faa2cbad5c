//! Stored backups' records and schedules, with the lease that lets exactly one instance
//! run a user's scheduled backup.

use super::SqlBackupStore;
use crate::entity::{backup as row, backup_schedule as sched};
use crate::error::store_err;
use crate::idempotency::save_in;
use ayubi_backup::ports::{BackupRecords, NewBackup, StoredBackup, Trigger};
use ayubi_backup::{Interval, Keep, Schedule};
use ayubi_kernel::{StoreError, UserId};
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

fn to_stored(m: row::Model) -> StoredBackup {
    StoredBackup {
        id: m.id,
        created_at: m.created_at,
        trigger: if m.trigger == "scheduled" {
            Trigger::Scheduled
        } else {
            Trigger::Manual
        },
        size_bytes: m.size_bytes,
        sha256: m.sha256,
        object_key: m.object_key,
    }
}

fn to_schedule(m: &sched::Model) -> Schedule {
    Schedule {
        interval: Interval::parse(&m.interval).unwrap_or(Interval::Off),
        keep: Keep::new(m.keep.into()).unwrap_or_default(),
        next_run_at: m.next_run_at,
    }
}

#[async_trait::async_trait]
impl BackupRecords for SqlBackupStore {
    async fn record(&self, user: UserId, b: NewBackup) -> Result<StoredBackup, StoreError> {
        self.db
            .transact(async |txn| {
                let m = row::Entity::insert(row::ActiveModel {
                    user_id: Set(user.get()),
                    created_at: Set(b.created_at),
                    trigger: Set(b.trigger.as_str().to_owned()),
                    size_bytes: Set(b.size_bytes),
                    sha256: Set(b.sha256),
                    object_key: Set(b.object_key),
                    ..Default::default()
                })
                .exec_with_returning(txn)
                .await
                .map_err(store_err)?;
                let stored = to_stored(m);
                save_in(txn, &stored).await?;
                Ok(stored)
            })
            .await
    }

    async fn list(&self, user: UserId, limit: u64) -> Result<Vec<StoredBackup>, StoreError> {
        Ok(row::Entity::find()
            .filter(row::Column::UserId.eq(user.get()))
            .order_by_desc(row::Column::CreatedAt)
            .order_by_desc(row::Column::Id)
            .limit(limit)
            .all(self.db.conn())
            .await
            .map_err(store_err)?
            .into_iter()
            .map(to_stored)
            .collect())
    }

    async fn get(&self, user: UserId, id: i64) -> Result<StoredBackup, StoreError> {
        row::Entity::find_by_id(id)
            .filter(row::Column::UserId.eq(user.get()))
            .one(self.db.conn())
            .await
            .map_err(store_err)?
            .map(to_stored)
            .ok_or(StoreError::NotFound)
    }

    async fn remove(&self, user: UserId, id: i64) -> Result<StoredBackup, StoreError> {
        let b = self.get(user, id).await?;
        row::Entity::delete_by_id(id)
            .filter(row::Column::UserId.eq(user.get()))
            .exec(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(b)
    }

    async fn prune(&self, user: UserId, keep: u8) -> Result<Vec<StoredBackup>, StoreError> {
        self.db
            .transact(async |txn| {
                let old: Vec<StoredBackup> = row::Entity::find()
                    .filter(row::Column::UserId.eq(user.get()))
                    .filter(row::Column::Trigger.eq(Trigger::Scheduled.as_str()))
                    .order_by_desc(row::Column::CreatedAt)
                    .order_by_desc(row::Column::Id)
                    .all(txn)
                    .await
                    .map_err(store_err)?
                    .into_iter()
                    // In Rust rather than OFFSET: SQLite refuses OFFSET without LIMIT, and the
                    // list is at most `keep` + 1 long.
                    .skip(usize::from(keep))
                    .map(to_stored)
                    .collect();
                if !old.is_empty() {
                    row::Entity::delete_many()
                        .filter(row::Column::Id.is_in(old.iter().map(|b| b.id)))
                        .exec(txn)
                        .await
                        .map_err(store_err)?;
                }
                Ok(old)
            })
            .await
    }

    async fn schedule(&self, user: UserId) -> Result<Schedule, StoreError> {
        Ok(sched::Entity::find_by_id(user.get())
            .one(self.db.conn())
            .await
            .map_err(store_err)?
            .map_or(Schedule::OFF, |m| to_schedule(&m)))
    }

    async fn set_schedule(&self, user: UserId, s: Schedule) -> Result<Schedule, StoreError> {
        // Microseconds: PostgreSQL's precision, so the answer equals every later read.
        let s = Schedule {
            next_run_at: s.next_run_at.map(|t| t.trunc_subsecs(6)),
            ..s
        };
        sched::Entity::insert(sched::ActiveModel {
            user_id: Set(user.get()),
            interval: Set(s.interval.as_str().to_owned()),
            keep: Set(s.keep.get().into()),
            next_run_at: Set(s.next_run_at),
            lease_owner: Set(None),
            lease_until: Set(None),
            updated_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(sched::Column::UserId)
                .update_columns([
                    sched::Column::Interval,
                    sched::Column::Keep,
                    sched::Column::NextRunAt,
                    sched::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(self.db.conn())
        .await
        .map_err(store_err)?;
        Ok(s)
    }

    async fn due(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<UserId>, StoreError> {
        Ok(sched::Entity::find()
            .filter(sched::Column::NextRunAt.lte(now))
            .filter(free(now))
            .order_by_asc(sched::Column::NextRunAt)
            .limit(limit)
            .all(self.db.conn())
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|m| UserId::new(m.user_id))
            .collect())
    }

    async fn claim(
        &self,
        user: UserId,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Schedule>, StoreError> {
        // One conditional UPDATE: both databases apply it atomically, so of several
        // instances racing for the row exactly one sees `rows_affected == 1`.
        let taken = sched::Entity::update_many()
            .col_expr(sched::Column::LeaseOwner, Expr::value(owner))
            .col_expr(sched::Column::LeaseUntil, Expr::value(until))
            .filter(sched::Column::UserId.eq(user.get()))
            .filter(sched::Column::NextRunAt.lte(now))
            .filter(free(now))
            .exec(self.db.conn())
            .await
            .map_err(store_err)?
            .rows_affected;
        if taken == 0 {
            return Ok(None);
        }
        Ok(sched::Entity::find_by_id(user.get())
            .one(self.db.conn())
            .await
            .map_err(store_err)?
            .map(|m| to_schedule(&m)))
    }

    async fn release(
        &self,
        user: UserId,
        owner: &str,
        next_run_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        sched::Entity::update_many()
            .col_expr(sched::Column::NextRunAt, Expr::value(next_run_at))
            .col_expr(
                sched::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                sched::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(sched::Column::UserId.eq(user.get()))
            .filter(sched::Column::LeaseOwner.eq(owner))
            .exec(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(())
    }
}

/// No lease, or one that ran out (its instance died mid-run).
fn free(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(sched::Column::LeaseUntil.is_null())
        .add(sched::Column::LeaseUntil.lt(now))
}
