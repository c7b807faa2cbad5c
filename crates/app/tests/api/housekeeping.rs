//! The hourly housekeeping, run directly against the test database.

use crate::helpers::*;
use ayubi_db::{SqlIdempotencyStore, SqlIdentityStore};
use ayubi_identity::ports::IdentityStore;
use ayubi_kernel::IdempotencyStore;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn expired_refresh_tokens_and_empty_sessions_are_purged() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    assert_eq!(app.refresh(&s.refresh).await.status(), StatusCode::OK);
    assert_eq!(app.count("refresh_tokens", s.id).await, 2);
    let store = SqlIdentityStore::new(pool(&app).await);

    assert_eq!(
        store.purge_expired(Utc::now()).await.unwrap(),
        0,
        "nothing live is touched"
    );
    assert_eq!(app.count("sessions", s.id).await, 1);

    let later = Utc::now() + Duration::days(31);
    assert_eq!(
        store.purge_expired(later).await.unwrap(),
        3,
        "two tokens, one session"
    );
    assert_eq!(app.count("refresh_tokens", s.id).await, 0);
    assert_eq!(app.count("sessions", s.id).await, 0);
    // The user stays; they log in again.
    assert_eq!(
        app.login("ada@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn idempotency_records_past_their_ttl_are_purged() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/tokens"))
        .bearer_auth(&s.access)
        .header("Idempotency-Key", "k")
        .json(&json!({"name": "cli"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let store = SqlIdempotencyStore::new(pool(&app).await);
    assert_eq!(
        store.purge(Utc::now() - Duration::hours(24)).await.unwrap(),
        0
    );
    assert_eq!(app.count("idempotency_keys", s.id).await, 1);
    assert_eq!(
        store
            .purge(Utc::now() + Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(app.count("idempotency_keys", s.id).await, 0);
    // With its record gone, the key is fresh again: a new create.
    let again = app
        .client
        .post(app.url("/api/v1/auth/tokens"))
        .bearer_auth(&s.access)
        .header("Idempotency-Key", "k")
        .json(&json!({"name": "cli"}))
        .send()
        .await
        .unwrap();
    assert!(again.headers().get("idempotent-replayed").is_none());
    assert_eq!(app.tokens(&s.access).await.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_key_older_than_the_ttl_is_not_replayed() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let create = || {
        app.client
            .post(app.url("/api/v1/auth/tokens"))
            .bearer_auth(&s.access)
            .header("Idempotency-Key", "old")
            .json(&json!({"name": "cli"}))
            .send()
    };
    assert_eq!(create().await.unwrap().status(), StatusCode::CREATED);
    let conn = app.sql().await;
    let sql = if app.db.is_postgres() {
        "UPDATE idempotency_keys SET created_at = $1"
    } else {
        "UPDATE idempotency_keys SET created_at = ?"
    };
    let old = Utc::now() - Duration::hours(25);
    conn.execute_raw(Statement::from_sql_and_values(
        conn.get_database_backend(),
        sql,
        [old.into()],
    ))
    .await
    .unwrap();
    let again = create().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert!(
        again.headers().get("idempotent-replayed").is_none(),
        "expired: a new create"
    );
    assert_eq!(app.tokens(&s.access).await.as_array().unwrap().len(), 2);
    // And the new response is what the key replays now.
    let third = create().await.unwrap();
    assert_eq!(third.headers()["idempotent-replayed"], "true");
    assert_eq!(app.tokens(&s.access).await.as_array().unwrap().len(), 2);
}
