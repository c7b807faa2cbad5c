//! The one place database errors become domain error kinds.

use ayubi_kernel::StoreError;
use sea_orm::{DbErr, SqlErr};

/// Translates a database error: unique and foreign-key violations → `Conflict`, missing rows →
/// `NotFound`, everything else → `Unavailable` with the cause kept for the logs.
pub fn store_err(e: DbErr) -> StoreError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(what)) => StoreError::Conflict(what),
        // A row still referenced (ON DELETE RESTRICT) or a reference to a missing row.
        Some(SqlErr::ForeignKeyConstraintViolation(what)) => StoreError::Conflict(what),
        _ => match e {
            DbErr::RecordNotFound(_) => StoreError::NotFound,
            other => StoreError::Unavailable(Box::new(other)),
        },
    }
}

/// Whether a database error is a unique violation (for callers that must tell an
/// idempotency-key race from a business conflict).
pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
