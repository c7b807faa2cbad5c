//! Operations endpoints: health, readiness, metrics, OpenAPI, docs.

use crate::helpers::*;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::BTreeSet;

#[tokio::test]
async fn healthz_and_readyz_report_dependencies() {
    let app = spawn_app().await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    let ready: Value = app.get("/readyz", None).await.json().await.unwrap();
    assert_eq!(ready["status"], "ok");
    let names: Vec<_> = ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert!(names.contains(&json!("database")));
    if std::env::var("TEST_REDIS_URL").is_ok() {
        assert!(
            names.contains(&json!("redis")),
            "redis is configured and must be checked"
        );
    }
}

#[tokio::test]
async fn readyz_reports_redis_down_as_degraded_and_requests_keep_working() {
    // Nothing listens on port 1: Redis is configured but unreachable.
    let app = spawn_with(|s| {
        s.redis.url = SecretString::from("redis://127.0.0.1:1".to_owned());
        s.redis.timeout_ms = 300;
    })
    .await;
    let res = app.get("/readyz", None).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the instance keeps its traffic"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "degraded");
    assert_eq!(
        body["checks"],
        json!([{"name": "database", "status": "up"}, {"name": "redis", "status": "down"}])
    );
    // The cache is bypassed: writes and reads still work, and agree.
    let s = app.register("ada@example.com").await;
    let res = app
        .create("/api/v1/sport/water", &s.access, None, &json!({"ml": 250}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let stats = app.get_ok("/api/v1/sport/stats", &s.access).await;
    assert_eq!(stats["water_ml"], 250);
    let body: Value = app.get("/readyz", None).await.json().await.unwrap();
    assert!(
        body["checks"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "view_cache", "status": "failing"})),
        "{body}"
    );
    assert_eq!(
        app.get("/healthz", None).await.status(),
        StatusCode::OK,
        "alive"
    );
}

#[tokio::test]
async fn metrics_label_requests_by_route_pattern() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    app.delete_json("/api/v1/auth/tokens/12345", None, &s.access)
        .await;
    app.get("/api/v1/auth/me", Some(&s.access)).await;
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(text.contains(
        r#"ayubi_http_requests_total{endpoint="/api/v1/auth/tokens/{id}",method="DELETE",status="404"} 1"#
    ), "{text}");
    assert!(text.contains(
        r#"ayubi_http_requests_total{endpoint="/api/v1/auth/me",method="GET",status="200"} 1"#
    ));
    assert!(text.contains(
        "ayubi_http_requests_duration_seconds_bucket{endpoint=\"/api/v1/auth/register\""
    ));
    assert!(!text.contains("12345"), "raw paths must not become labels");
}

