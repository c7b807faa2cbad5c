//! Journal entries and their full-text index.
//!
//! Indexes: `(user_id, created_at)` (the plan's), `(date)` (the plan's), and
//! `(user_id, date)` for the dated lists. Tags are a JSON array in text.
//!
//! Search (the plan's MySQL `FULLTEXT INDEX` has no direct equivalent):
//! - SQLite: an external-content FTS5 table `journal_fts` over title, content and tags,
//!   tokenizer `unicode61 remove_diacritics 2` (Unicode case folding, so Cyrillic and
//!   Latin match case-insensitively), kept in sync by insert/update/delete triggers.
//! - PostgreSQL: a stored generated `tsvector` column (`simple` configuration: lower-cased,
//!   no stemming, any script) with a GIN index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum JournalEntries {
    Table,
    Id,
    UserId,
    Title,
    Content,
    Date,
    Mood,
    Tags,
    CreatedAt,
    UpdatedAt,
}

const SQLITE: &[&str] = &[
    "CREATE VIRTUAL TABLE journal_fts USING fts5(title, content, tags, content='journal_entries', \
     content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER journal_fts_ai AFTER INSERT ON journal_entries BEGIN \
       INSERT INTO journal_fts(rowid, title, content, tags) VALUES (new.id, new.title, new.content, new.tags); END",
    "CREATE TRIGGER journal_fts_ad AFTER DELETE ON journal_entries BEGIN \
       INSERT INTO journal_fts(journal_fts, rowid, title, content, tags) VALUES ('delete', old.id, old.title, old.content, old.tags); END",
    "CREATE TRIGGER journal_fts_au AFTER UPDATE ON journal_entries BEGIN \
       INSERT INTO journal_fts(journal_fts, rowid, title, content, tags) VALUES ('delete', old.id, old.title, old.content, old.tags); \
       INSERT INTO journal_fts(rowid, title, content, tags) VALUES (new.id, new.title, new.content, new.tags); END",
    "CREATE TRIGGER trg_journal_entries_updated_at AFTER UPDATE ON journal_entries \
       FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at BEGIN \
       UPDATE journal_entries SET updated_at = strftime('%Y-%m-%d %H:%M:%f+00:00', 'now') WHERE id = NEW.id; END",
];

const POSTGRES: &[&str] = &[
    "ALTER TABLE journal_entries ADD COLUMN search tsvector GENERATED ALWAYS AS \
     (to_tsvector('simple', coalesce(title, '') || ' ' || content || ' ' || tags)) STORED",
    "CREATE INDEX idx_journal_entries_search ON journal_entries USING GIN (search)",
    "CREATE TRIGGER trg_journal_entries_updated_at BEFORE UPDATE ON journal_entries \
     FOR EACH ROW EXECUTE FUNCTION ayubi_set_updated_at()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(JournalEntries::Table)
                .col(big_pk_auto(JournalEntries::Id))
                .col(big_integer(JournalEntries::UserId))
                .col(string_len_null(JournalEntries::Title, 200))
                .col(text(JournalEntries::Content))
                .col(date(JournalEntries::Date))
                .col(small_integer_null(JournalEntries::Mood))
                .col(text(JournalEntries::Tags))
                .col(timestamp_with_time_zone(JournalEntries::CreatedAt))
                .col(timestamp_with_time_zone(JournalEntries::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(JournalEntries::Table, JournalEntries::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "idx_journal_entries_user_created",
                vec![JournalEntries::UserId, JournalEntries::CreatedAt],
            ),
            ("idx_journal_entries_date", vec![JournalEntries::Date]),
            (
                "idx_journal_entries_user_date",
                vec![JournalEntries::UserId, JournalEntries::Date],
            ),
        ] {
            let mut idx = Index::create()
                .name(name)
                .table(JournalEntries::Table)
                .to_owned();
            for c in cols {
                idx.col(c);
            }
            m.create_index(idx).await?;
        }
        let statements = match m.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES,
            _ => SQLITE,
        };
        let db = m.get_connection();
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared("DROP TABLE IF EXISTS journal_fts")
                .await?;
        }
        m.drop_table(Table::drop().table(JournalEntries::Table).to_owned())
            .await
    }
}
