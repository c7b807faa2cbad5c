//! The change log: written with every change, gap-free under concurrency, readable with
//! `GET /sync/changes`.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn every_change_is_logged_in_order_with_the_rest_representation() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let water: Value = app
        .create("/api/v1/sport/water", &s.access, None, &json!({"ml": 250}))
        .await
        .json()
        .await
        .unwrap();
    let food: Value = app
        .create(
            "/api/v1/sport/food",
            &s.access,
            None,
            &json!({"name": "soup", "kcal": 300}),
        )
        .await
        .json()
        .await
        .unwrap();
    let workout: Value = app
        .create(
            "/api/v1/sport/workout",
            &s.access,
            None,
            &json!({"name": "yoga", "duration_min": 60, "kcal_burned": 200}),
        )
        .await
        .json()
        .await
        .unwrap();
    let goals: Value = app
        .put_json(
            "/api/v1/sport/goals",
            &s.access,
            &json!({"water_ml_per_day": 2000, "kcal_per_day": 2000}),
        )
        .await
        .json()
        .await
        .unwrap();
    // Refused writes record nothing.
    problem(
        app.create("/api/v1/sport/water", &s.access, None, &json!({"ml": 0}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        app.delete_json("/api/v1/sport/water/999", None, &s.access)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    for (path, v) in [("water", &water), ("food", &food), ("workout", &workout)] {
        let res = app
            .delete_json(
                &format!("/api/v1/sport/{path}/{}", v["id"]),
                None,
                &s.access,
            )
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }

    let page = app.get_ok("/api/v1/sync/changes?since=0", &s.access).await;
    let changes = page["changes"].as_array().unwrap();
    let summary: Vec<(i64, &str, &str)> = changes
        .iter()
        .map(|c| {
            (
                c["seq"].as_i64().unwrap(),
                c["event"].as_str().unwrap(),
                c["entity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, "water:added", "sport_water"),
            (2, "food:added", "sport_food"),
            (3, "workout:added", "sport_workout"),
            (4, "goals:updated", "sport_goals"),
            (5, "water:deleted", "sport_water"),
            (6, "food:deleted", "sport_food"),
            (7, "workout:deleted", "sport_workout"),
        ]
    );
    assert_eq!(page["next_since"], 7);
    assert!(
        changes
            .iter()
            .all(|c| c["type"] == "change" && c["at"].is_string())
    );
    assert_eq!(changes[0]["data"], water, "data is exactly the REST body");
    assert_eq!(changes[0]["id"], water["id"]);
    assert_eq!(changes[1]["data"], food);
    assert_eq!(changes[2]["data"], workout);
    assert_eq!(changes[3]["data"], goals);
    assert_eq!(changes[4]["data"], json!({"id": water["id"]}));
    assert_eq!(changes[6]["id"], workout["id"]);
}

#[tokio::test]
async fn pull_pages_with_a_cursor_and_asks_to_resync_when_it_cannot_serve() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    assert_eq!(
        app.get_ok("/api/v1/sync/changes", &s.access).await,
        json!({"changes": [], "next_since": 0})
    );
    for ml in 1..=5 {
        app.create("/api/v1/sport/water", &s.access, None, &json!({"ml": ml}))
            .await;
    }
    let p1 = app
        .get_ok("/api/v1/sync/changes?since=0&limit=2", &s.access)
        .await;
    assert_eq!(p1["changes"].as_array().unwrap().len(), 2);
    assert_eq!(p1["next_since"], 2);
    let p2 = app
        .get_ok("/api/v1/sync/changes?since=2&limit=2", &s.access)
        .await;
    let seqs: Vec<_> = p2["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["seq"].clone())
        .collect();
    assert_eq!(seqs, vec![json!(3), json!(4)]);
    let p3 = app.get_ok("/api/v1/sync/changes?since=4", &s.access).await;
    assert_eq!(p3["next_since"], 5);
    assert_eq!(
        app.get_ok("/api/v1/sync/changes?since=5", &s.access).await,
        json!({"changes": [], "next_since": 5})
    );

    // A cursor ahead of the log (a restored server) must resync, and the problem says
    // where to continue after refetching.
    let gone = problem(
        app.get("/api/v1/sync/changes?since=6", Some(&s.access))
            .await,
        StatusCode::GONE,
    )
    .await;
    assert_eq!(gone["seq"], 5, "{gone}");
    // So must one older than what is kept.
    app.exec(
        "DELETE FROM change_log WHERE user_id = ? AND seq <= 2",
        vec![s.id.into()],
    )
    .await;
    let gone = problem(
        app.get("/api/v1/sync/changes?since=1", Some(&s.access))
            .await,
        StatusCode::GONE,
    )
    .await;
    assert_eq!(gone["seq"], 5, "{gone}");
    assert_eq!(
        app.get_ok("/api/v1/sync/changes?since=2", &s.access).await["changes"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let p = problem(
        app.get("/api/v1/sync/changes?since=-1", Some(&s.access))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["since"].is_array());
    problem(
        app.get("/api/v1/sync/changes?since=x", Some(&s.access))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/api/v1/sync/changes", None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn concurrent_writes_get_gap_free_unique_seqs() {
    const N: usize = 24;
    let app = spawn_app().await;
    let a = app.register("ada@example.com").await;
    let b = app.register("bob@example.com").await;
    let writes = (0..N).map(|i| {
        let (app, who) = (&app, if i % 3 == 0 { &b } else { &a });
        async move {
            let res = if i % 2 == 0 {
                app.create(
                    "/api/v1/sport/water",
                    &who.access,
                    None,
                    &json!({"ml": i + 1}),
                )
                .await
            } else {
                app.create(
                    "/api/v1/sport/food",
                    &who.access,
                    None,
                    &json!({"name": "x", "kcal": i}),
                )
                .await
            };
            assert_eq!(res.status(), StatusCode::CREATED);
        }
    });
    futures_util::future::join_all(writes).await;
    for (who, expected) in [(&a, N - N / 3), (&b, N / 3)] {
        let page = app
            .get_ok("/api/v1/sync/changes?limit=1000", &who.access)
            .await;
        let seqs: Vec<i64> = page["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["seq"].as_i64().unwrap())
            .collect();
        let want: Vec<i64> = (1..=expected as i64).collect();
        assert_eq!(seqs, want, "no gap, no duplicate");
    }
}

#[tokio::test]
async fn deleting_the_account_removes_its_sport_rows_and_log() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    app.create("/api/v1/sport/water", &s.access, None, &json!({"ml": 1}))
        .await;
    app.create(
        "/api/v1/sport/food",
        &s.access,
        None,
        &json!({"name": "x", "kcal": 1}),
    )
    .await;
    app.create(
        "/api/v1/sport/workout",
        &s.access,
        None,
        &json!({"name": "x", "duration_min": 1, "kcal_burned": 1}),
    )
    .await;
    app.put_json(
        "/api/v1/sport/goals",
        &s.access,
        &json!({"water_ml_per_day": 2000, "kcal_per_day": 2000}),
    )
    .await;
    let tables = [
        "sport_water",
        "sport_food",
        "sport_workout",
        "sport_goals",
        "change_log",
    ];
    for t in tables {
        assert_eq!(
            app.count(t, s.id).await,
            if t == "change_log" { 4 } else { 1 },
            "{t}"
        );
    }
    let res = app
        .delete_json(
            "/api/v1/auth/me",
            Some(&json!({"password": PASSWORD})),
            &s.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for t in tables {
        assert_eq!(app.count(t, s.id).await, 0, "{t}");
    }
}
