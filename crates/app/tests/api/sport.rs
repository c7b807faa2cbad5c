//! Sport over HTTP: every route, bound, isolation case, idempotent retry, time-zone case
//! and stats over days and ranges.

use crate::helpers::*;
use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn at(rfc3339: &str) -> chrono::DateTime<Utc> {
    rfc3339.parse().unwrap()
}

#[tokio::test]
async fn water_is_logged_listed_and_deleted() {
    let app = spawn_app().await;
    app.clock.set(at("2026-11-26T08:00:00Z"));
    let s = app.register("ada@example.com").await;
    let res = app
        .create("/api/v1/sport/water", &s.access, None, &json!({"ml": 250}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["date"], "2026-11-26", "date defaults to today");
    assert_eq!(first["ml"], 250);
    assert_eq!(first["created_at"], "2026-11-26T08:00:00Z");
    assert_eq!(
        first.as_object().unwrap().len(),
        4,
        "id, date, ml, created_at"
    );
    let older = app
        .create(
            "/api/v1/sport/water",
            &s.access,
            None,
            &json!({"ml": 500, "date": "2026-11-20"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let second = app
        .create("/api/v1/sport/water", &s.access, None, &json!({"ml": 1}))
        .await
        .json::<Value>()
        .await
        .unwrap();

    // Default list: today only, newest first.
    let today = app.get_ok("/api/v1/sport/water", &s.access).await;
    assert_eq!(today, json!([second, first]));
    let range = app
        .get_ok(
            "/api/v1/sport/water?from=2026-11-01&to=2026-11-30",
            &s.access,
        )
        .await;
    assert_eq!(range, json!([second, first, older]));
    let from_only = app
        .get_ok("/api/v1/sport/water?from=2026-11-20", &s.access)
        .await;
    assert_eq!(
        from_only.as_array().unwrap().len(),
        3,
        "from alone runs to today"
    );
    let limited = app
        .get_ok("/api/v1/sport/water?from=2026-11-01&limit=2", &s.access)
        .await;
    assert_eq!(limited, json!([second, first]));
    assert_eq!(
        app.get_ok("/api/v1/sport/water?to=2026-11-20", &s.access)
            .await,
        json!([older])
    );

    let id = first["id"].as_i64().unwrap();
    let res = app
        .delete_json(&format!("/api/v1/sport/water/{id}"), None, &s.access)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let again = app
        .delete_json(&format!("/api/v1/sport/water/{id}"), None, &s.access)
        .await;
    problem(again, StatusCode::NOT_FOUND).await;
    assert_eq!(
        app.get_ok("/api/v1/sport/water", &s.access).await,
        json!([second])
    );
}

#[tokio::test]
async fn food_and_workouts_round_trip() {
    let app = spawn_app().await;
    app.clock.set(at("2026-11-26T08:00:00Z"));
    let s = app.register("ada@example.com").await;
    let food = app
        .create(
            "/api/v1/sport/food",
            &s.access,
            None,
            &json!({"name": " Pasta ", "kcal": 650, "protein": 22.5, "carbs": 80, "date": "2026-11-25"}),
        )
        .await;
    assert_eq!(food.status(), StatusCode::CREATED);
    let food: Value = food.json().await.unwrap();
    assert_eq!(
        food,
        json!({"id": food["id"], "date": "2026-11-25", "name": "Pasta", "kcal": 650, "protein": 22.5,
               "carbs": 80.0, "fat": null, "created_at": "2026-11-26T08:00:00Z"})
    );
    let workout = app
        .create(
            "/api/v1/sport/workout",
            &s.access,
            None,
            &json!({"name": "Run", "duration_min": 45, "kcal_burned": 420}),
        )
        .await;
    assert_eq!(workout.status(), StatusCode::CREATED);
    let workout: Value = workout.json().await.unwrap();
    assert_eq!(
        workout,
        json!({"id": workout["id"], "date": "2026-11-26", "name": "Run", "duration_min": 45,
               "kcal_burned": 420, "created_at": "2026-11-26T08:00:00Z"})
    );
    assert_eq!(
        app.get_ok("/api/v1/sport/food", &s.access).await,
        json!([]),
        "the meal was yesterday"
    );
    assert_eq!(
        app.get_ok("/api/v1/sport/food?from=2026-11-25", &s.access)
            .await,
        json!([food])
    );
    assert_eq!(
        app.get_ok("/api/v1/sport/workout", &s.access).await,
        json!([workout])
    );

    for (path, id) in [("food", &food["id"]), ("workout", &workout["id"])] {
        let res = app
            .delete_json(&format!("/api/v1/sport/{path}/{id}"), None, &s.access)
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(
        app.get_ok("/api/v1/sport/food?from=2026-11-25", &s.access)
            .await,
        json!([])
    );
    assert_eq!(
        app.get_ok("/api/v1/sport/workout", &s.access).await,
        json!([])
    );
}

#[tokio::test]
async fn every_bound_is_enforced_and_named() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let ok = [
        ("water", json!({"ml": 1})),
        ("water", json!({"ml": 10000})),
        (
            "food",
            json!({"name": "x", "kcal": 0, "protein": 0, "carbs": 2000, "fat": 0.1}),
        ),
        ("food", json!({"name": "x".repeat(255), "kcal": 20000})),
        (
            "workout",
            json!({"name": "x", "duration_min": 1, "kcal_burned": 0}),
        ),
        (
            "workout",
            json!({"name": "x", "duration_min": 1440, "kcal_burned": 20000}),
        ),
    ];
    for (path, body) in &ok {
        let res = app
            .create(&format!("/api/v1/sport/{path}"), &s.access, None, body)
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{path} {body}");
    }
    let bad = [
        ("water", json!({"ml": 0}), "ml"),
        ("water", json!({"ml": 10001}), "ml"),
        ("water", json!({"ml": 2.5}), "ml"),
        ("water", json!({"ml": "250"}), "ml"),
        ("water", json!({}), "ml"),
        ("water", json!({"ml": 250, "date": "2026-02-30"}), "date"),
        ("water", json!({"ml": 250, "user_id": 2}), "user_id"),
        ("food", json!({"name": "", "kcal": 1}), "name"),
        ("food", json!({"name": "   ", "kcal": 1}), "name"),
        ("food", json!({"name": "x".repeat(256), "kcal": 1}), "name"),
        ("food", json!({"name": "x", "kcal": -1}), "kcal"),
        ("food", json!({"name": "x", "kcal": 20001}), "kcal"),
        (
            "food",
            json!({"name": "x", "kcal": 1, "protein": 2000.1}),
            "protein",
        ),
        (
            "food",
            json!({"name": "x", "kcal": 1, "carbs": -0.5}),
            "carbs",
        ),
        ("food", json!({"name": "x", "kcal": 1, "fat": 1.25}), "fat"),
        ("food", json!({"kcal": 1}), "name"),
        (
            "workout",
            json!({"name": "x", "duration_min": 0, "kcal_burned": 1}),
            "duration_min",
        ),
        (
            "workout",
            json!({"name": "x", "duration_min": 1441, "kcal_burned": 1}),
            "duration_min",
        ),
        (
            "workout",
            json!({"name": "x", "duration_min": 10, "kcal_burned": 20001}),
            "kcal_burned",
        ),
        (
            "workout",
            json!({"name": "x", "duration_min": 10}),
            "kcal_burned",
        ),
    ];
    for (path, body, field) in &bad {
        let res = app
            .create(&format!("/api/v1/sport/{path}"), &s.access, None, body)
            .await;
        let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            p["errors"][field].is_array(),
            "{path} {body} should name {field}: {p}"
        );
    }
    for (body, field) in [
        (
            json!({"water_ml_per_day": 249, "kcal_per_day": 2000}),
            "water_ml_per_day",
        ),
        (
            json!({"water_ml_per_day": 20001, "kcal_per_day": 2000}),
            "water_ml_per_day",
        ),
        (
            json!({"water_ml_per_day": 3000, "kcal_per_day": 499}),
            "kcal_per_day",
        ),
        (
            json!({"water_ml_per_day": 3000, "kcal_per_day": 10001}),
            "kcal_per_day",
        ),
        (json!({"water_ml_per_day": 3000}), "kcal_per_day"),
    ] {
        let p = problem(
            app.put_json("/api/v1/sport/goals", &s.access, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(p["errors"][field].is_array(), "{body}: {p}");
    }
    for edge in [
        json!({"water_ml_per_day": 250, "kcal_per_day": 500}),
        json!({"water_ml_per_day": 20000, "kcal_per_day": 10000}),
    ] {
        assert_eq!(
            app.put_json("/api/v1/sport/goals", &s.access, &edge)
                .await
                .status(),
            StatusCode::OK
        );
    }
    // Query values: unparsable → 400, out of range → 422.
    problem(
        app.get("/api/v1/sport/water?from=yesterday", Some(&s.access))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/api/v1/sport/water?limit=-1", Some(&s.access))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let p = problem(
        app.get("/api/v1/sport/water?limit=1001", Some(&s.access))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["limit"].is_array());
    let p = problem(
        app.get(
            "/api/v1/sport/water?from=2026-02-02&to=2026-02-01",
            Some(&s.access),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["from"].is_array());
    // Refused writes wrote nothing: 6 entries, and only the two goal updates in the log.
    let changes = app.get_ok("/api/v1/sync/changes", &s.access).await;
    assert_eq!(changes["changes"].as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn another_users_entries_are_invisible_and_untouchable() {
    let app = spawn_app().await;
    let a = app.register("ada@example.com").await;
    let b = app.register("bob@example.com").await;
    let mut ids = Vec::new();
    for (path, body) in [
        ("water", json!({"ml": 300})),
        ("food", json!({"name": "apple", "kcal": 80})),
        (
            "workout",
            json!({"name": "walk", "duration_min": 30, "kcal_burned": 100}),
        ),
    ] {
        let v: Value = app
            .create(&format!("/api/v1/sport/{path}"), &a.access, None, &body)
            .await
            .json()
            .await
            .unwrap();
        ids.push((path, v["id"].as_i64().unwrap()));
    }
    app.put_json(
        "/api/v1/sport/goals",
        &a.access,
        &json!({"water_ml_per_day": 1000, "kcal_per_day": 1000}),
    )
    .await;
    for (path, id) in &ids {
        assert_eq!(
            app.get_ok(&format!("/api/v1/sport/{path}"), &b.access)
                .await,
            json!([])
        );
        let foreign = problem(
            app.delete_json(&format!("/api/v1/sport/{path}/{id}"), None, &b.access)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let missing = problem(
            app.delete_json(
                &format!("/api/v1/sport/{path}/{}", id + 1000),
                None,
                &b.access,
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(
            foreign, missing,
            "another user's id looks exactly like a missing one"
        );
    }
    let stats = app.get_ok("/api/v1/sport/stats", &b.access).await;
    assert_eq!(
        (
            stats["water_ml"].clone(),
            stats["kcal_in"].clone(),
            stats["kcal_burned"].clone()
        ),
        (json!(0), json!(0), json!(0))
    );
    assert_eq!(stats["water_goal_ml"], 3000, "bob keeps the default goals");
    assert_eq!(
        app.get_ok("/api/v1/sync/changes", &b.access).await["changes"],
        json!([])
    );
    // Ada's entries survived Bob's attempts.
    assert_eq!(
        app.get_ok("/api/v1/sport/water", &a.access)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    for (path, _) in &ids {
        problem(
            app.delete_json(&format!("/api/v1/sport/{path}/abc"), None, &a.access)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
}

#[tokio::test]
async fn a_retried_post_creates_one_entry_and_one_change() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    for (path, body) in [
        ("/api/v1/sport/water", json!({"ml": 300})),
        ("/api/v1/water", json!({"ml": 200})),
        (
            "/api/v1/sport/food",
            json!({"name": "apple", "kcal": 80, "fat": 0.3}),
        ),
        (
            "/api/v1/sport/workout",
            json!({"name": "walk", "duration_min": 30, "kcal_burned": 100}),
        ),
    ] {
        let key = format!("retry {path}").replace(' ', "-");
        let first = app.create(path, &s.access, Some(&key), &body).await;
        assert_eq!(first.status(), StatusCode::CREATED);
        let first: Value = first.json().await.unwrap();
        let again = app.create(path, &s.access, Some(&key), &body).await;
        assert_eq!(again.status(), StatusCode::CREATED);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.json::<Value>().await.unwrap(), first, "{path}");
        let changed =
            json!({"ml": 999, "name": "other", "kcal": 1, "duration_min": 1, "kcal_burned": 1});
        let other = app.create(path, &s.access, Some(&key), &changed).await;
        assert_eq!(
            other.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: a different body with the same key"
        );
    }
    assert_eq!(
        app.get_ok("/api/v1/sport/water", &s.access)
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        app.get_ok("/api/v1/sport/food", &s.access)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get_ok("/api/v1/sport/workout", &s.access)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let changes = app.get_ok("/api/v1/sync/changes", &s.access).await;
    let seqs: Vec<i64> = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        vec![1, 2, 3, 4],
        "one change per created entry, no gaps"
    );
}

#[tokio::test]
async fn legacy_water_is_the_same_store() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let legacy: Value = app
        .create("/api/v1/water", &s.access, None, &json!({"ml": 330}))
        .await
        .json()
        .await
        .unwrap();
    let modern: Value = app
        .create("/api/v1/sport/water", &s.access, None, &json!({"ml": 250}))
        .await
        .json()
        .await
        .unwrap();
    let both = json!([modern, legacy]);
    assert_eq!(app.get_ok("/api/v1/water", &s.access).await, both);
    assert_eq!(app.get_ok("/api/v1/sport/water", &s.access).await, both);
    let res = app
        .delete_json(&format!("/api/v1/water/{}", modern["id"]), None, &s.access)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_ok("/api/v1/sport/water", &s.access).await,
        json!([legacy])
    );
    assert_eq!(
        app.get_ok("/api/v1/sport/stats", &s.access).await["water_ml"],
        330
    );
}

#[tokio::test]
async fn today_follows_the_users_time_zone() {
    let app = spawn_app().await;
    // Access tokens live 15 minutes of this clock: the steps below stay within that.
    app.clock.set(at("2026-11-26T09:50:00Z"));
    let east = app.register("kiritimati@example.com").await;
    let west = app.register("pago@example.com").await;
    let utc = app.register("utc@example.com").await;
    app.set_timezone(east.id, "Pacific/Kiritimati").await; // UTC+14
    app.set_timezone(west.id, "Pacific/Pago_Pago").await; // UTC−11

    // 09:50 UTC: 23:50 on the 26th in Kiritimati, 22:50 on the 25th in Pago Pago.
    let date_of = async |s: &Session| {
        let v: Value = app
            .create("/api/v1/sport/water", &s.access, None, &json!({"ml": 100}))
            .await
            .json()
            .await
            .unwrap();
        v["date"].as_str().unwrap().to_owned()
    };
    assert_eq!(date_of(&east).await, "2026-11-26");
    assert_eq!(date_of(&west).await, "2026-11-25");
    assert_eq!(date_of(&utc).await, "2026-11-26");

    // Eleven minutes later it is the 27th in Kiritimati; still the 25th in Pago Pago.
    app.clock.set(at("2026-11-26T10:01:00Z"));
    assert_eq!(date_of(&east).await, "2026-11-27");
    assert_eq!(date_of(&west).await, "2026-11-25");

    // Lists and stats default to the same "today".
    let east_today = app.get_ok("/api/v1/sport/water", &east.access).await;
    assert_eq!(east_today.as_array().unwrap().len(), 1);
    assert_eq!(east_today[0]["date"], "2026-11-27");
    let west_stats = app.get_ok("/api/v1/sport/stats", &west.access).await;
    assert_eq!(
        (west_stats["date"].clone(), west_stats["water_ml"].clone()),
        (json!("2026-11-25"), json!(200))
    );
    let east_stats = app.get_ok("/api/v1/sport/stats", &east.access).await;
    assert_eq!(
        (east_stats["date"].clone(), east_stats["water_ml"].clone()),
        (json!("2026-11-27"), json!(100))
    );

    // Midnight in Pago Pago (11:00 UTC) moves its today (a fresh login: the old access
    // token has expired by this clock).
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 26, 11, 0, 0).unwrap());
    let login: Value = app
        .login("pago@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_ok("/api/v1/sport/stats", token).await["date"],
        "2026-11-26"
    );
    assert_eq!(
        app.me_status(&west.access).await,
        StatusCode::UNAUTHORIZED,
        "expired by the app's clock"
    );
}

#[tokio::test]
async fn stats_sum_exactly_per_day_against_the_goals() {
    let app = spawn_app().await;
    app.clock.set(at("2026-11-26T12:00:00Z"));
    let s = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let post = async |path: &str, body: Value| {
        let res = app.create(path, &s.access, None, &body).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    };
    post("/api/v1/sport/water", json!({"ml": 250})).await;
    post("/api/v1/sport/water", json!({"ml": 750})).await;
    post(
        "/api/v1/sport/water",
        json!({"ml": 1000, "date": "2026-11-24"}),
    )
    .await;
    // 0.1 + 0.2 is not 0.3 in floating point; in tenths of a gram it is.
    post(
        "/api/v1/sport/food",
        json!({"name": "a", "kcal": 100, "protein": 0.1, "fat": 0.7}),
    )
    .await;
    post(
        "/api/v1/sport/food",
        json!({"name": "b", "kcal": 250, "protein": 0.2, "carbs": 30.5}),
    )
    .await;
    post(
        "/api/v1/sport/workout",
        json!({"name": "run", "duration_min": 30, "kcal_burned": 300}),
    )
    .await;
    post(
        "/api/v1/sport/workout",
        json!({"name": "swim", "duration_min": 30, "kcal_burned": 200, "date": "2026-11-24"}),
    )
    .await;
    app.create(
        "/api/v1/sport/water",
        &bob.access,
        None,
        &json!({"ml": 5000}),
    )
    .await;

    let today = app.get_ok("/api/v1/sport/stats", &s.access).await;
    assert_eq!(
        today,
        json!({"date": "2026-11-26", "water_ml": 1000, "water_goal_ml": 3000, "kcal_in": 350,
               "kcal_burned": 300, "kcal_goal": 2200, "protein": 0.3, "carbs": 30.5, "fat": 0.7})
    );
    assert_eq!(
        app.get_ok("/api/v1/sport/stats?date=2026-11-24", &s.access)
            .await["kcal_burned"],
        200
    );

    app.put_json(
        "/api/v1/sport/goals",
        &s.access,
        &json!({"water_ml_per_day": 2000, "kcal_per_day": 1800}),
    )
    .await;
    let range = app
        .get_ok(
            "/api/v1/sport/stats?from=2026-11-23&to=2026-11-26",
            &s.access,
        )
        .await;
    let days = range.as_array().unwrap();
    assert_eq!(days.len(), 4, "every day, empty ones included");
    let dates: Vec<_> = days.iter().map(|d| d["date"].as_str().unwrap()).collect();
    assert_eq!(
        dates,
        ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26"]
    );
    assert_eq!(days[0]["water_ml"], 0);
    assert_eq!(days[1]["water_ml"], 1000);
    assert_eq!(days[1]["kcal_burned"], 200);
    assert_eq!(
        days[2],
        json!({"date": "2026-11-25", "water_ml": 0, "water_goal_ml": 2000, "kcal_in": 0,
                              "kcal_burned": 0, "kcal_goal": 1800, "protein": 0.0, "carbs": 0.0, "fat": 0.0})
    );
    assert_eq!(days[3]["kcal_in"], 350);
    assert!(
        days.iter()
            .all(|d| d["water_goal_ml"] == 2000 && d["kcal_goal"] == 1800)
    );

    let year = app
        .get_ok(
            "/api/v1/sport/stats?from=2025-11-26&to=2026-11-26",
            &s.access,
        )
        .await;
    assert_eq!(year.as_array().unwrap().len(), 366);
    let total: i64 = year
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["water_ml"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 2000);
    for (query, field) in [
        ("from=2025-11-25&to=2026-11-26", "to"),
        ("from=2026-11-26&to=2026-11-25", "from"),
        ("from=2026-11-20", "to"),
        ("to=2026-11-20", "from"),
        ("date=2026-11-20&from=2026-11-20&to=2026-11-21", "date"),
    ] {
        let p = problem(
            app.get(&format!("/api/v1/sport/stats?{query}"), Some(&s.access))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(p["errors"][field].is_array(), "{query}: {p}");
    }
    problem(
        app.get("/api/v1/sport/stats?date=26.11.2026", Some(&s.access))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn goals_default_update_and_keep_updated_at_by_trigger() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let defaults = app.get_ok("/api/v1/sport/goals", &s.access).await;
    assert_eq!(
        defaults,
        json!({"water_ml_per_day": 3000, "kcal_per_day": 2200, "updated_at": null})
    );
    let res = app
        .put_json(
            "/api/v1/sport/goals",
            &s.access,
            &json!({"water_ml_per_day": 2500, "kcal_per_day": 2000}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let first: Value = res.json().await.unwrap();
    assert_eq!(
        (
            first["water_ml_per_day"].clone(),
            first["kcal_per_day"].clone()
        ),
        (json!(2500), json!(2000))
    );
    assert_eq!(app.get_ok("/api/v1/sport/goals", &s.access).await, first);
    let second: Value = app
        .put_json(
            "/api/v1/sport/goals",
            &s.access,
            &json!({"water_ml_per_day": 2600, "kcal_per_day": 2000}),
        )
        .await
        .json()
        .await
        .unwrap();
    let t = |v: &Value| {
        v["updated_at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<Utc>>()
            .unwrap()
    };
    assert!(t(&second) >= t(&first));
    assert_eq!(second["water_ml_per_day"], 2600);

    // The trigger keeps updated_at even for a write that does not set it.
    app.exec(
        "UPDATE sport_goals SET updated_at = ? WHERE user_id = ?",
        vec![at("2000-01-01T00:00:00Z").into(), s.id.into()],
    )
    .await;
    assert_eq!(
        t(&app.get_ok("/api/v1/sport/goals", &s.access).await).to_rfc3339(),
        "2000-01-01T00:00:00+00:00"
    );
    app.exec(
        "UPDATE sport_goals SET kcal_per_day = 2100 WHERE user_id = ?",
        vec![s.id.into()],
    )
    .await;
    let after = app.get_ok("/api/v1/sport/goals", &s.access).await;
    assert_eq!(after["kcal_per_day"], 2100);
    assert!(
        t(&after) > at("2020-01-01T00:00:00Z"),
        "the trigger stamped the update: {after}"
    );
}
