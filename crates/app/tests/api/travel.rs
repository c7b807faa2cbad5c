//! Travel over HTTP.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn wish(app: &TestApp, s: &Session, code: &str) -> reqwest::Response {
    app.create(
        "/api/v1/travel/wishlist",
        &s.access,
        None,
        &json!({"country_iso3": code}),
    )
    .await
}

#[tokio::test]
async fn the_wishlist_takes_known_codes_once() {
    let app = spawn_app().await;
    app.clock.set("2026-11-26T08:00:00Z".parse().unwrap());
    let s = app.register("ada@example.com").await;
    let res = wish(&app, &s, "jpn").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let jpn: Value = res.json().await.unwrap();
    assert_eq!(
        jpn,
        json!({"country_iso3": "JPN", "country_name": "Japan", "continent": "Asia", "added_date": "2026-11-26T08:00:00Z"})
    );
    app.clock.set("2026-11-26T08:05:00Z".parse().unwrap());
    let bra: Value = wish(&app, &s, "BRA").await.json().await.unwrap();
    assert_eq!(bra["continent"], "South America");
    assert_eq!(
        app.get_ok("/api/v1/travel/wishlist", &s.access).await,
        json!([bra, jpn]),
        "newest first"
    );

    let p = problem(wish(&app, &s, "JPN").await, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains("wishlist"));
    for bad in ["XXX", "JP", "JAPAN", "", "12B"] {
        let p = problem(wish(&app, &s, bad).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(p["errors"]["country_iso3"].is_array(), "{bad}");
    }
    let p = problem(
        app.create(
            "/api/v1/travel/wishlist",
            &s.access,
            None,
            &json!({"country_iso3": "FRA", "country_name": "x"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        p["errors"]["country_name"].is_array(),
        "the server owns names"
    );

    let res = app
        .delete_json("/api/v1/travel/wishlist/jpn", None, &s.access)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        app.delete_json("/api/v1/travel/wishlist/JPN", None, &s.access)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.delete_json("/api/v1/travel/wishlist/XXX", None, &s.access)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        app.get_ok("/api/v1/travel/wishlist", &s.access).await,
        json!([bra])
    );
}

#[tokio::test]
async fn visiting_takes_a_country_off_the_wishlist_in_one_change() {
    let app = spawn_app().await;
    app.clock.set("2026-11-26T08:00:00Z".parse().unwrap());
    let s = app.register("ada@example.com").await;
    wish(&app, &s, "AUS").await;
    wish(&app, &s, "FRA").await;
    let res = app
        .create(
            "/api/v1/travel/visited",
            &s.access,
            None,
            &json!({"country_iso3": "aus", "visit_date": "2025-02-01", "notes": "Sydney"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let aus: Value = res.json().await.unwrap();
    assert_eq!(
        aus,
        json!({"country_iso3": "AUS", "country_name": "Australia", "continent": "Oceania",
               "visit_date": "2025-02-01", "notes": "Sydney", "created_at": "2026-11-26T08:00:00Z"})
    );
    let wishlist = app.get_ok("/api/v1/travel/wishlist", &s.access).await;
    assert_eq!(wishlist.as_array().unwrap().len(), 1);
    assert_eq!(wishlist[0]["country_iso3"], "FRA");
    let ata: Value = app
        .create(
            "/api/v1/travel/visited",
            &s.access,
            None,
            &json!({"country_iso3": "ATA"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            ata["continent"].clone(),
            ata["visit_date"].clone(),
            ata["notes"].clone()
        ),
        (json!("Antarctica"), json!(null), json!(null))
    );
    let egy: Value = app
        .create(
            "/api/v1/travel/visited",
            &s.access,
            None,
            &json!({"country_iso3": "EGY", "visit_date": "2026-01-01"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        app.get_ok("/api/v1/travel/visited", &s.access).await,
        json!([egy, aus, ata]),
        "newest visit first, undated last"
    );

    problem(
        app.create(
            "/api/v1/travel/visited",
            &s.access,
            None,
            &json!({"country_iso3": "AUS"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let p = problem(wish(&app, &s, "EGY").await, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains("visited"));
    let p = problem(
        app.create(
            "/api/v1/travel/visited",
            &s.access,
            None,
            &json!({"country_iso3": "DEU", "notes": "x".repeat(10_001)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["notes"].is_array());

    let events: Vec<(String, Value)> =
        app.get_ok("/api/v1/sync/changes", &s.access).await["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["event"].as_str().unwrap().to_owned(), c["id"].clone()))
            .collect();
    assert_eq!(
        events,
        vec![
            ("travel:wishlist_added".to_owned(), json!("AUS")),
            ("travel:wishlist_added".to_owned(), json!("FRA")),
            ("travel:visited".to_owned(), json!("AUS")),
            ("travel:wishlist_removed".to_owned(), json!("AUS")),
            ("travel:visited".to_owned(), json!("ATA")),
            ("travel:visited".to_owned(), json!("EGY")),
        ]
    );
    let res = app
        .delete_json("/api/v1/travel/visited/egy", None, &s.access)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        app.delete_json("/api/v1/travel/visited/EGY", None, &s.access)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let last = app.get_ok("/api/v1/sync/changes?since=6", &s.access).await;
    assert_eq!(last["changes"][0]["event"], "travel:visit_removed");
    assert_eq!(last["changes"][0]["data"], json!({"id": "EGY"}));
}

#[tokio::test]
async fn stats_agree_with_the_lists() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let empty = app.get_ok("/api/v1/travel/stats", &s.access).await;
    assert_eq!(empty["visited_count"], 0);
    assert_eq!(empty["total_countries"], 249);
    let names: Vec<_> = empty["continents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["continent"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "Africa",
            "Antarctica",
            "Asia",
            "Europe",
            "North America",
            "Oceania",
            "South America"
        ]
    );
    let totals: u64 = empty["continents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["total"].as_u64().unwrap())
        .sum();
    assert_eq!(totals, 249);

    for code in ["JPN", "FRA", "DEU", "BRA"] {
        app.create(
            "/api/v1/travel/visited",
            &s.access,
            None,
            &json!({"country_iso3": code}),
        )
        .await;
    }
    for code in ["AUS", "NZL", "ATA"] {
        wish(&app, &s, code).await;
    }
    let bob = app.register("bob@example.com").await;
    app.create(
        "/api/v1/travel/visited",
        &bob.access,
        None,
        &json!({"country_iso3": "USA"}),
    )
    .await;

    let stats = app.get_ok("/api/v1/travel/stats", &s.access).await;
    let visited = app.get_ok("/api/v1/travel/visited", &s.access).await;
    let wishlist = app.get_ok("/api/v1/travel/wishlist", &s.access).await;
    assert_eq!(stats["visited_count"], visited.as_array().unwrap().len());
    assert_eq!(stats["wishlist_count"], wishlist.as_array().unwrap().len());
    assert_eq!(stats["visited_percent"], 1.6, "4 of 249");
    let continents = stats["continents"].as_array().unwrap();
    let sum = |field: &str| {
        continents
            .iter()
            .map(|c| c[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(sum("visited"), 4);
    assert_eq!(sum("wishlist"), 3);
    let by = |name: &str| {
        continents
            .iter()
            .find(|c| c["continent"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            by("Europe")["visited"].clone(),
            by("Asia")["visited"].clone(),
            by("South America")["visited"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );
    assert_eq!(
        (
            by("Oceania")["wishlist"].clone(),
            by("Antarctica")["wishlist"].clone()
        ),
        (json!(2), json!(1))
    );
    assert_eq!(by("Africa")["visited"], 0, "listed at zero");
    assert_eq!(
        by("North America")["visited"],
        0,
        "bob's visit is not ada's"
    );
}

#[tokio::test]
async fn travel_is_isolated_and_idempotent() {
    let app = spawn_app().await;
    let a = app.register("ada@example.com").await;
    let b = app.register("bob@example.com").await;
    for (path, body) in [
        ("/api/v1/travel/wishlist", json!({"country_iso3": "PER"})),
        ("/api/v1/travel/visited", json!({"country_iso3": "CHL"})),
    ] {
        let key = format!("key-{path}");
        let first: Value = app
            .create(path, &a.access, Some(&key), &body)
            .await
            .json()
            .await
            .unwrap();
        let again = app.create(path, &a.access, Some(&key), &body).await;
        assert_eq!(again.status(), StatusCode::CREATED, "a retry is not a 409");
        assert_eq!(again.json::<Value>().await.unwrap(), first);
    }
    assert_eq!(
        app.get_ok("/api/v1/sync/changes", &a.access).await["changes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The same key on another endpoint is another request: refused, not replayed.
    let other = app
        .create(
            "/api/v1/travel/visited",
            &a.access,
            Some("key-/api/v1/travel/wishlist"),
            &json!({"country_iso3": "PER"}),
        )
        .await;
    problem(other, StatusCode::UNPROCESSABLE_ENTITY).await;
    // Bob sees nothing and can list the same countries himself.
    assert_eq!(
        app.get_ok("/api/v1/travel/wishlist", &b.access).await,
        json!([])
    );
    assert_eq!(
        app.get_ok("/api/v1/travel/visited", &b.access).await,
        json!([])
    );
    problem(
        app.delete_json("/api/v1/travel/visited/CHL", None, &b.access)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(wish(&app, &b, "PER").await.status(), StatusCode::CREATED);
    assert_eq!(
        app.get_ok("/api/v1/travel/visited", &a.access)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Account deletion takes the lists along.
    app.delete_json(
        "/api/v1/auth/me",
        Some(&json!({"password": PASSWORD})),
        &a.access,
    )
    .await;
    assert_eq!(
        app.count("travel_wishlist", a.id).await + app.count("travel_visited", a.id).await,
        0
    );
    assert_eq!(app.count("travel_wishlist", b.id).await, 1);
}
