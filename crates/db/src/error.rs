//! The one place database errors become domain error kinds.

use ayubi_kernel::StoreError;
use sea_orm::sqlx::error::{DatabaseError, ErrorKind};
use sea_orm::{DbErr, RuntimeErr};

/// Translates a database error: unique and foreign-key violations → `Conflict`, missing rows →
/// `NotFound`, no room left → `Full`, everything else → `Unavailable` with the cause kept
/// for the logs.
pub fn store_err(e: DbErr) -> StoreError {
    if is_full(&e) {
        return StoreError::Full(Box::new(e));
    }
    // A duplicate, a row still referenced (ON DELETE RESTRICT) or a reference to a
    // missing row.
    match violation(&e) {
        Some((ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation, what)) => {
            StoreError::Conflict(what)
        }
        _ => match e {
            DbErr::RecordNotFound(_) => StoreError::NotFound,
            other => StoreError::Unavailable(Box::new(other)),
        },
    }
}

/// [`store_err`] for an error every member of a failed write batch is told (see
/// `group.rs`): the same kinds, the cause shared.
pub(crate) fn store_err_shared(e: &std::sync::Arc<DbErr>) -> StoreError {
    let shared = Box::new(Shared(e.clone()));
    if is_full(e) {
        return StoreError::Full(shared);
    }
    match violation(e) {
        Some((ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation, what)) => {
            StoreError::Conflict(what)
        }
        _ => StoreError::Unavailable(shared),
    }
}

/// A database error several callers report.
#[derive(Debug)]
struct Shared(std::sync::Arc<DbErr>);

impl std::fmt::Display for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Shared {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// SQLite's `SQLITE_FULL` (13: the disk, or `max_page_count`) and PostgreSQL's
/// `disk_full` (53100).
fn is_full(e: &DbErr) -> bool {
    database_error(e)
        .and_then(DatabaseError::code)
        .is_some_and(|code| code == "13" || code == "53100")
}

/// The database's own error inside `e`: sqlx's, or the SQLite writer's
/// (`sqlite_writer.rs`, which reports its errors the same way).
fn database_error(e: &DbErr) -> Option<&dyn DatabaseError> {
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(err)) | DbErr::Query(RuntimeErr::SqlxError(err)) => {
            err.as_database_error()
        }
        _ => None,
    }
}

/// A constraint violation's kind and message. By sqlx's own classification of the
/// error codes rather than sea-orm's `sql_err`, which knows sqlx's error types only.
fn violation(e: &DbErr) -> Option<(ErrorKind, String)> {
    database_error(e).map(|d| (d.kind(), d.message().to_owned()))
}

/// Whether a database error is a unique violation (for callers that must tell an
/// idempotency-key race from a business conflict).
pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(violation(e), Some((ErrorKind::UniqueViolation, _)))
}
