//! Habits over HTTP.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn habit(app: &TestApp, s: &Session, body: Value) -> Value {
    let res = app.create("/api/v1/habits", &s.access, None, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{body}");
    res.json().await.unwrap()
}

async fn post_bare(app: &TestApp, s: &Session, path: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(&s.access)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn habits_are_created_read_replaced_and_deleted() {
    let app = spawn_app().await;
    app.clock.set("2026-11-26T08:00:00Z".parse().unwrap());
    let s = app.register("ada@example.com").await;
    let read = habit(&app, &s, json!({"name": "  Read  "})).await;
    assert_eq!(
        read,
        json!({"id": read["id"], "name": "Read", "description": null, "schedule": {"kind": "daily"},
               "created_at": "2026-11-26T08:00:00Z", "updated_at": "2026-11-26T08:00:00Z", "archived": false})
    );
    let gym = habit(&app, &s, json!({"name": "Gym", "description": "legs", "schedule": {"kind": "weekdays", "days": ["thu", "mon"]}})).await;
    assert_eq!(
        gym["schedule"],
        json!({"kind": "weekdays", "days": ["mon", "thu"]})
    );
    let run = habit(&app, &s, json!({"name": "Run", "schedule": {"kind": "times_per_week", "times": 3}, "archived": true})).await;
    assert_eq!(
        app.get_ok("/api/v1/habits", &s.access).await,
        json!([run, gym, read])
    );
    assert_eq!(
        app.get_ok("/api/v1/habits?archived=false", &s.access).await,
        json!([gym, read])
    );
    assert_eq!(
        app.get_ok(&format!("/api/v1/habits/{}", gym["id"]), &s.access)
            .await,
        gym
    );

    // PUT replaces every field: the description, not sent, is gone.
    let res = app
        .put_json(
            &format!("/api/v1/habits/{}", gym["id"]),
            &s.access,
            &json!({"name": "Gym!", "schedule": {"kind": "daily"}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let replaced: Value = res.json().await.unwrap();
    assert_eq!(
        (
            replaced["name"].clone(),
            replaced["description"].clone(),
            replaced["schedule"].clone()
        ),
        (json!("Gym!"), json!(null), json!({"kind": "daily"}))
    );

    for (body, field) in [
        (json!({"name": " "}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (
            json!({"name": "x", "description": "d".repeat(2001)}),
            "description",
        ),
        (
            json!({"name": "x", "schedule": {"kind": "hourly"}}),
            "schedule",
        ),
        (
            json!({"name": "x", "schedule": {"kind": "weekdays", "days": []}}),
            "schedule",
        ),
        (
            json!({"name": "x", "schedule": {"kind": "weekdays", "days": ["funday"]}}),
            "schedule",
        ),
        (
            json!({"name": "x", "schedule": {"kind": "times_per_week", "times": 8}}),
            "schedule",
        ),
        (json!({"name": "x", "user_id": 9}), "user_id"),
        (json!({}), "name"),
    ] {
        let p = problem(
            app.create("/api/v1/habits", &s.access, None, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        // The path may be more precise than the field (`schedule.kind`).
        assert!(
            p["errors"]
                .as_object()
                .unwrap()
                .keys()
                .any(|k| k.starts_with(field)),
            "{body}: {p}"
        );
    }
    let res = app
        .delete_json(&format!("/api/v1/habits/{}", read["id"]), None, &s.access)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        app.get(&format!("/api/v1/habits/{}", read["id"]), Some(&s.access))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let events: Vec<_> = app.get_ok("/api/v1/sync/changes", &s.access).await["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        events,
        [
            "habit:created",
            "habit:created",
            "habit:created",
            "habit:updated",
            "habit:deleted"
        ]
    );
}

#[tokio::test]
async fn completing_twice_is_one_row_and_skips_are_days_too() {
    let app = spawn_app().await;
    app.clock.set("2026-11-26T08:00:00Z".parse().unwrap());
    let s = app.register("ada@example.com").await;
    let h = habit(&app, &s, json!({"name": "Read"})).await;
    let id = h["id"].as_i64().unwrap();
    let first = post_bare(&app, &s, &format!("/api/v1/habits/{id}/completions")).await;
    assert_eq!(
        first.status(),
        StatusCode::CREATED,
        "a bare POST completes today"
    );
    assert_eq!(
        first.json::<Value>().await.unwrap(),
        json!({"habit_id": id, "date": "2026-11-26"})
    );
    let again = app
        .create(
            &format!("/api/v1/habits/{id}/completions"),
            &s.access,
            None,
            &json!({"date": "2026-11-26"}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK, "same date twice is 200");
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"habit_id": id, "date": "2026-11-26"})
    );
    assert_eq!(app.count("habit_completions", s.id).await, 1);
    app.create(
        &format!("/api/v1/habits/{id}/completions"),
        &s.access,
        None,
        &json!({"date": "2026-11-20"}),
    )
    .await;
    let p = problem(
        app.create(
            &format!("/api/v1/habits/{id}/completions"),
            &s.access,
            None,
            &json!({"date": "2026-11-27"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["date"].is_array());
    assert_eq!(
        app.get_ok(&format!("/api/v1/habits/{id}/completions"), &s.access)
            .await,
        json!(["2026-11-26", "2026-11-20"]),
        "newest first, like every list"
    );
    assert_eq!(
        app.get_ok(
            &format!("/api/v1/habits/{id}/completions?from=2026-11-21"),
            &s.access
        )
        .await,
        json!(["2026-11-26"])
    );
    // No hidden window: a day long before the last 30 is listed without `from`.
    let old = app
        .create(
            &format!("/api/v1/habits/{id}/completions"),
            &s.access,
            None,
            &json!({"date": "2025-06-01"}),
        )
        .await;
    assert_eq!(old.status(), StatusCode::CREATED);
    assert_eq!(
        app.get_ok(&format!("/api/v1/habits/{id}/completions"), &s.access)
            .await,
        json!(["2026-11-26", "2026-11-20", "2025-06-01"])
    );
    // `limit` like every list: the newest first; out of range 422, not a number 400.
    assert_eq!(
        app.get_ok(
            &format!("/api/v1/habits/{id}/completions?limit=2"),
            &s.access
        )
        .await,
        json!(["2026-11-26", "2026-11-20"])
    );
    assert_eq!(
        app.get_ok(
            &format!("/api/v1/habits/{id}/completions?to=2026-11-25&limit=1"),
            &s.access
        )
        .await,
        json!(["2026-11-20"])
    );
    let p = problem(
        app.get(
            &format!("/api/v1/habits/{id}/completions?limit=1001"),
            Some(&s.access),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["limit"].is_array(), "{p}");
    problem(
        app.get(
            &format!("/api/v1/habits/{id}/completions?limit=many"),
            Some(&s.access),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let p = problem(
        app.get(
            &format!("/api/v1/habits/{id}/completions?from=2026-11-26&to=2026-11-20"),
            Some(&s.access),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["from"].is_array(), "{p}");
    app.delete_json(
        &format!("/api/v1/habits/{id}/completions/2025-06-01"),
        None,
        &s.access,
    )
    .await;

    let res = app
        .create(
            &format!("/api/v1/habits/{id}/skips"),
            &s.access,
            None,
            &json!({"date": "2026-11-25"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let p = problem(
        app.create(
            &format!("/api/v1/habits/{id}/skips"),
            &s.access,
            None,
            &json!({}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["date"].is_array(), "a skip needs its date");

    let res = app
        .delete_json(
            &format!("/api/v1/habits/{id}/completions/2026-11-20"),
            None,
            &s.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        app.delete_json(
            &format!("/api/v1/habits/{id}/completions/2026-11-20"),
            None,
            &s.access,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let res = app
        .delete_json(
            &format!("/api/v1/habits/{id}/skips/2026-11-25"),
            None,
            &s.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        app.delete_json(
            &format!("/api/v1/habits/{id}/skips/not-a-date"),
            None,
            &s.access,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    let changes = app.get_ok("/api/v1/sync/changes", &s.access).await;
    let events: Vec<_> = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        events,
        [
            "habit:created",
            "habit:completed",
            "habit:completed",
            // The day long ago, listed without a window, then removed again.
            "habit:completed",
            "habit:uncompleted",
            "habit:skipped",
            "habit:uncompleted",
            "habit:unskipped"
        ]
    );
    assert_eq!(
        changes["changes"][1]["data"],
        json!({"habit_id": id, "date": "2026-11-26"})
    );
    // Deleting the habit takes its days along.
    app.delete_json(&format!("/api/v1/habits/{id}"), None, &s.access)
        .await;
    assert_eq!(app.count("habit_completions", s.id).await, 0);
}

#[tokio::test]
async fn stats_report_streaks_in_the_users_days() {
    let app = spawn_app().await;
    app.clock.set("2026-11-20T12:00:00Z".parse().unwrap());
    let s = app.register("ada@example.com").await;
    let daily = habit(&app, &s, json!({"name": "Read"})).await;
    let weekly = habit(
        &app,
        &s,
        json!({"name": "Run", "schedule": {"kind": "times_per_week", "times": 2}}),
    )
    .await;
    habit(&app, &s, json!({"name": "Old", "archived": true})).await;
    let d = daily["id"].as_i64().unwrap();
    let w = weekly["id"].as_i64().unwrap();
    // The clock moves forward in steps shorter than the token's 15 minutes of life.
    app.clock.set("2026-11-23T12:00:00Z".parse().unwrap());
    let login: Value = app
        .login("ada@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let s = Session { access: token, ..s };
    for date in ["2026-11-20", "2026-11-21", "2026-11-23"] {
        app.create(
            &format!("/api/v1/habits/{d}/completions"),
            &s.access,
            None,
            &json!({"date": date}),
        )
        .await;
    }
    app.create(
        &format!("/api/v1/habits/{d}/skips"),
        &s.access,
        None,
        &json!({"date": "2026-11-22"}),
    )
    .await;
    for date in ["2026-11-16", "2026-11-21", "2026-11-22", "2026-11-23"] {
        app.create(
            &format!("/api/v1/habits/{w}/completions"),
            &s.access,
            None,
            &json!({"date": date}),
        )
        .await;
    }
    let stats = app.get_ok("/api/v1/habits/stats", &s.access).await;
    assert_eq!(
        stats.as_array().unwrap().len(),
        2,
        "archived habits are left out"
    );
    assert_eq!(
        stats[0],
        json!({"habit_id": d, "name": "Read", "current_streak": 3, "longest_streak": 3, "completed_today": true, "completion_rate_30d": 1.0})
    );
    // Weekly (Monday weeks): 16–22 has three, 23–29 one so far (running). The backfilled
    // 16th moved the start of history back.
    assert_eq!(stats[1]["current_streak"], 1);
    assert_eq!(stats[1]["completed_today"], true);
    // With Sunday weeks, 16–21 has two and 22–28 two: both kept.
    app.put_json(
        "/api/v1/settings",
        &s.access,
        &json!({"week_start": "sunday"}),
    )
    .await;
    assert_eq!(
        app.get_ok("/api/v1/habits/stats", &s.access).await[1]["current_streak"],
        2
    );
    // In Kiritimati it is already the 24th: today is not done, the streak still stands.
    app.put_json(
        "/api/v1/settings/profile",
        &s.access,
        &json!({"timezone": "Pacific/Kiritimati"}),
    )
    .await;
    let east = app.get_ok("/api/v1/habits/stats", &s.access).await;
    assert_eq!(
        (
            east[0]["current_streak"].clone(),
            east[0]["completed_today"].clone()
        ),
        (json!(3), json!(false))
    );
}

#[tokio::test]
async fn habits_are_isolated_and_creates_idempotent() {
    let app = spawn_app().await;
    let a = app.register("ada@example.com").await;
    let b = app.register("bob@example.com").await;
    let first = app
        .create(
            "/api/v1/habits",
            &a.access,
            Some("h1"),
            &json!({"name": "Read"}),
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = app
        .create(
            "/api/v1/habits",
            &a.access,
            Some("h1"),
            &json!({"name": "Read"}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let id = first["id"].as_i64().unwrap();
    let c1 = app
        .create(
            &format!("/api/v1/habits/{id}/completions"),
            &a.access,
            Some("c1"),
            &json!({}),
        )
        .await;
    assert_eq!(c1.status(), StatusCode::CREATED);
    let c2 = app
        .create(
            &format!("/api/v1/habits/{id}/completions"),
            &a.access,
            Some("c1"),
            &json!({}),
        )
        .await;
    assert_eq!(
        (
            c2.status(),
            c2.headers()["idempotent-replayed"]
                .to_str()
                .unwrap()
                .to_owned()
        ),
        (StatusCode::CREATED, "true".to_owned())
    );
    assert_eq!(
        app.get_ok("/api/v1/habits", &a.access)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let missing = problem(
        app.get("/api/v1/habits/999999", Some(&b.access)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        problem(
            app.get(&format!("/api/v1/habits/{id}"), Some(&b.access))
                .await,
            StatusCode::NOT_FOUND
        )
        .await,
        missing
    );
    problem(
        app.put_json(
            &format!("/api/v1/habits/{id}"),
            &b.access,
            &json!({"name": "mine"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.delete_json(&format!("/api/v1/habits/{id}"), None, &b.access)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.create(
            &format!("/api/v1/habits/{id}/completions"),
            &b.access,
            None,
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.create(
            &format!("/api/v1/habits/{id}/skips"),
            &b.access,
            None,
            &json!({"date": "2026-01-01"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get(&format!("/api/v1/habits/{id}/completions"), Some(&b.access))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let today = app
        .get_ok(&format!("/api/v1/habits/{id}/completions"), &a.access)
        .await;
    problem(
        app.delete_json(
            &format!(
                "/api/v1/habits/{id}/completions/{}",
                today[0].as_str().unwrap()
            ),
            None,
            &b.access,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        app.get_ok("/api/v1/habits/stats", &b.access).await,
        json!([])
    );
    assert_eq!(
        app.get_ok(&format!("/api/v1/habits/{id}"), &a.access).await["name"],
        "Read"
    );
    app.delete_json(
        "/api/v1/auth/me",
        Some(&json!({"password": PASSWORD})),
        &a.access,
    )
    .await;
    assert_eq!(
        app.count("habits", a.id).await + app.count("habit_completions", a.id).await,
        0
    );
}
