//! Every Auth flow of api.md, over HTTP.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn register_returns_a_working_pair_and_the_user() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "  Ada@Example.COM ", "password": PASSWORD, "display_name": " Ada "}),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(
        body["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("ayubi_rt_")
    );
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["display_name"], "Ada");
    let access = body["access_token"].as_str().unwrap();

    let me: Value = app
        .get("/api/v1/auth/me", Some(access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me, body["user"]);
    assert_eq!(
        me.as_object().unwrap().len(),
        4,
        "exactly id, email, display_name, created_at"
    );
}

#[tokio::test]
async fn register_refuses_a_taken_email_whatever_its_case() {
    let app = spawn_app().await;
    app.register("ada@example.com").await;
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "ADA@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    let body = problem(res, StatusCode::CONFLICT).await;
    assert_eq!(body["detail"], "email already registered");
}

#[tokio::test]
async fn register_names_the_bad_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({"email": "a@b.co", "password": "short"}), "password"),
        (
            json!({"email": "a@b.co", "password": "x".repeat(129)}),
            "password",
        ),
        (
            json!({"email": "not-an-email", "password": PASSWORD}),
            "email",
        ),
        (
            json!({"email": "a@b.co", "password": PASSWORD, "display_name": "  "}),
            "display_name",
        ),
        (json!({"password": PASSWORD}), "email"),
        (
            json!({"email": "a@b.co", "password": PASSWORD, "user_id": 1}),
            "user_id",
        ),
        (json!({"email": 5, "password": PASSWORD}), "email"),
    ];
    for (body, field) in cases {
        let res = app.post_json("/api/v1/auth/register", &body, None).await;
        let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            p["errors"][field].as_array().is_some_and(|m| !m.is_empty()),
            "{body} should name {field}: {p}"
        );
    }
    // Nothing was half-written: the email is still free.
    app.register("a@b.co").await;
}

