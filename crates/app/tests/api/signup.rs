//! Sign-up modes (#20): `auth.registration = open | invite | closed`, single-use invites
//! made by signed-in users, and what a refused sign-up leaves behind (nothing).

use crate::helpers::*;
use ayubi_identity::Registration;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn register(app: &TestApp, email: &str, invite: Option<&str>) -> Response {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(code) = invite {
        body["invite"] = json!(code);
    }
    app.post_json("/api/v1/auth/register", &body, None).await
}

async fn invite(app: &TestApp, bearer: &str, body: Value) -> Value {
    let res = app
        .post_json("/api/v1/auth/invites", &body, Some(bearer))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn users(app: &TestApp) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let conn = app.sql().await;
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM users",
        ))
        .await
        .unwrap()
        .unwrap();
    conn.close().await.ok();
    row.try_get::<i64>("", "n").unwrap()
}

/// A deployment that was open (where ada signed up) and now takes invites.
async fn invite_only() -> (TestApp, TestApp, Session) {
    let open = spawn_with(|s| s.auth.register_per_hour = 1000).await;
    let ada = open.register("ada@example.com").await;
    let app = spawn_beside(&open, |s| {
        s.auth.registration = Registration::Invite;
        s.auth.register_per_hour = 1000;
    })
    .await;
    (open, app, ada)
}

