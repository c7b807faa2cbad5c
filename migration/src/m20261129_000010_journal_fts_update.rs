//! SQLite: the journal's full-text index follows only changes to the text it holds.
//!
//! The update trigger of migration 6 fired on every update of an entry, and the
//! `updated_at` trigger (an AFTER UPDATE, since SQLite's BEFORE triggers cannot change the
//! row) updates the row again: its nested update fired the index trigger with the new text
//! as the "old" values, so FTS5 was told to delete tokens it had never been given. FTS5
//! trusts the values of a `'delete'`; wrong ones leave the index inconsistent, and after
//! enough of them queries and writes fail with "database disk image is malformed"
//! (SQLITE_CORRUPT_VTAB) — which Schemathesis found through `PUT /journal/{id}`.
//!
//! `AFTER UPDATE OF title, content, tags` does not fire for the nested update (it sets
//! only `updated_at`), and the index is rebuilt from the entries, which repairs one that
//! the old trigger already damaged. PostgreSQL's generated column had no such trigger.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "DROP TRIGGER IF EXISTS journal_fts_au",
    "CREATE TRIGGER journal_fts_au AFTER UPDATE OF title, content, tags ON journal_entries BEGIN \
       INSERT INTO journal_fts(journal_fts, rowid, title, content, tags) VALUES ('delete', old.id, old.title, old.content, old.tags); \
       INSERT INTO journal_fts(rowid, title, content, tags) VALUES (new.id, new.title, new.content, new.tags); END",
    "INSERT INTO journal_fts(journal_fts) VALUES ('rebuild')",
];

const DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS journal_fts_au",
    "CREATE TRIGGER journal_fts_au AFTER UPDATE ON journal_entries BEGIN \
       INSERT INTO journal_fts(journal_fts, rowid, title, content, tags) VALUES ('delete', old.id, old.title, old.content, old.tags); \
       INSERT INTO journal_fts(rowid, title, content, tags) VALUES (new.id, new.title, new.content, new.tags); END",
];

async fn run(m: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    if m.get_database_backend() == DatabaseBackend::Postgres {
        return Ok(());
    }
    // One call: issued as separate calls, the CREATE failed with "trigger journal_fts_au
    // already exists" though the DROP before it had run (sqlx 0.9, SQLite 3.51).
    m.get_connection()
        .execute_unprepared(&statements.join(";\n"))
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        run(m, UP).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        run(m, DOWN).await
    }
}
