//! Game stats against a local mock of the Steam Web API and the FACEIT Data API: payloads
//! shaped like the platforms' documented responses, and the ways they fail. No test
//! touches the internet.

use crate::helpers::{PASSWORD, Session, TestApp, problem, spawn_beside, spawn_with};
use chrono::{Duration, SubsecRound};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::time::Duration as StdDuration;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const STEAM_ID: &str = "76561197960287930";
const OTHER_STEAM_ID: &str = "76561197960435530";
const SUMMARIES: &str = "/ISteamUser/GetPlayerSummaries/v2/";
const OWNED: &str = "/IPlayerService/GetOwnedGames/v1/";
const FACEIT_PLAYER: &str = "/data/v4/players";
const FACEIT_ID: &str = "ac71ba3c-d3d4-45e7-8be2-26aa3986867d";

fn summary(id: &str, name: &str, visibility: u8) -> Value {
    json!({"response": {"players": [{
        "steamid": id, "communityvisibilitystate": visibility, "profilestate": 1,
        "personaname": name, "profileurl": format!("https://steamcommunity.com/profiles/{id}/"),
        "avatar": "https://avatars.steamstatic.com/fe.jpg",
        "avatarmedium": "https://avatars.steamstatic.com/fe_medium.jpg",
        "avatarfull": "https://avatars.steamstatic.com/fe_full.jpg",
        "avatarhash": "fe", "lastlogoff": 1_764_300_000, "personastate": 1,
        "primaryclanid": "103582791429521408", "timecreated": 1_063_407_589,
        "personastateflags": 0, "loccountrycode": "DE",
        "gameextrainfo": "Counter-Strike 2", "gameid": "730"
    }]}})
}

fn owned() -> Value {
    json!({"response": {"game_count": 3, "games": [
        {"appid": 730, "name": "Counter-Strike 2", "playtime_2weeks": 95, "playtime_forever": 51_234,
         "img_icon_url": "8dbc71957312bbd3baea65848b545be9eae2a355", "has_community_visible_stats": true,
         "playtime_windows_forever": 51_000, "playtime_mac_forever": 0, "playtime_linux_forever": 234,
         "playtime_deck_forever": 0, "rtime_last_played": 1_764_280_000, "playtime_disconnected": 0},
        {"appid": 570, "name": "Dota 2", "playtime_forever": 1_200, "img_icon_url": "0bbb630d63262dd66d2fdd0f7d37e8661a410075",
         "rtime_last_played": 1_600_000_000},
        {"appid": 440, "name": "Team Fortress 2", "playtime_forever": 0, "img_icon_url": ""}
    ]}})
}

fn faceit_player() -> Value {
    json!({
        "player_id": FACEIT_ID, "nickname": "s1mple", "avatar": "https://assets.faceit-cdn.net/avatars/s1mple.jpg",
        "country": "ua", "cover_image": "", "platforms": {"steam": STEAM_ID},
        "games": {"cs2": {"region": "EU", "game_player_id": STEAM_ID, "skill_level": 10,
            "faceit_elo": 3512, "game_player_name": "s1mple", "skill_level_label": "", "regions": {},
            "game_profile_id": ""}},
        "settings": {"language": "en"}, "friends_ids": [], "new_steam_id": "", "steam_id_64": STEAM_ID,
        "steam_nickname": "s1mple", "memberships": ["free"],
        "faceit_url": "https://www.faceit.com/{lang}/players/s1mple", "membership_type": "",
        "cover_featured_image": "", "infractions": {}, "verified": true, "activated_at": "2016-02-17T19:38:21Z"
    })
}

