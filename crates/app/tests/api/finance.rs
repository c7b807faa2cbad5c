//! Finance over HTTP.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn post(app: &TestApp, s: &Session, path: &str, body: Value) -> Value {
    let res = app.create(path, &s.access, None, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{path} {body}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn categories_are_unique_per_kind_and_protected_while_used() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let food = post(
        &app,
        &s,
        "/api/v1/finance/categories",
        json!({"name": " Food ", "kind": "expense"}),
    )
    .await;
    assert_eq!(
        (food["name"].clone(), food["kind"].clone()),
        (json!("Food"), json!("expense"))
    );
    let salary = post(
        &app,
        &s,
        "/api/v1/finance/categories",
        json!({"name": "Salary", "kind": "income"}),
    )
    .await;
    post(
        &app,
        &s,
        "/api/v1/finance/categories",
        json!({"name": "Food", "kind": "income"}),
    )
    .await;
    problem(
        app.create(
            "/api/v1/finance/categories",
            &s.access,
            None,
            &json!({"name": "Food", "kind": "expense"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    for (body, field) in [
        (json!({"name": "", "kind": "expense"}), "name"),
        (json!({"name": "x", "kind": "gift"}), "kind"),
    ] {
        let p = problem(
            app.create("/api/v1/finance/categories", &s.access, None, &body)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(p["errors"][field].is_array(), "{p}");
    }
    let list = app.get_ok("/api/v1/finance/categories", &s.access).await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    let renamed: Value = app
        .put_json(
            &format!("/api/v1/finance/categories/{}", food["id"]),
            &s.access,
            &json!({"name": "Groceries", "kind": "expense"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["name"], "Groceries");
    post(
        &app,
        &s,
        "/api/v1/finance/entries",
        json!({"kind": "expense", "amount": 5, "category_id": food["id"]}),
    )
    .await;
    let p = problem(
        app.delete_json(
            &format!("/api/v1/finance/categories/{}", food["id"]),
            None,
            &s.access,
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("entries"));
    let res = app
        .delete_json(
            &format!("/api/v1/finance/categories/{}", salary["id"]),
            None,
            &s.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        app.delete_json(
            &format!("/api/v1/finance/categories/{}", salary["id"]),
            None,
            &s.access,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn entries_are_exact_money_with_default_currency_and_checked_references() {
    let app = spawn_app().await;
    app.clock.set("2026-11-26T08:00:00Z".parse().unwrap());
    let s = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let food = post(
        &app,
        &s,
        "/api/v1/finance/categories",
        json!({"name": "Food", "kind": "expense"}),
    )
    .await;
    let bobs = post(
        &app,
        &bob,
        "/api/v1/finance/categories",
        json!({"name": "Food", "kind": "expense"}),
    )
    .await;
    let e = post(
        &app,
        &s,
        "/api/v1/finance/entries",
        json!({"kind": "expense", "amount": 12.34, "category_id": food["id"], "note": "lunch"}),
    )
    .await;
    assert_eq!(
        e,
        json!({"id": e["id"], "kind": "expense", "amount": 12.34, "currency": "EUR", "category_id": food["id"],
               "date": "2026-11-26", "note": "lunch", "created_at": "2026-11-26T08:00:00Z", "updated_at": "2026-11-26T08:00:00Z"})
    );
    app.put_json("/api/v1/settings", &s.access, &json!({"currency": "USD"}))
        .await;
    let usd = post(
        &app,
        &s,
        "/api/v1/finance/entries",
        json!({"kind": "income", "amount": 1000, "date": "2026-11-01"}),
    )
    .await;
    assert_eq!(
        (usd["currency"].clone(), usd["amount"].clone()),
        (json!("USD"), json!(1000.0))
    );
    let jpy = post(
        &app,
        &s,
        "/api/v1/finance/entries",
        json!({"kind": "expense", "amount": 0.01, "currency": "jpy"}),
    )
    .await;
    assert_eq!(jpy["currency"], "JPY");

    for (body, field) in [
        (json!({"kind": "expense", "amount": 12.345}), "amount"),
        (json!({"kind": "expense", "amount": 0}), "amount"),
        (json!({"kind": "expense", "amount": -5}), "amount"),
        (json!({"kind": "expense", "amount": "12.34"}), "amount"),
        (
            json!({"kind": "expense", "amount": 1, "currency": "EURO"}),
            "currency",
        ),
        (json!({"kind": "spend", "amount": 1}), "kind"),
        (
            json!({"kind": "expense", "amount": 1, "category_id": bobs["id"]}),
            "category_id",
        ),
        (
            json!({"kind": "income", "amount": 1, "category_id": food["id"]}),
            "category_id",
        ),
        (
            json!({"kind": "expense", "amount": 1, "category_id": 999999}),
            "category_id",
        ),
        (
            json!({"kind": "expense", "amount": 1, "note": "n".repeat(1001)}),
            "note",
        ),
        (
            json!({"kind": "expense", "amount": 1, "user_id": 2}),
            "user_id",
        ),
    ] {
        let p = problem(
            app.create("/api/v1/finance/entries", &s.access, None, &body)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(p["errors"][field].is_array(), "{body}: {p}");
    }

    assert_eq!(
        app.get_ok("/api/v1/finance/entries", &s.access).await,
        json!([jpy, e, usd])
    );
    assert_eq!(
        app.get_ok("/api/v1/finance/entries?kind=income", &s.access)
            .await,
        json!([usd])
    );
    assert_eq!(
        app.get_ok(
            &format!("/api/v1/finance/entries?category_id={}", food["id"]),
            &s.access
        )
        .await,
        json!([e])
    );
    assert_eq!(
        app.get_ok("/api/v1/finance/entries?to=2026-11-25", &s.access)
            .await,
        json!([usd])
    );
    problem(
        app.get("/api/v1/finance/entries?kind=gift", Some(&s.access))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    let id = e["id"].as_i64().unwrap();
    let replaced: Value = app
        .put_json(
            &format!("/api/v1/finance/entries/{id}"),
            &s.access,
            &json!({"kind": "expense", "amount": 20.5, "currency": "EUR"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            replaced["amount"].clone(),
            replaced["category_id"].clone(),
            replaced["note"].clone()
        ),
        (json!(20.5), json!(null), json!(null))
    );
    assert_eq!(
        app.get_ok(&format!("/api/v1/finance/entries/{id}"), &s.access)
            .await,
        replaced
    );
    problem(
        app.get(&format!("/api/v1/finance/entries/{id}"), Some(&bob.access))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.put_json(
            &format!("/api/v1/finance/entries/{id}"),
            &bob.access,
            &json!({"kind": "expense", "amount": 1}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.delete_json(&format!("/api/v1/finance/entries/{id}"), None, &bob.access)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        app.delete_json(&format!("/api/v1/finance/entries/{id}"), None, &s.access)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );

    let events: Vec<_> = app.get_ok("/api/v1/sync/changes", &s.access).await["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["event"].as_str().unwrap().to_owned())
        .filter(|e| e.starts_with("finance"))
        .collect();
    assert_eq!(
        events,
        [
            "finance_category:created",
            "finance:created",
            "finance:created",
            "finance:created",
            "finance:updated",
            "finance:deleted"
        ]
    );
}

#[tokio::test]
async fn the_monthly_summary_is_exact_and_by_category() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let food = post(
        &app,
        &s,
        "/api/v1/finance/categories",
        json!({"name": "Food", "kind": "expense"}),
    )
    .await;
    let rent = post(
        &app,
        &s,
        "/api/v1/finance/categories",
        json!({"name": "Rent", "kind": "expense"}),
    )
    .await;
    let pay = post(
        &app,
        &s,
        "/api/v1/finance/categories",
        json!({"name": "Salary", "kind": "income"}),
    )
    .await;
    for (kind, amount, cat, date) in [
        ("expense", json!(0.1), food["id"].clone(), "2026-11-01"),
        ("expense", json!(0.2), food["id"].clone(), "2026-11-30"),
        ("expense", json!(800), rent["id"].clone(), "2026-11-03"),
        ("expense", json!(9.99), json!(null), "2026-11-15"),
        ("income", json!(2500.5), pay["id"].clone(), "2026-11-25"),
        ("expense", json!(50), food["id"].clone(), "2026-10-31"),
        ("expense", json!(70), food["id"].clone(), "2026-12-01"),
    ] {
        post(
            &app,
            &s,
            "/api/v1/finance/entries",
            json!({"kind": kind, "amount": amount, "category_id": cat, "date": date}),
        )
        .await;
    }
    post(
        &app,
        &s,
        "/api/v1/finance/entries",
        json!({"kind": "expense", "amount": 1, "currency": "USD", "date": "2026-11-10"}),
    )
    .await;
    let summary = app
        .get_ok("/api/v1/finance/summary?month=2026-11", &s.access)
        .await;
    assert_eq!(
        summary,
        json!({"month": "2026-11", "currency": "EUR", "income": 2500.5, "expense": 810.29, "balance": 1690.21,
        "by_category": [
            {"category_id": pay["id"], "name": "Salary", "kind": "income", "total": 2500.5},
            {"category_id": rent["id"], "name": "Rent", "kind": "expense", "total": 800.0},
            {"category_id": null, "name": null, "kind": "expense", "total": 9.99},
            {"category_id": food["id"], "name": "Food", "kind": "expense", "total": 0.3},
        ]})
    );
    let usd = app
        .get_ok(
            "/api/v1/finance/summary?month=2026-11&currency=usd",
            &s.access,
        )
        .await;
    assert_eq!(
        (usd["currency"].clone(), usd["expense"].clone()),
        (json!("USD"), json!(1.0))
    );
    assert_eq!(
        app.get_ok("/api/v1/finance/summary?month=2026-12", &s.access)
            .await["expense"],
        70.0
    );
    // Text that is not a month does not parse: 400 (api.md), not a rule broken (422).
    for bad in ["June", "2026-13", "2026-1", "nov", "2026-11-01", "-001-01"] {
        let p = problem(
            app.get(
                &format!("/api/v1/finance/summary?month={bad}"),
                Some(&s.access),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            p["detail"].as_str().unwrap().contains("YYYY-MM"),
            "{bad}: {p}"
        );
    }
    problem(
        app.get("/api/v1/finance/summary", Some(&s.access)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let bob = app.register("bob@example.com").await;
    assert_eq!(
        app.get_ok("/api/v1/finance/summary?month=2026-11", &bob.access)
            .await["by_category"],
        json!([])
    );
}

#[tokio::test]
async fn finance_creates_are_idempotent_and_the_account_cascades() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let body = json!({"kind": "expense", "amount": 3.5});
    let first: Value = app
        .create("/api/v1/finance/entries", &s.access, Some("e1"), &body)
        .await
        .json()
        .await
        .unwrap();
    let again = app
        .create("/api/v1/finance/entries", &s.access, Some("e1"), &body)
        .await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(
        app.get_ok("/api/v1/finance/entries", &s.access)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let cat = json!({"name": "Food", "kind": "expense"});
    let c1: Value = app
        .create("/api/v1/finance/categories", &s.access, Some("c1"), &cat)
        .await
        .json()
        .await
        .unwrap();
    let c2: Value = app
        .create("/api/v1/finance/categories", &s.access, Some("c1"), &cat)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c1, c2, "a retry is a replay, not a 409");
    app.create(
        "/api/v1/finance/entries",
        &s.access,
        None,
        &json!({"kind": "expense", "amount": 1, "category_id": c1["id"]}),
    )
    .await;
    app.delete_json(
        "/api/v1/auth/me",
        Some(&json!({"password": PASSWORD})),
        &s.access,
    )
    .await;
    assert_eq!(
        app.count("finance_entries", s.id).await + app.count("finance_categories", s.id).await,
        0
    );
}

#[tokio::test]
async fn month_queries_use_the_user_date_index() {
    use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
    let app = spawn_app().await;
    let conn = app.sql().await;
    let backend = conn.get_database_backend();
    if backend == DatabaseBackend::Postgres {
        conn.execute_unprepared("SET enable_seqscan = off")
            .await
            .unwrap();
    }
    let range =
        ayubi_kernel::DateRange::new("2026-11-01".parse().unwrap(), "2026-11-30".parse().unwrap())
            .unwrap();
    for (what, st) in
        ayubi_db::finance::month_statements(backend, ayubi_kernel::UserId::new(1), range)
    {
        let sql = match backend {
            DatabaseBackend::Postgres => format!("EXPLAIN {}", st.sql),
            _ => format!("EXPLAIN QUERY PLAN {}", st.sql),
        };
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                st.values.map(|v| v.0).unwrap_or_default(),
            ))
            .await
            .unwrap();
        let plan: String = rows
            .iter()
            .map(|r| match backend {
                DatabaseBackend::Postgres => r.try_get::<String>("", "QUERY PLAN").unwrap(),
                _ => r.try_get::<String>("", "detail").unwrap(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            plan.contains("idx_finance_entries_user_date"),
            "{what}:\n{plan}"
        );
    }
}