/// Beyond HTTP: failed logins by reason, the pool's connections (sampled at the scrape).
#[tokio::test]
async fn metrics_count_failed_logins_and_show_the_pool() {
    let app = spawn_app().await;
    app.register("ada@example.com").await;
    for (email, password) in [
        ("ada@example.com", "not her password at all"),
        ("nobody@example.com", PASSWORD),
    ] {
        let res = app.login(email, password).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        text.contains(r#"ayubi_login_failures_total{reason="credentials"} 2"#),
        "{text}"
    );
    let value = |name: &str| -> i64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing:\n{text}"))
    };
    let max = value("ayubi_db_pool_max_connections ");
    assert!(max >= 1, "{max}");
    let idle = value(r#"ayubi_db_pool_connections{state="idle"} "#);
    let in_use = value(r#"ayubi_db_pool_connections{state="in_use"} "#);
    assert!(
        idle >= 0 && in_use >= 0 && idle + in_use <= max,
        "{idle} + {in_use} > {max}"
    );
    assert!(
        idle + in_use >= 1,
        "the pool was used, so it holds a connection"
    );
    assert_eq!(value("ayubi_db_writers_waiting "), 0, "nobody writes now");
}

/// Every route api.md's Auth and Operations sections define, as `METHOD path`.
const ROUTES: &[&str] = &[
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "POST /api/v1/auth/register",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/logout",
    "GET /api/v1/auth/me",
    "DELETE /api/v1/auth/me",
    "POST /api/v1/auth/password",
    "GET /api/v1/auth/tokens",
    "POST /api/v1/auth/tokens",
    "DELETE /api/v1/auth/tokens/{id}",
    "GET /api/v1/auth/invites",
    "POST /api/v1/auth/invites",
    "DELETE /api/v1/auth/invites/{id}",
    "POST /api/v1/sport/water",
    "GET /api/v1/sport/water",
    "DELETE /api/v1/sport/water/{id}",
    "POST /api/v1/sport/food",
    "GET /api/v1/sport/food",
    "DELETE /api/v1/sport/food/{id}",
    "POST /api/v1/sport/workout",
    "GET /api/v1/sport/workout",
    "DELETE /api/v1/sport/workout/{id}",
    "GET /api/v1/sport/stats",
    "GET /api/v1/sport/goals",
    "PUT /api/v1/sport/goals",
    "POST /api/v1/water",
    "GET /api/v1/water",
    "DELETE /api/v1/water/{id}",
    "GET /api/v1/sync/changes",
    "GET /api/v1/ws/sync",
    "GET /api/v1/events",
    "GET /api/v1/backup/export",
    "POST /api/v1/backup/import",
    "POST /api/v1/backup/history",
    "GET /api/v1/backup/history",
    "GET /api/v1/backup/history/{id}",
    "DELETE /api/v1/backup/history/{id}",
    "GET /api/v1/backup/schedule",
    "POST /api/v1/backup/schedule",
    "GET /api/v1/games/stats",
    "GET /api/v1/travel/wishlist",
    "POST /api/v1/travel/wishlist",
    "DELETE /api/v1/travel/wishlist/{iso3}",
    "GET /api/v1/travel/visited",
    "POST /api/v1/travel/visited",
    "DELETE /api/v1/travel/visited/{iso3}",
    "GET /api/v1/travel/stats",
    "GET /api/v1/settings",
    "PUT /api/v1/settings",
    "GET /api/v1/settings/theme",
    "PUT /api/v1/settings/goals",
    "GET /api/v1/settings/profile",
    "PUT /api/v1/settings/profile",
    "GET /api/v1/habits",
    "POST /api/v1/habits",
    "GET /api/v1/habits/stats",
    "GET /api/v1/habits/{id}",
    "PUT /api/v1/habits/{id}",
    "DELETE /api/v1/habits/{id}",
    "POST /api/v1/habits/{id}/completions",
    "GET /api/v1/habits/{id}/completions",
    "DELETE /api/v1/habits/{id}/completions/{date}",
    "POST /api/v1/habits/{id}/skips",
    "DELETE /api/v1/habits/{id}/skips/{date}",
    "GET /api/v1/finance/categories",
    "POST /api/v1/finance/categories",
    "PUT /api/v1/finance/categories/{id}",
    "DELETE /api/v1/finance/categories/{id}",
    "GET /api/v1/finance/entries",
    "POST /api/v1/finance/entries",
    "GET /api/v1/finance/entries/{id}",
    "PUT /api/v1/finance/entries/{id}",
    "DELETE /api/v1/finance/entries/{id}",
    "GET /api/v1/finance/summary",
    "GET /api/v1/journal",
    "POST /api/v1/journal",
    "GET /api/v1/journal/{id}",
    "PUT /api/v1/journal/{id}",
    "DELETE /api/v1/journal/{id}",
];

#[tokio::test]
async fn openapi_documents_exactly_the_routes_served() {
    let app = spawn_app().await;
    let spec: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let expected: BTreeSet<String> = ROUTES.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(documented, expected);
    // One name per operation (client generators key operations by it).
    let ids: Vec<&str> = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| {
            op["operationId"]
                .as_str()
                .expect("every operation has an id")
        })
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate operationIds: {ids:?}");
    assert_eq!(
        spec["paths"]["/api/v1/habits/{id}/completions/{date}"]["delete"]["operationId"],
        "delete_habits_by_id_completions_by_date"
    );
    // And every documented operation is really served: no "no route" 404 and no 405.
    for op in &documented {
        let (method, path) = op.split_once(' ').unwrap();
        let url = app.url(
            &path
                .replace("{id}", "1")
                .replace("{iso3}", "JPN")
                .replace("{date}", "2026-01-01"),
        );
        let res = app
            .client
            .request(method.parse().unwrap(), url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_ne!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{op}");
        if res.status() == StatusCode::NOT_FOUND {
            let body: Value = res.json().await.unwrap();
            assert!(
                !body["detail"].as_str().unwrap().starts_with("no route"),
                "{op} is not served"
            );
        }
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn docs_are_served_offline() {
    let app = spawn_app().await;
    let res = app.get("/docs", None).await;
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(res.headers()["location"], "/docs/");
    let res = app.get("/docs/", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"));
    assert!(
        !html.contains("https://"),
        "the page must not load anything from the internet"
    );
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        let res = app.get(asset, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
        assert!(res.bytes().await.unwrap().len() > 100, "{asset}");
    }
    let init = app
        .get("/docs/swagger-initializer.js", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/openapi.json"));
}

/// The document covers every answer (found by Schemathesis): errors are problem+json with
/// the `Problem` schema, each operation lists the errors it can give besides its own
/// (400 and 503 everywhere, 401 when secured, 404 with a path id, 422 with a body or
/// query), a body that requires nothing is optional, and no two types share a schema name
/// (the habits' and the backups' `ScheduleDto` did, and habits were documented with the
/// backup schedule's fields).
#[tokio::test]
async fn openapi_documents_every_error_as_problem_json() {
    let app = spawn_app().await;
    let spec: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let op = |path: &str, method: &str| spec["paths"][path][method].clone();
    let problem = json!({"schema": {"$ref": "#/components/schemas/Problem"}});
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (code, response) in op["responses"].as_object().unwrap() {
                if code.as_str() >= "400"
                    && let Some(content) = response.get("content")
                {
                    assert_eq!(
                        content,
                        &json!({"application/problem+json": problem}),
                        "{method} {path} {code}"
                    );
                }
            }
            if path.starts_with("/api/") {
                for code in ["400", "503"] {
                    assert!(
                        op["responses"].get(code).is_some(),
                        "{method} {path} {code}"
                    );
                }
            }
        }
    }
    let update = op("/api/v1/habits/{id}", "put");
    for code in ["200", "400", "401", "404", "413", "415", "422", "503"] {
        assert!(update["responses"].get(code).is_some(), "PUT habit {code}");
    }
    let login = op("/api/v1/auth/login", "post");
    assert!(login["responses"].get("401").is_some());
    assert_eq!(
        op("/api/v1/settings", "put")["requestBody"]["required"],
        false
    );
    assert_eq!(
        op("/api/v1/habits", "post")["requestBody"]["required"],
        true
    );
    let habit =
        &op("/api/v1/habits/{id}", "get")["responses"]["200"]["content"]["application/json"];
    let habit_schema = habit["schema"]["$ref"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let schedule = &spec["components"]["schemas"][habit_schema]["properties"]["schedule"];
    assert_eq!(
        schedule["$ref"], "#/components/schemas/HabitScheduleDto",
        "{schedule}"
    );
}

/// A path served with other methods answers 405 with `Allow` (RFC 9110), also where a
/// parameterised route would take the path (`PUT /habits/stats` is not `PUT /habits/{id}`
/// with a bad id); an unknown path stays 404.
#[tokio::test]
async fn method_not_allowed_names_the_allowed_methods() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    for (method, path, allow) in [
        ("TRACE", "/api/v1/habits", "GET, POST"),
        ("PUT", "/api/v1/habits/stats", "GET"),
        ("PATCH", "/api/v1/habits/7", "GET, PUT, DELETE"),
        ("DELETE", "/healthz", "GET"),
    ] {
        let res = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&s.access)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers().get("allow").map(|v| v.to_str().unwrap()),
            Some(allow),
            "{method} {path}"
        );
        let body = problem(res, StatusCode::METHOD_NOT_ALLOWED).await;
        assert!(body["detail"].as_str().unwrap().contains(allow), "{body}");
    }
    let res = app.get("/api/v1/habits/x/y/z", Some(&s.access)).await;
    assert!(res.headers().get("allow").is_none());
    problem(res, StatusCode::NOT_FOUND).await;
    let res = app.get("/api/v1/habits/abc", Some(&s.access)).await;
    problem(res, StatusCode::NOT_FOUND).await;
}
