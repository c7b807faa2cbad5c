//! The `(user_id, date)` indexes serve the day lists, range lists, stats and the backup
//! export's pages: the query plans of the very statements the repositories run are
//! checked, and a full scan (or a sort of the whole table) fails.

use crate::helpers::*;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, TransactionTrait};

/// Each statement's plan, one line per node. On PostgreSQL the planner options in `off`
/// are disabled first (tiny test tables make scanning and sorting the cheapest plan;
/// disabled, a plan that still scans or sorts shows no index can avoid it), in one
/// transaction so the settings and the EXPLAINs share a connection.
async fn plans<N>(
    pool: &DatabaseConnection,
    off: &[&str],
    statements: Vec<(N, Statement)>,
) -> Vec<(N, Statement, Vec<String>)> {
    let backend = pool.get_database_backend();
    let conn = pool.begin().await.unwrap();
    if backend == DatabaseBackend::Postgres {
        for option in off {
            conn.execute_unprepared(&format!("SET LOCAL {option} = off"))
                .await
                .unwrap();
        }
    }
    let mut out = Vec::new();
    for (what, st) in statements {
        let explain = match backend {
            DatabaseBackend::Postgres => format!("EXPLAIN {}", st.sql),
            _ => format!("EXPLAIN QUERY PLAN {}", st.sql),
        };
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                explain,
                st.values.clone().map(|v| v.0).unwrap_or_default(),
            ))
            .await
            .unwrap();
        let plan = rows
            .iter()
            .map(|r| match backend {
                DatabaseBackend::Postgres => r.try_get::<String>("", "QUERY PLAN").unwrap(),
                _ => r.try_get::<String>("", "detail").unwrap(),
            })
            .collect();
        out.push((what, st, plan));
    }
    out
}

/// A plan line without its tree decoration.
fn node(line: &str) -> &str {
    line.trim_start_matches([' ', '-', '>'])
}

#[tokio::test]
async fn day_and_range_queries_use_the_user_date_indexes() {
    let app = spawn_app().await;
    let pool = app.sql().await;
    let backend = pool.get_database_backend();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let statements = ayubi_db::sport::indexed_statements(backend, day);
    for (what, st, plan) in plans(&pool, &["enable_seqscan"], statements).await {
        let text = plan.join("\n");
        for table in ["sport_water", "sport_food", "sport_workout"] {
            if !st.sql.contains(&format!("FROM {table}"))
                && !st.sql.contains(&format!("FROM \"{table}\""))
            {
                continue;
            }
            let index = format!("idx_{table}_user_date");
            assert!(
                text.contains(&index),
                "{what}: {table} is not read through {index}:\n{text}"
            );
        }
        let full_scan = plan.iter().any(|line| {
            let l = node(line);
            (l.starts_with("SCAN sport_") && !l.contains("USING"))
                || (l.starts_with("Seq Scan on sport_") && !l.contains("sport_goals"))
        });
        assert!(!full_scan, "{what} scans a whole table:\n{text}");
    }
}

/// The backup export pages each big table along its `(user_id, date)` index: every page
/// is an index range scan, never a sort of the user's whole table (which made exports
/// quadratic and held tens of megabytes per page).
#[tokio::test]
async fn export_pages_are_index_range_scans_without_a_sort() {
    let app = spawn_app().await;
    let pool = app.sql().await;
    let statements = ayubi_db::backup::paged_statements(pool.get_database_backend());
    let off = ["enable_seqscan", "enable_bitmapscan", "enable_sort"];
    for (table, _, plan) in plans(&pool, &off, statements).await {
        let text = plan.join("\n");
        let index = format!("idx_{table}_user_date");
        assert!(
            text.contains(&index),
            "{table}: not read through {index}:\n{text}"
        );
        let sorts = plan.iter().any(|line| {
            let step = node(line).split("  (").next().unwrap_or_default();
            // PostgreSQL may finish the order by id within one day (Incremental Sort,
            // presorted by date); a full Sort or SQLite's temp B-tree sorts everything.
            step == "Sort" || line.contains("TEMP B-TREE") || step.starts_with("Seq Scan")
        });
        assert!(
            !sorts,
            "{table} export page sorts or scans the table:\n{text}"
        );
    }
}