#[tokio::test]
async fn invite_mode_takes_one_valid_code_per_account_and_refuses_everything_else_alike() {
    let (_open, app, ada) = invite_only().await;
    // No code, a blank one, a made-up one: the same 403, and no row.
    for code in [None, Some(""), Some("ayubi_inv_made-up"), Some("x")] {
        let p = problem(
            register(&app, "bob@example.com", code).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .starts_with("a valid invite is required"),
            "{p}"
        );
    }
    assert_eq!(users(&app).await, 1);

    // Ada makes one; the answer shows the code once, the list never.
    let made = invite(
        &app,
        &ada.access,
        json!({"note": " for bob ", "expires_in_days": 2}),
    )
    .await;
    let code = made["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with("ayubi_inv_"), "{made}");
    assert_eq!(made["note"], "for bob");
    assert_eq!(made["used_at"], Value::Null);
    let created: chrono::DateTime<chrono::Utc> =
        made["created_at"].as_str().unwrap().parse().unwrap();
    let expires: chrono::DateTime<chrono::Utc> =
        made["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires - created, chrono::Duration::days(2));
    let listed = app.get_ok("/api/v1/auth/invites", &ada.access).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(listed[0].get("code").is_none(), "{listed}");
    assert!(!listed.to_string().contains(&code));

    // Bad bodies name their field.
    for (body, field) in [
        (json!({"expires_in_days": 0}), "expires_in_days"),
        (json!({"expires_in_days": 31}), "expires_in_days"),
        (json!({"note": "n".repeat(201)}), "note"),
    ] {
        let res = app
            .post_json("/api/v1/auth/invites", &body, Some(&ada.access))
            .await;
        let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(p["errors"][field].is_array(), "{p}");
    }

    // The code with an email already taken: 409, and the code stays unused.
    problem(
        register(&app, "ada@example.com", Some(&code)).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        app.get_ok("/api/v1/auth/invites", &ada.access).await[0]["used_at"],
        Value::Null
    );
    // Bob signs up with it (the code as pasted, spaces around it).
    let res = register(&app, "bob@example.com", Some(&format!(" {code}\n"))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let bob: Value = res.json().await.unwrap();
    let bob_token = bob["access_token"].as_str().unwrap().to_owned();
    assert!(app.get_ok("/api/v1/auth/invites", &ada.access).await[0]["used_at"].is_string());
    // Once only; and a used invite cannot be revoked.
    problem(
        register(&app, "carol@example.com", Some(&code)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let id = made["id"].as_i64().unwrap();
    let res = app
        .delete_json(&format!("/api/v1/auth/invites/{id}"), None, &ada.access)
        .await;
    problem(res, StatusCode::CONFLICT).await;
    // Bob sees none of ada's invites and cannot touch them.
    assert_eq!(
        app.get_ok("/api/v1/auth/invites", &bob_token).await,
        json!([])
    );
    let res = app
        .delete_json(&format!("/api/v1/auth/invites/{id}"), None, &bob_token)
        .await;
    problem(res, StatusCode::NOT_FOUND).await;

    // Revoked: the code stops working at once.
    let revoked = invite(&app, &ada.access, json!({})).await;
    let rid = revoked["id"].as_i64().unwrap();
    let res = app
        .delete_json(&format!("/api/v1/auth/invites/{rid}"), None, &ada.access)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        register(&app, "dave@example.com", revoked["code"].as_str()).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let res = app
        .delete_json(&format!("/api/v1/auth/invites/{rid}"), None, &ada.access)
        .await;
    problem(res, StatusCode::NOT_FOUND).await;

    // Expired: seven days by default, on the service's clock.
    let old = invite(&app, &ada.access, json!({})).await;
    app.clock
        .advance(chrono::Duration::days(7) + chrono::Duration::seconds(1));
    problem(
        register(&app, "erin@example.com", old["code"].as_str()).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(users(&app).await, 2, "ada and bob, no one else");
}

/// Two sign-ups racing for one code give one account; the other gets the refusal.
#[tokio::test]
async fn two_sign_ups_racing_for_one_code_make_one_account() {
    let (_open, app, ada) = invite_only().await;
    for round in 0..3 {
        let code = invite(&app, &ada.access, json!({})).await["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let (first, second) = (
            format!("a{round}@example.com"),
            format!("b{round}@example.com"),
        );
        let (a, b) = tokio::join!(
            register(&app, &first, Some(&code)),
            register(&app, &second, Some(&code)),
        );
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::CREATED, StatusCode::FORBIDDEN],
            "round {round}"
        );
    }
    assert_eq!(users(&app).await, 4);
}

/// A refused sign-up costs what an accepted one does (the password is hashed either way),
/// so timing does not tell a good code from a bad one; and it writes no row.
#[tokio::test]
async fn a_refused_sign_up_takes_about_as_long_as_an_accepted_one() {
    let (_open, app, ada) = invite_only().await;
    let median = |mut d: Vec<Duration>| {
        d.sort();
        d[d.len() / 2]
    };
    let (mut accepted, mut refused) = (Vec::new(), Vec::new());
    for i in 0..5 {
        let code = invite(&app, &ada.access, json!({})).await["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let t = Instant::now();
        let res = register(&app, &format!("ok{i}@example.com"), Some(&code)).await;
        accepted.push(t.elapsed());
        assert_eq!(res.status(), StatusCode::CREATED);
        let t = Instant::now();
        let res = register(&app, &format!("no{i}@example.com"), Some("ayubi_inv_guess")).await;
        refused.push(t.elapsed());
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    let (accepted, refused) = (median(accepted), median(refused));
    // Without the hash a refusal takes a few hundredths of an accepted sign-up.
    assert!(
        refused * 2 >= accepted,
        "refused in {refused:?}, accepted in {accepted:?}"
    );
    assert_eq!(users(&app).await, 6);
}

/// `closed`: nobody registers, an invite does not help, and the answer says how to get
/// in. Open mode ignores an `invite` field.
#[tokio::test]
async fn closed_mode_refuses_everyone_and_open_mode_ignores_invites() {
    let (open, _invite, ada) = invite_only().await;
    let code = invite(&open, &ada.access, json!({})).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let closed = spawn_beside(&open, |s| s.auth.registration = Registration::Closed).await;
    for invite in [None, Some(code.as_str())] {
        let p = problem(
            register(&closed, "bob@example.com", invite).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert!(
            p["detail"].as_str().unwrap().contains("ayubi user create"),
            "{p}"
        );
    }
    assert_eq!(users(&open).await, 1);
    assert_eq!(
        open.get_ok("/api/v1/auth/invites", &ada.access).await[0]["used_at"],
        Value::Null,
        "the invite was not spent"
    );
    let res = register(&open, "bob@example.com", Some("not a code")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}
