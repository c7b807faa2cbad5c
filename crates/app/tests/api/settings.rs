//! Settings and profile over HTTP.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn settings_have_defaults_merge_and_delete() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let defaults = json!({"timezone": "UTC", "currency": "EUR", "language": "en", "week_start": "monday", "units": "metric"});
    assert_eq!(app.get_ok("/api/v1/settings", &s.access).await, defaults);

    let res = app
        .put_json("/api/v1/settings", &s.access, &json!({"currency": "usd", "language": "pt-BR", "dashboard.layout": {"cols": [1, 2]}, "units": "imperial"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let merged: Value = res.json().await.unwrap();
    assert_eq!(
        merged,
        json!({"timezone": "UTC", "currency": "USD", "language": "pt-BR", "week_start": "monday",
               "units": "imperial", "dashboard.layout": {"cols": [1, 2]}})
    );
    assert_eq!(app.get_ok("/api/v1/settings", &s.access).await, merged);
    // A second PUT merges; null deletes a free-form key and resets a known one.
    let after: Value = app
        .put_json(
            "/api/v1/settings",
            &s.access,
            &json!({"dashboard.layout": null, "units": null, "week_start": "sunday"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        after,
        json!({"timezone": "UTC", "currency": "USD", "language": "pt-BR", "week_start": "sunday", "units": "metric"})
    );
    let changes = app.get_ok("/api/v1/sync/changes", &s.access).await;
    let last = changes["changes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["event"].clone(), last["data"].clone()),
        (json!("settings:updated"), after)
    );
}

#[tokio::test]
async fn every_bad_key_is_named_and_nothing_is_half_written() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let res = app
        .put_json("/api/v1/settings", &s.access, &json!({
            "timezone": "Mars/Olympus", "currency": "EURO", "language": "@@", "week_start": "friday",
            "units": "cubits", "Bad Key": 1, "big": "x".repeat(4100), "fine": true
        }))
        .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    for key in [
        "timezone",
        "currency",
        "language",
        "week_start",
        "units",
        "Bad Key",
        "big",
    ] {
        assert!(p["errors"][key].is_array(), "{key} should be named: {p}");
    }
    assert!(p["errors"].get("fine").is_none());
    assert_eq!(
        app.get_ok("/api/v1/settings", &s.access).await["units"],
        "metric"
    );
    assert!(
        app.get_ok("/api/v1/settings", &s.access)
            .await
            .get("fine")
            .is_none(),
        "all or nothing"
    );
    problem(
        app.put_json("/api/v1/settings", &s.access, &json!(["currency", "USD"]))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let edge = json!({"k": "x".repeat(4000), format!("a{}", "b".repeat(99)): 1});
    assert_eq!(
        app.put_json("/api/v1/settings", &s.access, &edge)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn at_most_200_keys_are_stored() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let batch: serde_json::Map<String, Value> =
        (0..198).map(|i| (format!("k{i}"), json!(i))).collect();
    assert_eq!(
        app.put_json("/api/v1/settings", &s.access, &Value::Object(batch))
            .await
            .status(),
        StatusCode::OK
    );
    // Two known keys stored make 200: allowed.
    assert_eq!(
        app.put_json(
            "/api/v1/settings",
            &s.access,
            &json!({"currency": "JPY", "units": "metric"})
        )
        .await
        .status(),
        StatusCode::OK
    );
    let p = problem(
        app.put_json("/api/v1/settings", &s.access, &json!({"one.more": 1}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["one.more"].is_array(), "{p}");
    // Replacing or deleting is still fine at the limit.
    assert_eq!(
        app.put_json(
            "/api/v1/settings",
            &s.access,
            &json!({"k1": "new", "k2": null})
        )
        .await
        .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.put_json("/api/v1/settings", &s.access, &json!({"one.more": 1}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(app.count("user_settings", s.id).await, 200);
}

#[tokio::test]
async fn theme_goals_and_profile() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    assert_eq!(
        app.get_ok("/api/v1/settings/theme", &s.access).await,
        json!({"theme": "dark"})
    );
    problem(
        app.get("/api/v1/settings/theme", None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let goals: Value = app
        .put_json(
            "/api/v1/settings/goals",
            &s.access,
            &json!({"water_ml_per_day": 2200, "kcal_per_day": 1900}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        app.get_ok("/api/v1/sport/goals", &s.access).await,
        goals,
        "one store"
    );
    let p = problem(
        app.put_json(
            "/api/v1/settings/goals",
            &s.access,
            &json!({"water_ml_per_day": 1, "kcal_per_day": 1900}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["water_ml_per_day"].is_array());

    assert_eq!(
        app.get_ok("/api/v1/settings/profile", &s.access).await,
        json!({"email": "ada@example.com", "display_name": null, "timezone": "UTC", "steam_id": null, "faceit_nickname": null})
    );
    let res = app
        .put_json("/api/v1/settings/profile", &s.access, &json!({"display_name": " Ada ", "steam_id": "76561197960287930", "faceit_nickname": "ada_l"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let profile: Value = res.json().await.unwrap();
    assert_eq!(
        profile,
        json!({"email": "ada@example.com", "display_name": "Ada", "timezone": "UTC", "steam_id": "76561197960287930", "faceit_nickname": "ada_l"})
    );
    // Absent fields stay; null clears.
    let cleared: Value = app
        .put_json(
            "/api/v1/settings/profile",
            &s.access,
            &json!({"steam_id": null}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (cleared["steam_id"].clone(), cleared["display_name"].clone()),
        (json!(null), json!("Ada"))
    );
    assert_eq!(
        app.get_ok("/api/v1/auth/me", &s.access).await["display_name"],
        "Ada",
        "one profile"
    );
    let p = problem(
        app.put_json("/api/v1/settings/profile", &s.access, &json!({"display_name": "", "timezone": "Nowhere", "steam_id": "123", "faceit_nickname": "a b", "email": "x@y.z"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        p["errors"]["email"].is_array(),
        "email is not writable here: {p}"
    );
    let p = problem(
        app.put_json("/api/v1/settings/profile", &s.access, &json!({"display_name": "", "timezone": "Nowhere", "steam_id": "123", "faceit_nickname": "a b"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    for f in ["display_name", "timezone", "steam_id", "faceit_nickname"] {
        assert!(p["errors"][f].is_array(), "{f}: {p}");
    }
    assert_eq!(
        app.get_ok("/api/v1/settings/profile", &s.access).await,
        cleared
    );
    let events: Vec<_> = app.get_ok("/api/v1/sync/changes", &s.access).await["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        events,
        ["goals:updated", "profile:updated", "profile:updated"]
    );
}

#[tokio::test]
async fn one_time_zone_moves_today_everywhere() {
    let app = spawn_app().await;
    app.clock.set("2026-11-26T10:30:00Z".parse().unwrap());
    let s = app.register("ada@example.com").await;
    let water_date = async || {
        let v: Value = app
            .create("/api/v1/sport/water", &s.access, None, &json!({"ml": 100}))
            .await
            .json()
            .await
            .unwrap();
        v["date"].as_str().unwrap().to_owned()
    };
    assert_eq!(water_date().await, "2026-11-26");
    // Through the settings…
    let res = app
        .put_json(
            "/api/v1/settings",
            &s.access,
            &json!({"timezone": "Pacific/Kiritimati"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.get_ok("/api/v1/settings/profile", &s.access).await["timezone"],
        "Pacific/Kiritimati"
    );
    assert_eq!(water_date().await, "2026-11-27");
    assert_eq!(
        app.get_ok("/api/v1/sport/stats", &s.access).await["date"],
        "2026-11-27"
    );
    // …or the profile: one value.
    let res = app
        .put_json(
            "/api/v1/settings/profile",
            &s.access,
            &json!({"timezone": "Pacific/Pago_Pago"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.get_ok("/api/v1/settings", &s.access).await["timezone"],
        "Pacific/Pago_Pago"
    );
    assert_eq!(water_date().await, "2026-11-25");
    // null returns to UTC.
    app.put_json("/api/v1/settings", &s.access, &json!({"timezone": null}))
        .await;
    assert_eq!(
        app.get_ok("/api/v1/settings/profile", &s.access).await["timezone"],
        "UTC"
    );
}

#[tokio::test]
async fn settings_are_per_user_and_cascade() {
    let app = spawn_app().await;
    let a = app.register("ada@example.com").await;
    let b = app.register("bob@example.com").await;
    app.put_json(
        "/api/v1/settings",
        &a.access,
        &json!({"currency": "GBP", "note": "mine"}),
    )
    .await;
    app.put_json(
        "/api/v1/settings/profile",
        &a.access,
        &json!({"timezone": "Asia/Tokyo"}),
    )
    .await;
    let theirs = app.get_ok("/api/v1/settings", &b.access).await;
    assert_eq!(
        (theirs["currency"].clone(), theirs["timezone"].clone()),
        (json!("EUR"), json!("UTC"))
    );
    assert!(theirs.get("note").is_none());
    app.delete_json(
        "/api/v1/auth/me",
        Some(&json!({"password": PASSWORD})),
        &a.access,
    )
    .await;
    assert_eq!(app.count("user_settings", a.id).await, 0);
}

#[tokio::test]
async fn updated_at_of_settings_is_kept_by_the_trigger() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    app.put_json("/api/v1/settings", &s.access, &json!({"k": 1}))
        .await;
    let old: chrono::DateTime<chrono::Utc> = "2000-01-01T00:00:00Z".parse().unwrap();
    app.exec(
        "UPDATE user_settings SET updated_at = ? WHERE user_id = ?",
        vec![old.into(), s.id.into()],
    )
    .await;
    app.put_json("/api/v1/settings", &s.access, &json!({"k": 2}))
        .await;
    let conn = app.sql().await;
    use sea_orm::ConnectionTrait;
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT updated_at FROM user_settings",
        ))
        .await
        .unwrap()
        .unwrap();
    let updated: chrono::DateTime<chrono::Utc> = row.try_get("", "updated_at").unwrap();
    assert!(
        updated.timestamp() > old.timestamp() + 86_400 * 365,
        "{updated}"
    );
}
