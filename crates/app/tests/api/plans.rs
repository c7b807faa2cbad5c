//! The `(user_id, date)` indexes serve the day lists, range lists and stats: the query
//! plans of the very statements the repository runs are checked, and a full scan fails.

use crate::helpers::*;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

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
