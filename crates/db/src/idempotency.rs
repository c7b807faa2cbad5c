//! Saved responses for `Idempotency-Key`: written inside each create's transaction by
//! [`save_in`], read and pruned by [`SqlIdempotencyStore`].
//!
//! The request travels with the task that runs the write ([`within`]), as a tracing span
//! does, not through the domain's signatures: the first write transaction in that scope
//! saves the response rendered from what it wrote, and takes the request so no later
//! write saves it twice.

use crate::entity::idempotency_key as row;
use crate::error::{is_unique_violation, store_err};
use crate::pool::Database;
use ayubi_kernel::{IdempotencyStore, SavedRecord, SavedResponse, StoreError, UserId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::any::Any;
use std::cell::RefCell;

/// Makes the response to save from what the write wrote; `None` when it is not the type
/// the request's responses are made from.
pub type RenderSaved = Box<dyn FnOnce(&dyn Any) -> Option<SavedResponse> + Send>;

/// A request with an `Idempotency-Key`: save its response in the write's transaction.
pub struct IdempotentRequest {
    /// Whose key it is: keys are per user.
    pub user: UserId,
    /// The client's key, already validated.
    pub key: String,
    /// A digest of the request, to refuse the same key with a different request.
    pub fingerprint: Vec<u8>,
    /// When the request arrived; saved as the record's age.
    pub now: DateTime<Utc>,
    /// A record saved before this instant has expired and may be replaced.
    pub expired_before: DateTime<Utc>,
    /// The response to save, from what the write wrote (`None`: not the type this
    /// request's responses are made from, a wiring mistake that fails the write).
    pub render: RenderSaved,
}

impl std::fmt::Debug for IdempotentRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotentRequest")
            .field("user", &self.user)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

tokio::task_local! {
    static REQUEST: RefCell<Option<IdempotentRequest>>;
}

/// Runs `write` (a service call) with `request`: the first write transaction inside saves
/// the response.
pub async fn within<F: Future>(request: IdempotentRequest, write: F) -> F::Output {
    REQUEST.scope(RefCell::new(Some(request)), write).await
}

/// A response to save, rendered, with its request's key.
#[derive(Debug)]
pub(crate) struct SavedRow {
    pub user: UserId,
    pub key: String,
    pub fingerprint: Vec<u8>,
    pub now: DateTime<Utc>,
    pub expired_before: DateTime<Utc>,
    pub response: SavedResponse,
}

/// The current idempotent request's response (if any), rendered from what the write
/// wrote; taken, so no later write in the scope saves it again. For a write that saves it
/// with statements of its own (`changelog::closing`).
pub(crate) fn take_saved<T: 'static>(created: &T) -> Result<Option<SavedRow>, StoreError> {
    let Some(idem) = REQUEST.try_with(|r| r.borrow_mut().take()).ok().flatten() else {
        return Ok(None);
    };
    let response = (idem.render)(created).ok_or_else(|| not_rendered::<T>())?;
    Ok(Some(SavedRow {
        user: idem.user,
        key: idem.key,
        fingerprint: idem.fingerprint,
        now: idem.now,
        expired_before: idem.expired_before,
        response,
    }))
}

fn not_rendered<T>() -> StoreError {
    StoreError::Unavailable(
        format!(
            "the idempotent response is not made from {}",
            std::any::type_name::<T>()
        )
        .into(),
    )
}

/// Saves the rendered response of the current idempotent request (if any) in the caller's
/// transaction. An expired record under the same key is replaced; a live one (a
/// concurrent request with the same key won) is [`StoreError::IdempotencyRace`], and the
/// caller's error drops the whole create.
pub(crate) async fn save_in<C: ConnectionTrait, T: 'static>(
    txn: &C,
    created: &T,
) -> Result<(), StoreError> {
    let Some(idem) = REQUEST.try_with(|r| r.borrow_mut().take()).ok().flatten() else {
        return Ok(());
    };
    insert_saved(txn, idem, created).await
}

/// One statement (a write's every statement is a round trip to SQLite's connection
/// thread): insert, or take over the key only when its record has expired. A live record
/// under the key leaves the upsert's `WHERE` false, nothing is written, and that is the
/// race the caller reports.
async fn insert_saved<C: ConnectionTrait, T: 'static>(
    txn: &C,
    idem: IdempotentRequest,
    created: &T,
) -> Result<(), StoreError> {
    let saved = (idem.render)(created).ok_or_else(|| not_rendered::<T>())?;
    let written = row::Entity::insert(row::ActiveModel {
        user_id: Set(idem.user.get()),
        key: Set(idem.key),
        fingerprint: Set(idem.fingerprint),
        status: Set(i16::try_from(saved.status).unwrap_or(500)),
        body: Set(saved.body),
        created_at: Set(idem.now),
    })
    .on_conflict(
        OnConflict::columns([row::Column::UserId, row::Column::Key])
            .update_columns([
                row::Column::Fingerprint,
                row::Column::Status,
                row::Column::Body,
                row::Column::CreatedAt,
            ])
            // Qualified by the table: the stored row's stamp, not the incoming one.
            .action_and_where(row::Column::CreatedAt.lt(idem.expired_before))
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::IdempotencyRace
        } else {
            store_err(e)
        }
    })?;
    if written == 0 {
        return Err(StoreError::IdempotencyRace);
    }
    Ok(())
}

/// The idempotency record store over the shared pool.
#[derive(Debug, Clone)]
pub struct SqlIdempotencyStore {
    db: Database,
}

impl SqlIdempotencyStore {
    /// Wraps the pool.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for SqlIdempotencyStore {
    async fn find(
        &self,
        user: UserId,
        key: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Option<SavedRecord>, StoreError> {
        let found = row::Entity::find_by_id((user.get(), key.to_owned()))
            .filter(row::Column::CreatedAt.gte(not_before))
            .one(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(found.map(|r| SavedRecord {
            fingerprint: r.fingerprint,
            response: SavedResponse {
                status: u16::try_from(r.status).unwrap_or(500),
                body: r.body,
            },
        }))
    }

    async fn purge(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let res = row::Entity::delete_many()
            .filter(row::Column::CreatedAt.lt(before))
            .exec(self.db.conn())
            .await
            .map_err(store_err)?;
        Ok(res.rows_affected)
    }
}