/// Every hot endpoint's statements (sport, finance, habits, journal search, travel, the
/// sync log, the session check) read through an index: no full scan of any table. On
/// PostgreSQL sequential scans are disabled first, so a plan that still has one shows
/// that no index can serve the statement. (PostgreSQL may search one user's entries
/// along `(user_id, date)` and test the `tsvector` of each, or use the GIN index: its
/// statistics decide; SQLite must go through FTS5.)
#[tokio::test]
async fn every_hot_statement_reads_through_an_index() {
    let app = spawn_app().await;
    let pool = app.sql().await;
    let backend = pool.get_database_backend();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let statements = ayubi_db::plans::hot_statements(backend, day);
    assert!(statements.len() >= 14, "the list lost statements");
    for (what, _, plan) in plans(&pool, &["enable_seqscan"], statements).await {
        let text = plan.join("\n");
        let full_scan = plan.iter().any(|line| {
            let l = node(line);
            // SQLite: `SCAN t` without an index (an FTS5 table's `VIRTUAL TABLE INDEX` is
            // its own index; `SCAN (subquery-N)` reads a co-routine's rows, not a table);
            // PostgreSQL: a sequential scan despite `enable_seqscan = off`.
            (l.starts_with("SCAN ")
                && !l.contains("USING")
                && !l.contains("VIRTUAL TABLE INDEX")
                && !l.starts_with("SCAN (subquery-"))
                || l.starts_with("Seq Scan")
        });
        assert!(!full_scan, "{what} scans a whole table:\n{text}");
        if what == "journal: search" && backend == DatabaseBackend::Sqlite {
            // The full-text index is the outer loop: probed once per query, not once
            // per entry of the user (each probe of a prefix query merges its doclists).
            assert!(
                plan.first()
                    .is_some_and(|l| node(l).starts_with("SCAN journal_fts VIRTUAL TABLE INDEX")),
                "{what}:\n{text}"
            );
        }
    }
}

/// The seed plan's indexes, each present under its name or served by the index named
/// beside it: Ayubi's `sport_water` replaced the old `water_entries`; travel's unique
/// `(user_id, country_iso3)` indexes lead with the user; the journal's `(user_id,
/// created_at)` is `idx_journal_entries_user_created` (and `(user_id, date)` serves the
/// lists by day); its full-text index is FTS5 on SQLite and GIN on PostgreSQL.
#[tokio::test]
async fn the_seed_plans_indexes_exist() {
    let app = spawn_app().await;
    let pool = app.sql().await;
    let backend = pool.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() \
             UNION ALL SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND c.relname = 'journal_fts'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type IN ('index', 'table')",
    };
    let names: Vec<String> = pool
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect();
    let fulltext = match backend {
        DatabaseBackend::Postgres => "idx_journal_entries_search".to_owned(),
        _ => "journal_fts".to_owned(),
    };
    let seed: Vec<(&str, String)> = vec![
        ("idx_habits_user_id", "idx_habits_user_id".into()),
        (
            "idx_habit_completions_date",
            "idx_habit_completions_date".into(),
        ),
        (
            "idx_water_entries_user_date",
            "idx_sport_water_user_date".into(),
        ),
        (
            "idx_sport_water_user_date",
            "idx_sport_water_user_date".into(),
        ),
        (
            "idx_sport_food_user_date",
            "idx_sport_food_user_date".into(),
        ),
        (
            "idx_sport_workout_user_date",
            "idx_sport_workout_user_date".into(),
        ),
        (
            "idx_finance_entries_user_date",
            "idx_finance_entries_user_date".into(),
        ),
        (
            "idx_finance_entries_category",
            "idx_finance_entries_category".into(),
        ),
        (
            "idx_journal_entries_user_date",
            "idx_journal_entries_user_created".into(),
        ),
        ("idx_journal_content", fulltext),
        (
            "idx_travel_wishlist_user",
            "idx_travel_wishlist_user_country".into(),
        ),
        (
            "idx_travel_visited_user",
            "idx_travel_visited_user_country".into(),
        ),
    ];
    for (planned, ours) in seed {
        assert!(
            names.contains(&ours),
            "{planned}: {ours} is missing; have {names:?}"
        );
    }
}

/// The SQLite tuning is what the configuration says, on every pooled connection.
#[tokio::test]
async fn sqlite_connections_follow_the_configuration() {
    let db = TestDb::sqlite();
    for (synchronous, kib, expected_sync) in [("normal", 8192, 1), ("full", 1024, 2)] {
        let mut settings = test_settings();
        settings.database.url = secrecy::SecretString::from(db.url().to_owned());
        settings.database.sqlite_synchronous = synchronous.into();
        settings.database.sqlite_cache_size_kib = kib;
        let pool = ayubi_db::Database::connect(&settings.db_config())
            .await
            .unwrap();
        let pragma = async |name: &str| pool.sqlite_pragma(name).await.unwrap().unwrap();
        assert_eq!(pragma("journal_mode").await, "wal");
        assert_eq!(pragma("synchronous").await, expected_sync.to_string());
        assert_eq!(pragma("cache_size").await, format!("-{kib}"));
        assert_eq!(pragma("foreign_keys").await, "1");
        assert_eq!(pragma("temp_store").await, "2");
        assert_eq!(
            pragma("soft_heap_limit").await,
            (settings.database.sqlite_heap_limit_kib * 1024).to_string()
        );
    }
}