fn faceit_stats() -> Value {
    json!({"player_id": FACEIT_ID, "game_id": "cs2", "lifetime": {
        "Matches": "1200", "Wins": "702", "Win Rate %": "59", "Average K/D Ratio": "1.31",
        "K/D Ratio": "1572.4", "Average Headshots %": "41", "Total Headshots %": "49123",
        "Longest Win Streak": "14", "Current Win Streak": "2",
        "Recent Results": ["1", "0", "1", "1", "0"]}, "segments": []})
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// The Steam mock: summary and library for `STEAM_ID`, only with our key.
async fn steam(mock: &MockServer, summary_body: Value, owned_body: Value) {
    mount(mock, SUMMARIES, ok(summary_body)).await;
    mount(mock, OWNED, ok(owned_body)).await;
}

async fn mount(mock: &MockServer, p: &str, r: ResponseTemplate) {
    let m = Mock::given(method("GET")).and(path(p));
    let m = if p.starts_with("/data/") {
        m.and(header("authorization", "Bearer faceit-key"))
    } else {
        m.and(query_param("key", "steam-key"))
    };
    m.respond_with(r).mount(mock).await;
}

/// Requests the mock received on `p`.
async fn calls(mock: &MockServer, p: &str) -> usize {
    let reqs = mock.received_requests().await.unwrap_or_default();
    reqs.iter().filter(|r| r.url.path() == p).count()
}

/// `GET /games/stats?platform=` (an empty platform leaves the parameter out).
async fn stats(app: &TestApp, token: &str, platform: &str) -> reqwest::Response {
    let q = if platform.is_empty() {
        String::new()
    } else {
        format!("?platform={platform}")
    };
    app.get(&format!("/api/v1/games/stats{q}"), Some(token))
        .await
}

struct Games {
    app: TestApp,
    mock: MockServer,
    s: Session,
}

impl Games {
    async fn start() -> Self {
        let mock = MockServer::start().await;
        let app = spawn_with(configure(&mock.uri())).await;
        let s = app.register("gamer@example.com").await;
        let linked = app
            .put_json(
                "/api/v1/settings/profile",
                &s.access,
                &json!({"steam_id": STEAM_ID, "faceit_nickname": "s1mple"}),
            )
            .await;
        assert_eq!(linked.status(), StatusCode::OK);
        Self { app, mock, s }
    }

    async fn stats(&self, platform: &str) -> reqwest::Response {
        stats(&self.app, &self.s.access, platform).await
    }

    async fn ok(&self, platform: &str) -> Value {
        let res = self.stats(platform).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    fn now(&self) -> String {
        use ayubi_kernel::Clock;
        let t = self.app.clock.now().trunc_subsecs(6);
        t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }

    /// The stored raw answer.
    async fn raw(&self, platform: &str) -> Option<Value> {
        use sea_orm::{ConnectionTrait, Statement};
        let conn = self.app.sql().await;
        let sql = format!(
            "SELECT raw_data FROM game_stats_cache WHERE user_id = {} AND platform = '{platform}'",
            self.s.id
        );
        let row = conn
            .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
            .await
            .unwrap()?;
        let raw: Option<Value> = row.try_get("", "raw_data").unwrap();
        raw
    }
}

fn configure(uri: &str) -> impl FnOnce(&mut ayubi_app::config::Settings) {
    let uri = uri.to_owned();
    move |s| {
        s.games.steam_api_key = SecretString::from("steam-key");
        s.games.faceit_api_key = SecretString::from("faceit-key");
        s.games.steam_api_url = uri.clone();
        s.games.faceit_api_url = format!("{uri}/data/v4");
        s.games.request_timeout_ms = 700;
        // The tests move the clock past the cache's TTL; the session must outlive that.
        s.auth.access_token_ttl_secs = 86_400;
    }
}

#[tokio::test]
async fn a_linked_account_is_checked_first_then_the_key() {
    let mock = MockServer::start().await;
    let app = spawn_with(|s| s.games.steam_api_url = mock.uri()).await;
    let s = app.register("gamer@example.com").await;
    for (platform, field) in [("steam", "steam_id"), ("faceit", "faceit_nickname")] {
        let p = problem(
            stats(&app, &s.access, platform).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(
            p["errors"][field][0].as_str().unwrap().contains("link a"),
            "{p}"
        );
    }
    for platform in ["xbox", ""] {
        let p = problem(
            stats(&app, &s.access, platform).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"]["platform"][0], "must be steam or faceit");
    }
    app.put_json(
        "/api/v1/settings/profile",
        &s.access,
        &json!({"steam_id": STEAM_ID, "faceit_nickname": "s1mple"}),
    )
    .await;
    for (platform, name) in [("steam", "Steam"), ("faceit", "FACEIT")] {
        let p = problem(
            stats(&app, &s.access, platform).await,
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
        assert_eq!(
            p["detail"],
            format!("{name} stats are not configured on this server")
        );
    }
    let unauthenticated = app.get("/api/v1/games/stats?platform=steam", None).await;
    problem(unauthenticated, StatusCode::UNAUTHORIZED).await;
    assert!(mock.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn steam_is_asked_once_per_ttl_and_the_answer_kept_as_received() {
    let g = Games::start().await;
    steam(&g.mock, summary(STEAM_ID, "Rabscuttle", 3), owned()).await;
    let first = g.ok("steam").await;
    assert_eq!(
        first,
        json!({
            "platform": "steam", "fetched_at": g.now(), "stale": false,
            "data": {
                "steam_id": STEAM_ID, "persona_name": "Rabscuttle",
                "profile_url": format!("https://steamcommunity.com/profiles/{STEAM_ID}/"),
                "avatar_url": "https://avatars.steamstatic.com/fe_full.jpg", "country": "DE",
                "visibility": "public", "online": true, "playing": "Counter-Strike 2",
                "account_created_at": "2003-09-12T22:59:49Z",
                "library": {
                    "game_count": 3, "total_playtime_minutes": 52_434, "playtime_2weeks_minutes": 95,
                    "most_played": [
                        {"app_id": 730, "name": "Counter-Strike 2", "playtime_minutes": 51_234, "playtime_2weeks_minutes": 95,
                         "icon_url": "https://media.steampowered.com/steamcommunity/public/images/apps/730/8dbc71957312bbd3baea65848b545be9eae2a355.jpg",
                         "last_played_at": "2025-11-27T21:46:40Z"},
                        {"app_id": 570, "name": "Dota 2", "playtime_minutes": 1_200, "playtime_2weeks_minutes": 0,
                         "icon_url": "https://media.steampowered.com/steamcommunity/public/images/apps/570/0bbb630d63262dd66d2fdd0f7d37e8661a410075.jpg",
                         "last_played_at": "2020-09-13T12:26:40Z"},
                        {"app_id": 440, "name": "Team Fortress 2", "playtime_minutes": 0, "playtime_2weeks_minutes": 0,
                         "icon_url": null, "last_played_at": null}
                    ],
                    "recently_played": [
                        {"app_id": 730, "name": "Counter-Strike 2", "playtime_minutes": 51_234, "playtime_2weeks_minutes": 95,
                         "icon_url": "https://media.steampowered.com/steamcommunity/public/images/apps/730/8dbc71957312bbd3baea65848b545be9eae2a355.jpg",
                         "last_played_at": "2025-11-27T21:46:40Z"}
                    ]
                }
            }
        })
    );
    // Exactly what the documented calls need, with our key and the linked id.
    let reqs = g.mock.received_requests().await.unwrap();
    let owned_req = reqs.iter().find(|r| r.url.path() == OWNED).unwrap();
    let q: Vec<(String, String)> = owned_req.url.query_pairs().into_owned().collect();
    for pair in [
        ("steamid", STEAM_ID),
        ("include_appinfo", "1"),
        ("include_played_free_games", "1"),
    ] {
        assert!(q.contains(&(pair.0.into(), pair.1.into())), "{q:?}");
    }
    let stored = g.raw("steam").await.unwrap();
    assert_eq!(
        stored["player_summaries"],
        summary(STEAM_ID, "Rabscuttle", 3),
        "kept as received"
    );
    assert_eq!(stored["owned_games"], owned());

    g.app.clock.advance(Duration::minutes(14));
    assert_eq!(
        g.ok("steam").await,
        first,
        "served from the cache within the TTL"
    );
    assert_eq!(
        (calls(&g.mock, SUMMARIES).await, calls(&g.mock, OWNED).await),
        (1, 1)
    );

    g.app.clock.advance(Duration::minutes(2));
    g.mock.reset().await;
    steam(&g.mock, summary(STEAM_ID, "Renamed", 3), owned()).await;
    let later = g.ok("steam").await;
    assert_eq!(
        (later["stale"].clone(), later["fetched_at"].clone()),
        (json!(false), json!(g.now()))
    );
    assert_eq!(later["data"]["persona_name"], "Renamed");
    assert_eq!(calls(&g.mock, SUMMARIES).await, 1);
    let metrics = g.app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"ayubi_game_platform_fetches_total{outcome="ok",platform="steam"} 2"#),
        "{metrics}"
    );

    // Not user data: gone with the account.
    assert_eq!(g.app.count("game_stats_cache", g.s.id).await, 1);
    let res = g
        .app
        .delete_json(
            "/api/v1/auth/me",
            Some(&json!({"password": PASSWORD})),
            &g.s.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(g.app.count("game_stats_cache", g.s.id).await, 0);
}

/// Each way the platform can fail after a good answer, and how many calls it takes.
#[tokio::test]
async fn upstream_trouble_serves_the_last_good_copy_stale_and_never_overwrites_it() {
    let html = ResponseTemplate::new(200).set_body_string("<html>Steam is down</html>");
    let cases: Vec<(&str, ResponseTemplate, Option<ResponseTemplate>, usize)> = vec![
        // (what, summaries answer, owned-games answer when it differs, summary calls)
        ("a 500, retried once", ResponseTemplate::new(500), None, 2),
        (
            "a 429",
            ResponseTemplate::new(429).insert_header("Retry-After", "600"),
            None,
            1,
        ),
        (
            "a timeout",
            ok(summary(STEAM_ID, "Slow", 3)).set_delay(StdDuration::from_millis(1500)),
            None,
            1,
        ),
        ("a body that is not JSON", html, None, 1),
        (
            "a private profile",
            ok(summary(STEAM_ID, "Hidden", 1)),
            Some(ok(json!({"response": {}}))),
            1,
        ),
        (
            "an empty library answer",
            ok(summary(STEAM_ID, "Rabscuttle", 3)),
            Some(ok(json!({"response": {}}))),
            1,
        ),
    ];
    for (what, summaries, owned_answer, expected_calls) in cases {
        let g = Games::start().await;
        steam(&g.mock, summary(STEAM_ID, "Rabscuttle", 3), owned()).await;
        let good = g.ok("steam").await;
        let good_raw = g.raw("steam").await;

        g.app.clock.advance(Duration::minutes(16));
        g.mock.reset().await;
        mount(&g.mock, SUMMARIES, summaries).await;
        mount(
            &g.mock,
            OWNED,
            owned_answer.unwrap_or_else(|| ResponseTemplate::new(500)),
        )
        .await;
        let stale = g.ok("steam").await;
        assert_eq!(stale["stale"], true, "{what}");
        assert_eq!(
            (&stale["data"], &stale["fetched_at"]),
            (&good["data"], &good["fetched_at"]),
            "{what}"
        );
        assert_eq!(
            g.raw("steam").await,
            good_raw,
            "{what}: the good copy is kept"
        );
        assert_eq!(calls(&g.mock, SUMMARIES).await, expected_calls, "{what}");

        // Nobody asks again right away: the copy is served stale meanwhile.
        g.app.clock.advance(Duration::seconds(30));
        let again = g.ok("steam").await;
        assert_eq!(
            (again["stale"].clone(), again["data"].clone()),
            (json!(true), good["data"].clone()),
            "{what}"
        );
        assert_eq!(
            calls(&g.mock, SUMMARIES).await,
            expected_calls,
            "{what}: backed off"
        );
    }
}

#[tokio::test]
async fn retry_after_and_the_back_off_decide_when_the_platform_is_asked_again() {
    let g = Games::start().await;
    steam(&g.mock, summary(STEAM_ID, "Rabscuttle", 3), owned()).await;
    g.ok("steam").await;
    g.app.clock.advance(Duration::minutes(16));
    g.mock.reset().await;
    mount(
        &g.mock,
        SUMMARIES,
        ResponseTemplate::new(429).insert_header("Retry-After", "600"),
    )
    .await;
    mount(&g.mock, OWNED, ok(owned())).await;
    assert_eq!(g.ok("steam").await["stale"], true);
    // Past the 60 s back-off but within the platform's 600 s: still not asked.
    g.app.clock.advance(Duration::minutes(5));
    assert_eq!(g.ok("steam").await["stale"], true);
    assert_eq!(calls(&g.mock, SUMMARIES).await, 1);
    g.app.clock.advance(Duration::minutes(6));
    g.mock.reset().await;
    steam(&g.mock, summary(STEAM_ID, "Back", 3), owned()).await;
    let back = g.ok("steam").await;
    assert_eq!(
        (back["stale"].clone(), back["data"]["persona_name"].clone()),
        (json!(false), json!("Back"))
    );
}

#[tokio::test]
async fn without_a_copy_trouble_is_a_503_and_a_private_profile_is_shown_as_private() {
    let g = Games::start().await;
    mount(&g.mock, SUMMARIES, ResponseTemplate::new(502)).await;
    mount(&g.mock, OWNED, ResponseTemplate::new(502)).await;
    let res = g.stats("steam").await;
    assert_eq!(res.headers()["retry-after"], "60");
    let p = problem(res, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(p["detail"], "Steam is not answering; retry in 60s");
    assert_eq!(calls(&g.mock, SUMMARIES).await, 2, "a 5xx is retried once");
    g.app.clock.advance(Duration::seconds(20));
    let res = g.stats("steam").await;
    assert_eq!(res.headers()["retry-after"], "40");
    problem(res, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(
        calls(&g.mock, SUMMARIES).await,
        2,
        "not asked during the back-off"
    );

    // The platform answers: the profile is private. With nothing better, that is the truth.
    g.app.clock.advance(Duration::seconds(40));
    g.mock.reset().await;
    steam(
        &g.mock,
        summary(STEAM_ID, "Hidden", 1),
        json!({"response": {}}),
    )
    .await;
    let private = g.ok("steam").await;
    assert_eq!(private["stale"], false);
    assert_eq!(
        (
            &private["data"]["visibility"],
            &private["data"]["library"],
            &private["data"]["persona_name"]
        ),
        (&json!("private"), &Value::Null, &json!("Hidden"))
    );
    // Made public later: the full answer replaces the private one at the next fetch.
    g.app.clock.advance(Duration::minutes(15));
    g.mock.reset().await;
    steam(&g.mock, summary(STEAM_ID, "Open", 3), owned()).await;
    let public = g.ok("steam").await;
    assert_eq!(
        (
            public["stale"].clone(),
            public["data"]["library"]["game_count"].clone()
        ),
        (json!(false), json!(3))
    );
}

#[tokio::test]
async fn a_5xx_then_an_answer_is_one_retry_and_a_fresh_copy() {
    let g = Games::start().await;
    Mock::given(method("GET"))
        .and(path(SUMMARIES))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&g.mock)
        .await;
    steam(&g.mock, summary(STEAM_ID, "Rabscuttle", 3), owned()).await;
    let body = g.ok("steam").await;
    assert_eq!(
        (body["stale"].clone(), body["data"]["persona_name"].clone()),
        (json!(false), json!("Rabscuttle"))
    );
    assert_eq!(calls(&g.mock, SUMMARIES).await, 2);
}

#[tokio::test]
async fn unknown_accounts_are_422s_naming_the_profile_field_and_a_rejected_key_a_503() {
    let g = Games::start().await;
    mount(&g.mock, SUMMARIES, ok(json!({"response": {"players": []}}))).await;
    mount(&g.mock, OWNED, ok(json!({"response": {}}))).await;
    mount(
        &g.mock,
        FACEIT_PLAYER,
        ResponseTemplate::new(404).set_body_json(json!({"errors": [{"message": "The resource was not found.", "code": "err_nf0", "http_status": 404, "parameters": null}]})),
    )
    .await;
    let p = problem(g.stats("steam").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        p["errors"]["steam_id"][0],
        "Steam has no account by this steam_id"
    );
    let p = problem(g.stats("faceit").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        p["errors"]["faceit_nickname"][0],
        "FACEIT has no account by this faceit_nickname"
    );
    // Asked again within the back-off, the answer is the same, without a call.
    let p = problem(g.stats("steam").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(p["errors"]["steam_id"].is_array());
    assert_eq!(calls(&g.mock, SUMMARIES).await, 1);

    // Re-linking to an account that exists asks at once.
    g.mock.reset().await;
    steam(&g.mock, summary(OTHER_STEAM_ID, "Found", 3), owned()).await;
    g.app
        .put_json(
            "/api/v1/settings/profile",
            &g.s.access,
            &json!({"steam_id": OTHER_STEAM_ID}),
        )
        .await;
    assert_eq!(g.ok("steam").await["data"]["persona_name"], "Found");

    g.app.clock.advance(Duration::minutes(16));
    g.mock.reset().await;
    mount(
        &g.mock,
        SUMMARIES,
        ResponseTemplate::new(403).set_body_string("<html>Forbidden</html>"),
    )
    .await;
    mount(&g.mock, OWNED, ResponseTemplate::new(403)).await;
    // With a copy, a refused key still serves it stale; without one it is a 503.
    assert_eq!(g.ok("steam").await["stale"], true);
    assert_eq!(calls(&g.mock, SUMMARIES).await, 1, "a 403 is not retried");
    mount(&g.mock, FACEIT_PLAYER, ResponseTemplate::new(401)).await;
    g.app.clock.advance(Duration::minutes(2));
    g.mock.reset().await;
    mount(&g.mock, FACEIT_PLAYER, ResponseTemplate::new(401)).await;
    let p = problem(g.stats("faceit").await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(p["detail"], "FACEIT refused this server's API key");
}

#[tokio::test]
async fn a_copy_of_an_account_no_longer_linked_is_never_served() {
    let g = Games::start().await;
    steam(&g.mock, summary(STEAM_ID, "First", 3), owned()).await;
    assert_eq!(g.ok("steam").await["data"]["persona_name"], "First");
    g.mock.reset().await;
    Mock::given(method("GET"))
        .and(path(SUMMARIES))
        .and(query_param("steamids", OTHER_STEAM_ID))
        .respond_with(ok(summary(OTHER_STEAM_ID, "Second", 3)))
        .mount(&g.mock)
        .await;
    mount(&g.mock, OWNED, ok(owned())).await;
    g.app
        .put_json(
            "/api/v1/settings/profile",
            &g.s.access,
            &json!({"steam_id": OTHER_STEAM_ID}),
        )
        .await;
    let second = g.ok("steam").await;
    assert_eq!(
        (
            second["data"]["steam_id"].clone(),
            second["data"]["persona_name"].clone()
        ),
        (json!(OTHER_STEAM_ID), json!("Second"))
    );
    // Unlinking: the copy stays unreachable.
    g.app
        .put_json(
            "/api/v1/settings/profile",
            &g.s.access,
            &json!({"steam_id": null}),
        )
        .await;
    problem(g.stats("steam").await, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn faceit_is_asked_with_the_bearer_key_and_cs2_stats_are_read() {
    let g = Games::start().await;
    Mock::given(method("GET"))
        .and(path(FACEIT_PLAYER))
        .and(query_param("nickname", "s1mple"))
        .and(header("authorization", "Bearer faceit-key"))
        .respond_with(ok(faceit_player()))
        .mount(&g.mock)
        .await;
    mount(
        &g.mock,
        &format!("/data/v4/players/{FACEIT_ID}/stats/cs2"),
        ok(faceit_stats()),
    )
    .await;
    let body = g.ok("faceit").await;
    assert_eq!(
        body,
        json!({"platform": "faceit", "fetched_at": g.now(), "stale": false, "data": {
            "player_id": FACEIT_ID, "nickname": "s1mple",
            "avatar_url": "https://assets.faceit-cdn.net/avatars/s1mple.jpg", "country": "ua",
            "profile_url": "https://www.faceit.com/en/players/s1mple",
            "cs2": {"skill_level": 10, "elo": 3512, "region": "EU", "matches": 1200, "wins": 702,
                "win_rate_percent": 59.0, "kd_ratio": 1.31, "headshots_percent": 41.0,
                "longest_win_streak": 14, "current_win_streak": 2,
                "recent_results": ["W", "L", "W", "W", "L"]}
        }})
    );
    let stored = g.raw("faceit").await.unwrap();
    assert_eq!(
        (&stored["player"], &stored["stats"]),
        (&faceit_player(), &faceit_stats())
    );

    // Later FACEIT has no CS2 stats for the player (404): not a complete answer, so the
    // complete copy is kept and served stale.
    g.app.clock.advance(Duration::minutes(16));
    g.mock.reset().await;
    mount(&g.mock, FACEIT_PLAYER, ok(faceit_player())).await;
    mount(
        &g.mock,
        &format!("/data/v4/players/{FACEIT_ID}/stats/cs2"),
        ResponseTemplate::new(404),
    )
    .await;
    let stale = g.ok("faceit").await;
    assert_eq!(
        (stale["stale"].clone(), stale["data"].clone()),
        (json!(true), body["data"].clone())
    );
}

#[tokio::test]
async fn a_player_without_cs2_stats_is_shown_without_them() {
    let g = Games::start().await;
    mount(&g.mock, FACEIT_PLAYER, ok(faceit_player())).await;
    mount(
        &g.mock,
        &format!("/data/v4/players/{FACEIT_ID}/stats/cs2"),
        ResponseTemplate::new(404),
    )
    .await;
    let body = g.ok("faceit").await;
    assert_eq!(body["stale"], false);
    let cs2 = &body["data"]["cs2"];
    assert_eq!(
        (&cs2["elo"], &cs2["matches"], &cs2["recent_results"]),
        (&json!(3512), &Value::Null, &json!([]))
    );
}

/// Many requests at once, on two instances of one deployment: one upstream call.
#[tokio::test]
async fn concurrent_requests_on_two_instances_make_one_upstream_call() {
    let g = Games::start().await;
    let slow = |body: Value| ok(body).set_delay(StdDuration::from_millis(300));
    mount(&g.mock, SUMMARIES, slow(summary(STEAM_ID, "Rabscuttle", 3))).await;
    mount(&g.mock, OWNED, slow(owned())).await;
    let beside = spawn_beside(&g.app, configure(&g.mock.uri())).await;
    let url = "/api/v1/games/stats?platform=steam";
    let requests = (0..8).map(|i| {
        let app = if i % 2 == 0 { &g.app } else { &beside };
        let token = g.s.access.clone();
        async move {
            let res = app.get(url, Some(&token)).await;
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()
        }
    });
    let answers = futures_util::future::join_all(requests).await;
    assert_eq!(
        (calls(&g.mock, SUMMARIES).await, calls(&g.mock, OWNED).await),
        (1, 1)
    );
    for a in &answers {
        assert_eq!(
            (&a["stale"], &a["data"]),
            (&json!(false), &answers[0]["data"])
        );
    }
}

/// Steam's key rides in the query string: no error the adapter raises (and logs) may
/// carry the URL.
#[tokio::test]
async fn adapter_errors_never_carry_the_key() {
    use ayubi_game_platforms::{HttpPlatforms, PlatformsConfig};
    use ayubi_games::ports::GamePlatforms;
    use ayubi_games::{Platform, PlatformError};
    // A port nothing listens on: the connection is refused (and retried once).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mock = MockServer::start().await;
    mount(
        &mock,
        SUMMARIES,
        ResponseTemplate::new(200).set_body_string("{\"response\": "),
    )
    .await;
    for base in [url, mock.uri()] {
        let platforms = HttpPlatforms::new(PlatformsConfig {
            steam_api_key: SecretString::from("steam-key-secret"),
            faceit_api_key: SecretString::from(""),
            steam_base_url: base.clone(),
            faceit_base_url: base.clone(),
            timeout: StdDuration::from_millis(500),
            connect_timeout: StdDuration::from_millis(500),
        })
        .unwrap();
        assert!(platforms.configured(Platform::Steam));
        assert!(
            !platforms.configured(Platform::Faceit),
            "an empty key is no key"
        );
        let err = platforms
            .fetch(Platform::Steam, STEAM_ID)
            .await
            .unwrap_err();
        let PlatformError::Unavailable { reason, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(!reason.is_empty());
        assert!(
            !format!("{err} {err:?}").contains("steam-key-secret"),
            "{base}: {err:?}"
        );
    }
}