#[tokio::test]
async fn login_accepts_the_password_and_refuses_anything_else_alike() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let res = app.login("ADA@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["id"], s.id);
    assert_ne!(
        body["refresh_token"],
        s.refresh.as_str(),
        "a login is a new session"
    );

    let wrong = app.login("ada@example.com", "wrong password!!").await;
    assert_eq!(wrong.headers()["www-authenticate"], "Bearer");
    let wrong = problem(wrong, StatusCode::UNAUTHORIZED).await;
    let unknown = problem(
        app.login("nobody@example.com", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(
        wrong, unknown,
        "an unknown email must look exactly like a wrong password"
    );
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;

    let res = app.refresh(&s.refresh).await;
    assert_eq!(res.status(), StatusCode::OK);
    let pair: Value = res.json().await.unwrap();
    let (access2, refresh2) = (
        pair["access_token"].as_str().unwrap().to_owned(),
        pair["refresh_token"].as_str().unwrap().to_owned(),
    );
    assert_ne!(refresh2, s.refresh);
    assert_eq!(app.me_status(&access2).await, StatusCode::OK);
    assert_eq!(
        app.me_status(&s.access).await,
        StatusCode::OK,
        "rotation keeps the session"
    );

    // The rotated token is presented again: a thief or a replay. The whole family dies.
    let reuse = app.refresh(&s.refresh).await;
    problem(reuse, StatusCode::UNAUTHORIZED).await;
    let next = app.refresh(&refresh2).await;
    problem(next, StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.me_status(&access2).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me_status(&s.access).await, StatusCode::UNAUTHORIZED);

    // Another session of the same user is untouched.
    let other: Value = app
        .login("ada@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        app.me_status(other["access_token"].as_str().unwrap()).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn refresh_refuses_garbage() {
    let app = spawn_app().await;
    for token in ["", "ayubi_rt_nope", "eyJhbGciOi.x.y"] {
        let res = app.refresh(token).await;
        problem(res, StatusCode::UNAUTHORIZED).await;
    }
}

#[tokio::test]
async fn logout_ends_the_session_at_once() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    assert_eq!(app.logout(&s.refresh).await, StatusCode::NO_CONTENT);
    assert_eq!(
        app.me_status(&s.access).await,
        StatusCode::UNAUTHORIZED,
        "access token dies before exp"
    );
    let res = app.refresh(&s.refresh).await;
    problem(res, StatusCode::UNAUTHORIZED).await;
}

/// Sessions are remembered as active (`auth.session_cache_secs`), so a revocation that
/// bypasses the service — a row changed by hand — is not seen at once; every revocation
/// through the service is, even for a session in use. With 0, every request asks; and a
/// PostgreSQL deployment without Redis always asks (another instance could revoke a
/// session unseen).
#[tokio::test]
async fn remembered_sessions_are_forgotten_by_every_revocation() {
    for cache_secs in [30, 0] {
        let app = spawn_with(move |s| {
            s.auth.session_cache_secs = cache_secs;
            s.redis.url = String::new().into();
        })
        .await;
        let s = app.register("ada@example.com").await;
        let other = app.login("ada@example.com", PASSWORD).await;
        let other: Value = other.json().await.unwrap();
        let other = other["access_token"].as_str().unwrap().to_owned();
        for token in [&s.access, &other] {
            assert_eq!(app.me_status(token).await, StatusCode::OK);
        }
        app.revoke_sessions_by_hand(s.id, true).await;
        let remembered = cache_secs > 0 && !app.db.is_postgres();
        let expected = if remembered {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(
            app.me_status(&s.access).await,
            expected,
            "cache {cache_secs}s"
        );
        app.revoke_sessions_by_hand(s.id, false).await;
        // Through the service: logging one session out is seen at once, the other
        // session's token still works (asked again, and still active).
        assert_eq!(app.logout(&s.refresh).await, StatusCode::NO_CONTENT);
        assert_eq!(
            app.me_status(&s.access).await,
            StatusCode::UNAUTHORIZED,
            "cache {cache_secs}s"
        );
        assert_eq!(
            app.me_status(&other).await,
            StatusCode::OK,
            "cache {cache_secs}s"
        );
    }
}

#[tokio::test]
async fn me_requires_a_valid_bearer() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/auth/me", None).await;
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    problem(res, StatusCode::UNAUTHORIZED).await;
    let res = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("Authorization", "Basic YWRhOnB3")
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn delete_me_needs_the_password_and_removes_every_row() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let other = app.register("bob@example.com").await;
    app.login("ada@example.com", PASSWORD).await;
    let pat = app
        .client
        .post(app.url("/api/v1/auth/tokens"))
        .bearer_auth(&s.access)
        .header("Idempotency-Key", "k1")
        .json(&json!({"name": "script"}))
        .send()
        .await
        .unwrap();
    assert_eq!(pat.status(), StatusCode::CREATED);
    for table in [
        "sessions",
        "refresh_tokens",
        "personal_access_tokens",
        "idempotency_keys",
    ] {
        assert!(
            app.count(table, s.id).await > 0,
            "{table} should have rows before"
        );
    }

    let wrong = app
        .delete_json(
            "/api/v1/auth/me",
            Some(&json!({"password": "not my password"})),
            &s.access,
        )
        .await;
    problem(wrong, StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.me_status(&s.access).await, StatusCode::OK);

    let res = app
        .delete_json(
            "/api/v1/auth/me",
            Some(&json!({"password": PASSWORD})),
            &s.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for table in [
        "sessions",
        "refresh_tokens",
        "personal_access_tokens",
        "idempotency_keys",
    ] {
        assert_eq!(
            app.count(table, s.id).await,
            0,
            "{table} keeps rows of a deleted user"
        );
    }
    assert_eq!(app.me_status(&s.access).await, StatusCode::UNAUTHORIZED);
    problem(
        app.login("ada@example.com", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(
        app.me_status(&other.access).await,
        StatusCode::OK,
        "other users keep their data"
    );
    assert!(app.count("sessions", other.id).await > 0);
    // The email can be registered again.
    app.register("ada@example.com").await;
}

#[tokio::test]
async fn password_change_revokes_everything_issued_before() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let second: Value = app
        .login("ada@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let pat: Value = app
        .post_json(
            "/api/v1/auth/tokens",
            &json!({"name": "cli"}),
            Some(&s.access),
        )
        .await
        .json()
        .await
        .unwrap();
    let pat = pat["token"].as_str().unwrap().to_owned();
    assert_eq!(app.me_status(&pat).await, StatusCode::OK);

    let wrong = app
        .post_json(
            "/api/v1/auth/password",
            &json!({"current_password": "wrong password!", "new_password": "a brand new passphrase"}),
            Some(&s.access),
        )
        .await;
    problem(wrong, StatusCode::UNAUTHORIZED).await;
    let weak = app
        .post_json(
            "/api/v1/auth/password",
            &json!({"current_password": PASSWORD, "new_password": "short"}),
            Some(&s.access),
        )
        .await;
    let weak = problem(weak, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(weak["errors"]["new_password"].is_array());
    assert_eq!(
        app.me_status(&pat).await,
        StatusCode::OK,
        "a refused change revokes nothing"
    );

    let res = app
        .post_json(
            "/api/v1/auth/password",
            &json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
            Some(&s.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let fresh: Value = res.json().await.unwrap();
    assert_eq!(fresh["user"]["id"], s.id);
    let fresh_access = fresh["access_token"].as_str().unwrap();

    assert_eq!(
        app.me_status(&s.access).await,
        StatusCode::UNAUTHORIZED,
        "the caller's old token"
    );
    assert_eq!(
        app.me_status(second["access_token"].as_str().unwrap())
            .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.me_status(&pat).await,
        StatusCode::UNAUTHORIZED,
        "personal access token"
    );
    for refresh in [
        s.refresh.as_str(),
        second["refresh_token"].as_str().unwrap(),
    ] {
        let res = app.refresh(refresh).await;
        problem(res, StatusCode::UNAUTHORIZED).await;
    }
    assert_eq!(app.me_status(fresh_access).await, StatusCode::OK);
    let refreshed = app.refresh(fresh["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    problem(
        app.login("ada@example.com", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(
        app.login("ada@example.com", "a brand new passphrase")
            .await
            .status(),
        StatusCode::OK
    );
}
