//! Faults that fit an in-process test (the ones that stop real services live in
//! `.ci/faults`, see docs/reliability.md).

use crate::helpers::*;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::sync::Arc;

async fn pragma(app: &TestApp, sql: &str) -> String {
    let conn = app.sql().await;
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    let value = row
        .try_get_by_index::<String>(0)
        .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
        .unwrap();
    conn.close().await.ok();
    value
}

/// SQLite at its page quota (`database.sqlite_max_page_count`, how a full disk is
/// reproduced): the write that does not fit answers 507 problem+json and leaves nothing
/// behind — no entry, no change-log row; everything acknowledged before is there; reads
/// go on; the file passes SQLite's and FTS5's integrity checks.
#[tokio::test]
async fn a_full_sqlite_database_refuses_writes_clearly_and_keeps_serving_reads() {
    let db = Arc::new(TestDb::sqlite());
    let first = spawn_on_db(db.clone()).await;
    let migrated: u64 = pragma(&first, "PRAGMA page_count").await.parse().unwrap();
    let app = spawn_beside(&first, |s| {
        s.database.sqlite_max_page_count = migrated + 60;
    })
    .await;
    let a = app.register("ada@example.com").await;
    let content = "a quiet morning by the river ".repeat(700); // ~20 KB
    let mut acknowledged = Vec::new();
    let mut refused = None;
    for i in 0..200 {
        let res = app
            .create(
                "/api/v1/journal",
                &a.access,
                Some(&format!("entry-{i}")),
                &json!({"content": format!("{i} {content}")}),
            )
            .await;
        if res.status() == StatusCode::CREATED {
            acknowledged.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
        } else {
            refused = Some(res);
            break;
        }
    }
    let refused = refused.expect("the quota was reached");
    let p = problem(refused, StatusCode::INSUFFICIENT_STORAGE).await;
    assert!(p["detail"].as_str().unwrap().contains("full"), "{p}");
    assert!(
        acknowledged.len() >= 2,
        "{} written first",
        acknowledged.len()
    );

    let listed = app
        .get_ok("/api/v1/journal?limit=1000", &a.access)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect::<Vec<_>>();
    let mut expected = acknowledged.clone();
    expected.sort_unstable();
    let mut got = listed.clone();
    got.sort_unstable();
    assert_eq!(got, expected, "every acknowledged entry, and nothing else");
    let changes = app
        .get_ok("/api/v1/sync/changes?limit=1000", &a.access)
        .await;
    let journal_changes = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["entity"] == "journal_entries")
        .count();
    assert_eq!(
        journal_changes,
        acknowledged.len(),
        "no change logged for the refused write"
    );
    let found = app.get_ok("/api/v1/journal?q=quiet", &a.access).await;
    assert_eq!(found.as_array().unwrap().len(), acknowledged.len().min(100));
    assert_eq!(app.me_status(&a.access).await, StatusCode::OK);
    assert_eq!(pragma(&app, "PRAGMA integrity_check").await, "ok");
    app.exec(
        "INSERT INTO journal_fts(journal_fts, rank) VALUES ('integrity-check', 1)",
        vec![],
    )
    .await;
    // Room again (another instance without the quota): writes resume.
    let roomy = spawn_beside(&first, |_| {}).await;
    let res = roomy
        .create(
            "/api/v1/journal",
            &a.access,
            None,
            &json!({"content": "after"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}
