//! OWASP API Security Top 10 (2023) checks that span every route (docs/security.md maps
//! each risk to its tests): object-level authorization on every operation that takes an
//! id, and mass assignment on every body.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// API1 (broken object level authorization): B sends every verb of every operation that
/// names a resource, with A's ids (and a body that would be valid, so only ownership can
/// refuse it): every answer is 404 — the same as for an id that does not exist, so B
/// learns nothing — and A's data is exactly as before.
#[tokio::test]
async fn another_users_ids_reach_nothing_on_any_route_or_verb() {
    let app = spawn_app().await;
    let a = app.register("ada@example.com").await;
    let b = app.register("bob@example.com").await;
    let day = DAY;
    let owned = Owned::one_of_each(&app, &a).await;
    // B's own category, so an entry body is valid for B.
    let b_category = created(
        &app,
        &b.access,
        "/api/v1/finance/categories",
        json!({"name": "Mine", "kind": "expense"}),
    )
    .await;
    let body_for = |template: &str| -> Value {
        match template {
            t if t.starts_with("/api/v1/habits/{id}/") => json!({"date": day}),
            "/api/v1/habits/{id}" => json!({"name": "Taken"}),
            "/api/v1/finance/categories/{id}" => json!({"name": "Taken", "kind": "expense"}),
            "/api/v1/finance/entries/{id}" => json!({
                "kind": "expense", "amount": 1, "category_id": b_category.parse::<i64>().unwrap()
            }),
            "/api/v1/journal/{id}" => json!({"content": "taken"}),
            _ => json!({}),
        }
    };
    let before = app.get_ok("/api/v1/backup/export", &a.access).await;

    let spec: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let mut tried = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        if !template.contains('{') {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let path = owned.path(template);
            let method: Method = method.to_uppercase().parse().unwrap();
            let mut req = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(&b.access);
            if method == Method::POST || method == Method::PUT {
                req = req.json(&body_for(template));
            }
            let res = req.send().await.unwrap();
            assert_eq!(
                res.status(),
                StatusCode::NOT_FOUND,
                "B's {method} {path} ({template})"
            );
            tried += 1;
        }
    }
    assert!(tried >= 25, "{tried} operations name a resource");
    let after = app.get_ok("/api/v1/backup/export", &a.access).await;
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("exported_at");
        v
    };
    assert_eq!(strip(after), strip(before), "A's data is as it was");
}

/// API3 (broken object property level authorization): fields a client does not own —
/// ids, owners, timestamps, server-computed values — are refused by name on every body
/// (422), never silently applied.
#[tokio::test]
async fn bodies_refuse_fields_the_server_owns() {
    let app = spawn_app().await;
    let a = app.register("ada@example.com").await;
    let b = app.register("bob@example.com").await;
    let cases = [
        ("/api/v1/sport/water", json!({"ml": 250})),
        ("/api/v1/sport/food", json!({"name": "soup", "kcal": 300})),
        (
            "/api/v1/sport/workout",
            json!({"name": "run", "duration_min": 30, "kcal_burned": 300}),
        ),
        ("/api/v1/habits", json!({"name": "Read"})),
        (
            "/api/v1/finance/categories",
            json!({"name": "Food", "kind": "expense"}),
        ),
        ("/api/v1/journal", json!({"content": "x"})),
        ("/api/v1/travel/wishlist", json!({"country_iso3": "JPN"})),
        ("/api/v1/auth/tokens", json!({"name": "cli"})),
    ];
    for (path, body) in cases {
        for (field, value) in [
            ("user_id", json!(b.id)),
            ("id", json!(1)),
            ("created_at", json!("2020-01-01T00:00:00Z")),
        ] {
            let mut sent = body.clone();
            sent[field] = value;
            let res = app.create(path, &a.access, None, &sent).await;
            let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert!(p["errors"].get(field).is_some(), "{path} with {field}: {p}");
        }
    }
    // The profile cannot move the account: email is not a profile field.
    let res = app
        .put_json(
            "/api/v1/settings/profile",
            &a.access,
            &json!({"email": "bob@example.com"}),
        )
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    for (table, user) in [("sport_water", a.id), ("habits", a.id)] {
        assert_eq!(app.count(table, user).await, 0, "{table}: nothing written");
    }
}

/// API4 (unrestricted resource consumption): JSON nested deeper than the parser's limit
/// (128) is a 400 on any body, the backup import included — never a stack overflow —,
/// and the server goes on serving.
#[tokio::test]
async fn deeply_nested_json_is_refused() {
    let app = spawn_app().await;
    let a = app.register("ada@example.com").await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for (path, body) in [
        (
            "/api/v1/journal",
            format!(r#"{{"content": "x", "tags": {deep}}}"#),
        ),
        // Settings values are free JSON: the one place a document can nest without limit.
        (
            "/api/v1/backup/import",
            format!(
                r#"{{"format": "ayubi-backup", "version": 1, "settings": {{"deep": {deep}}}}}"#
            ),
        ),
        ("/api/v1/settings", format!(r#"{{"deep": {deep}}}"#)),
    ] {
        let method = if path == "/api/v1/settings" {
            reqwest::Method::PUT
        } else {
            reqwest::Method::POST
        };
        let res = app
            .client
            .request(method, app.url(path))
            .bearer_auth(&a.access)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        let p = problem(res, StatusCode::BAD_REQUEST).await;
        assert!(
            p["detail"].as_str().unwrap().contains("recursion"),
            "{path}: {p}"
        );
    }
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
}

/// API7 (server-side request forgery): the only upstream URLs are the operator's
/// (`games.*_api_url`, the S3 endpoint); what a user links — a SteamID64, a FACEIT
/// nickname — must match a strict pattern before it is ever put in a path or query, so it
/// cannot name another host, path or parameter.
#[tokio::test]
async fn linked_accounts_cannot_steer_an_upstream_request() {
    let app = spawn_app().await;
    let a = app.register("ada@example.com").await;
    for (field, value) in [
        ("steam_id", "76561197960287930@evil.example"),
        ("steam_id", "../../ISteamUser"),
        ("steam_id", "7656119796028793&key=x"),
        ("faceit_nickname", "../admin"),
        ("faceit_nickname", "a?nickname=b"),
        ("faceit_nickname", "http://169.254.169.254/"),
        ("faceit_nickname", "a/b"),
    ] {
        let res = app
            .put_json(
                "/api/v1/settings/profile",
                &a.access,
                &json!({ field: value }),
            )
            .await;
        let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(p["errors"].get(field).is_some(), "{field}={value}: {p}");
    }
}
