//! The `(user_id, date)` indexes serve the day lists, range lists and stats: the query
//! plans of the very statements the repository runs are checked, and a full scan fails.

use crate::helpers::*;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, TransactionTrait};

#[tokio::test]
async fn day_and_range_queries_use_the_user_date_indexes() {
    let app = spawn_app().await;
    let conn = app.sql().await;
    let backend = conn.get_database_backend();
    if backend == DatabaseBackend::Postgres {
        // Tiny tables make a sequential scan the cheapest plan; forbid it so the plan
        // shows whether an index *can* serve the query (a missing index still seq-scans).
        conn.execute_unprepared("SET enable_seqscan = off")
            .await
            .unwrap();
    }
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    for (what, st) in ayubi_db::sport::indexed_statements(backend, day) {
        let explain = match backend {
            DatabaseBackend::Postgres => format!("EXPLAIN {}", st.sql),
            _ => format!("EXPLAIN QUERY PLAN {}", st.sql),
        };
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                explain,
                st.values.map(|v| v.0).unwrap_or_default(),
            ))
            .await
            .unwrap();
        let plan: Vec<String> = rows
            .iter()
            .map(|r| match backend {
                DatabaseBackend::Postgres => r.try_get::<String>("", "QUERY PLAN").unwrap(),
                _ => r.try_get::<String>("", "detail").unwrap(),
            })
            .collect();
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
            let l = line.trim_start_matches([' ', '-', '>']);
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
    let backend = pool.get_database_backend();
    // One connection for the settings and the EXPLAINs (a pool may hand out another).
    let conn = pool.begin().await.unwrap();
    if backend == DatabaseBackend::Postgres {
        // Tiny tables make scanning and sorting the cheapest plan; forbid both, so a
        // sort left in the plan means no index can deliver the order.
        for off in ["enable_seqscan", "enable_bitmapscan", "enable_sort"] {
            conn.execute_unprepared(&format!("SET LOCAL {off} = off"))
                .await
                .unwrap();
        }
    }
    for (table, st) in ayubi_db::backup::paged_statements(backend) {
        let explain = match backend {
            DatabaseBackend::Postgres => format!("EXPLAIN {}", st.sql),
            _ => format!("EXPLAIN QUERY PLAN {}", st.sql),
        };
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                explain,
                st.values.map(|v| v.0).unwrap_or_default(),
            ))
            .await
            .unwrap();
        let plan: Vec<String> = rows
            .iter()
            .map(|r| match backend {
                DatabaseBackend::Postgres => r.try_get::<String>("", "QUERY PLAN").unwrap(),
                _ => r.try_get::<String>("", "detail").unwrap(),
            })
            .collect();
        let text = plan.join("\n");
        let index = format!("idx_{table}_user_date");
        assert!(
            text.contains(&index),
            "{table}: not read through {index}:\n{text}"
        );
        let sorts = plan.iter().any(|line| {
            let l = line.trim_start_matches([' ', '-', '>']);
            // PostgreSQL may finish the order by id within one day (Incremental Sort,
            // presorted by date); a full Sort or SQLite's temp B-tree sorts everything.
            let node = l.split("  (").next().unwrap_or(l);
            node == "Sort" || l.contains("TEMP B-TREE") || node.starts_with("Seq Scan")
        });
        assert!(
            !sorts,
            "{table} export page sorts or scans the table:\n{text}"
        );
    }
}
