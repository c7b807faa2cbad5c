//! The `(user_id, date)` indexes serve the day lists, range lists, stats and the backup
//! export's pages: the query plans of the very statements the repositories run are
//! checked, and a full scan (or a sort of the whole table) fails.

use crate::helpers::*;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, TransactionTrait};

/// Each statement's plan, one line per node. On PostgreSQL the planner options in `off`
/// are disabled first (tiny test tables make scanning and sorting the cheapest plan;
/// disabled, a plan that still scans or sorts shows no index can avoid it), in one
/// transaction so the settings and the EXPLAINs share a connection.
async fn plans(
    pool: &DatabaseConnection,
    off: &[&str],
    statements: Vec<(&'static str, Statement)>,
) -> Vec<(&'static str, Statement, Vec<String>)> {
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
