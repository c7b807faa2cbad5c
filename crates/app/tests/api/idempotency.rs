//! `Idempotency-Key` on creates.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn create(app: &TestApp, bearer: &str, key: &str, name: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/tokens"))
        .bearer_auth(bearer)
        .header("Idempotency-Key", key)
        .json(&json!({"name": name}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_retry_replays_the_first_response_and_creates_nothing() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let first = create(&app, &s.access, "key-1", "cli").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let second = create(&app, &s.access, "key-1", "cli").await;
    assert_eq!(second.status(), StatusCode::CREATED);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: Value = second.json().await.unwrap();
    assert_eq!(
        first, second,
        "same status, same body (the one-time secret included)"
    );
    let list: Value = app.tokens(&s.access).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // The saved response is sealed: the database never holds the secret in clear.
    let secret = first["token"].as_str().unwrap();
    let conn = app.sql().await;
    use sea_orm::ConnectionTrait;
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT body FROM idempotency_keys",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let body: Vec<u8> = rows[0].try_get("", "body").unwrap();
    assert!(!body.windows(secret.len()).any(|w| w == secret.as_bytes()));
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    assert_eq!(
        create(&app, &s.access, "key-1", "cli").await.status(),
        StatusCode::CREATED
    );
    let p = problem(
        create(&app, &s.access, "key-1", "other").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["Idempotency-Key"].is_array());
    let list: Value = app.tokens(&s.access).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn keys_are_per_user() {
    let app = spawn_app().await;
    let a = app.register("ada@example.com").await;
    let b = app.register("bob@example.com").await;
    let ra: Value = create(&app, &a.access, "shared", "cli")
        .await
        .json()
        .await
        .unwrap();
    let rb = create(&app, &b.access, "shared", "cli").await;
    assert_eq!(rb.status(), StatusCode::CREATED);
    assert!(rb.headers().get("idempotent-replayed").is_none());
    let rb: Value = rb.json().await.unwrap();
    assert_ne!(ra["token"], rb["token"]);
}

#[tokio::test]
async fn malformed_keys_are_400() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let long = "k".repeat(256);
    for key in [long.as_str(), "has space", "tab\tkey"] {
        problem(
            create(&app, &s.access, key, "cli").await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let res = app
        .client
        .post(app.url("/api/v1/auth/tokens"))
        .bearer_auth(&s.access)
        .header("Idempotency-Key", "")
        .json(&json!({"name": "cli"}))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        create(&app, &s.access, &"k".repeat(255), "cli")
            .await
            .status(),
        StatusCode::CREATED
    );
    let list: Value = app.tokens(&s.access).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_create_one_row() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let (r1, r2, r3) = tokio::join!(
        create(&app, &s.access, "race", "cli"),
        create(&app, &s.access, "race", "cli"),
        create(&app, &s.access, "race", "cli"),
    );
    let mut bodies = Vec::new();
    for r in [r1, r2, r3] {
        assert_eq!(r.status(), StatusCode::CREATED);
        bodies.push(r.json::<Value>().await.unwrap());
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every caller sees the one response"
    );
    let list: Value = app.tokens(&s.access).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

/// A key used on one route and sent again to another is a different request: 422 naming
/// `Idempotency-Key`, nothing made — and the document lists that 422 (with 400 for a
/// malformed key and 409 for one still running) on every operation that takes a key.
#[tokio::test]
async fn a_key_from_another_route_is_422_and_every_keyed_operation_says_so() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    assert_eq!(
        create(&app, &s.access, "shared", "cli").await.status(),
        StatusCode::CREATED
    );
    let res = app
        .client
        .post(app.url("/api/v1/backup/history"))
        .bearer_auth(&s.access)
        .header("Idempotency-Key", "shared")
        .send()
        .await
        .unwrap();
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(p["errors"]["Idempotency-Key"].is_array(), "{p}");
    assert_eq!(
        app.get_ok("/api/v1/backup/history", &s.access).await,
        json!([]),
        "no backup was made"
    );

    let spec: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let mut keyed = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let takes_key = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
            if !takes_key {
                continue;
            }
            keyed += 1;
            for status in ["400", "409", "422"] {
                assert_eq!(
                    op["responses"][status]["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} does not list {status}"
                );
            }
        }
    }
    assert!(
        keyed >= 14,
        "only {keyed} operations take an Idempotency-Key"
    );
}
