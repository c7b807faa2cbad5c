//! The read-view cache (memory, and Redis when `TEST_REDIS_URL` is set) and conditional
//! GETs.

use crate::helpers::{TestApp, spawn_with};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// The backends to run on: memory always, Redis when the tests have one.
fn backends() -> Vec<(&'static str, Option<String>)> {
    let mut b = vec![("memory", None)];
    if let Ok(url) = std::env::var("TEST_REDIS_URL") {
        b.push(("redis", Some(url)));
    }
    b
}

async fn on(redis: Option<String>) -> TestApp {
    spawn_with(move |s| {
        s.redis.url = SecretString::from(redis.unwrap_or_default());
        s.redis.timeout_ms = 300;
    })
    .await
}

/// `ayubi_view_cache_requests_total{view, result}`, summed over views when `view` is `*`.
async fn counted_for(app: &TestApp, view: &str, result: &str) -> u64 {
    let text = app.get("/metrics", None).await.text().await.unwrap();
    let result = format!("result=\"{result}\"");
    let view = format!("view=\"{view}\"");
    text.lines()
        .filter(|l| l.starts_with("ayubi_view_cache_requests_total{") && l.contains(&result))
        .filter(|l| view == "view=\"*\"" || l.contains(&view))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

async fn counted(app: &TestApp, result: &str) -> u64 {
    counted_for(app, "*", result).await
}

/// Lookups the cache answered: from Redis (`hit`) or from the instance's own copy in
/// front of it (`local`).
async fn answered(app: &TestApp, view: &str) -> u64 {
    counted_for(app, view, "hit").await + counted_for(app, view, "local").await
}

#[tokio::test]
async fn a_write_is_visible_in_the_very_next_read_on_every_backend() {
    for (backend, redis) in backends() {
        let app = on(redis).await;
        app.clock.set("2026-11-26T12:00:00Z".parse().unwrap());
        let s = app.register("ada@example.com").await;
        let habit: Value = app
            .create("/api/v1/habits", &s.access, None, &json!({"name": "Read"}))
            .await
            .json()
            .await
            .unwrap();
        let cat: Value = app
            .create(
                "/api/v1/finance/categories",
                &s.access,
                None,
                &json!({"name": "Food", "kind": "expense"}),
            )
            .await
            .json()
            .await
            .unwrap();
        // (view, the write that changes it, what the view says after)
        let cases: Vec<(&str, (String, Value), &str)> = vec![
            (
                "/api/v1/sport/stats",
                ("/api/v1/sport/water".into(), json!({"ml": 250})),
                "/water_ml",
            ),
            (
                "/api/v1/habits/stats",
                (
                    format!("/api/v1/habits/{}/completions", habit["id"]),
                    json!({}),
                ),
                "/0/completed_today",
            ),
            (
                "/api/v1/travel/stats",
                (
                    "/api/v1/travel/visited".into(),
                    json!({"country_iso3": "jpn"}),
                ),
                "/visited_count",
            ),
            (
                "/api/v1/finance/summary?month=2026-11",
                (
                    "/api/v1/finance/entries".into(),
                    json!({"kind": "expense", "amount": 12.5, "category_id": cat["id"]}),
                ),
                "/expense",
            ),
        ];
        for (view, (write, body), field) in cases {
            let read = |v: &Value| v.pointer(field).cloned();
            let kind = view
                .trim_start_matches("/api/v1/")
                .split('?')
                .next()
                .unwrap()
                .replace('/', ":");
            let before = app.get_ok(view, &s.access).await;
            let hits = answered(&app, &kind).await;
            assert_eq!(
                app.get_ok(view, &s.access).await,
                before,
                "{backend} {view}"
            );
            assert_eq!(
                answered(&app, &kind).await,
                hits + 1,
                "{backend} {view}: the second read is a hit"
            );
            let res = app.create(&write, &s.access, None, &body).await;
            assert_eq!(res.status(), StatusCode::CREATED, "{backend} {write}");
            let after = app.get_ok(view, &s.access).await;
            assert_ne!(
                read(&after),
                read(&before),
                "{backend} {view} after {write}: {after}"
            );
        }
        // "Today" follows the time zone: a profile change is a write too.
        let stats = app.get_ok("/api/v1/sport/stats", &s.access).await;
        assert_eq!(stats["date"], "2026-11-26", "{backend}");
        app.put_json(
            "/api/v1/settings/profile",
            &s.access,
            &json!({"timezone": "Pacific/Kiritimati"}),
        )
        .await;
        let stats = app.get_ok("/api/v1/sport/stats", &s.access).await;
        assert_eq!(
            stats["date"], "2026-11-27",
            "{backend}: UTC+14 is already tomorrow"
        );
        assert_eq!(counted(&app, "error").await, 0, "{backend}");
    }
}

#[tokio::test]
async fn views_are_per_user_and_off_means_off() {
    let app = spawn_with(|s| s.cache.enabled = false).await;
    let a = app.register("ada@example.com").await;
    let b = app.register("bob@example.com").await;
    app.create("/api/v1/sport/water", &a.access, None, &json!({"ml": 300}))
        .await;
    for _ in 0..2 {
        let stats = app.get_ok("/api/v1/sport/stats", &b.access).await;
        assert_eq!(stats["water_ml"], 0);
    }
    assert_eq!(counted(&app, "hit").await + counted(&app, "miss").await, 0);
    let ready: Value = app.get("/readyz", None).await.json().await.unwrap();
    assert_eq!(ready["status"], "ok");
}

/// A TCP proxy in front of the tests' Redis that can be cut and restored: Redis going
/// down mid-run, without touching the shared server.
struct Cuttable {
    addr: std::net::SocketAddr,
    up: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Cuttable {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, _) = tokio::sync::watch::channel(true);
        let up = Arc::new(up);
        let state = up.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let mut live = state.subscribe();
                if !*live.borrow() {
                    client.shutdown().await.ok();
                    continue;
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = live.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { addr, up }
    }

    fn set(&self, up: bool) {
        self.up.send_replace(up);
    }
}

#[tokio::test]
async fn lists_and_stats_revalidate_with_etags() {
    let app = spawn_with(|_| {}).await;
    let s = app.register("ada@example.com").await;
    app.create("/api/v1/sport/water", &s.access, None, &json!({"ml": 250}))
        .await;
    for path in ["/api/v1/sport/water", "/api/v1/sport/stats"] {
        let first = app.get(path, Some(&s.access)).await;
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers()["etag"].to_str().unwrap().to_owned();
        assert!(tag.starts_with("W/\""), "{tag}");
        assert_eq!(first.headers()["cache-control"], "private, no-cache");
        let body = first.bytes().await.unwrap();
        assert!(!body.is_empty());

        let again = app
            .client
            .get(app.url(path))
            .bearer_auth(&s.access)
            .header("If-None-Match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
        assert!(again.bytes().await.unwrap().is_empty());

        let other = app
            .client
            .get(app.url(path))
            .bearer_auth(&s.access)
            .header("If-None-Match", "W/\"stale\"")
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), StatusCode::OK);
        assert_eq!(other.bytes().await.unwrap(), body);
    }
    // A change changes the tag.
    let before = app
        .get("/api/v1/sport/water", Some(&s.access))
        .await
        .headers()["etag"]
        .clone();
    app.create("/api/v1/sport/water", &s.access, None, &json!({"ml": 100}))
        .await;
    let res = app
        .client
        .get(app.url("/api/v1/sport/water"))
        .bearer_auth(&s.access)
        .header("If-None-Match", before.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_ne!(res.headers()["etag"], before);
    // Not for errors or writes.
    let res = app.get("/api/v1/journal/999", Some(&s.access)).await;
    assert!(res.headers().get("etag").is_none());
}

/// Tests that need a real Redis (`TEST_REDIS_URL`): the SQLite pass of CI skips them by name.
mod needs_redis {
    use super::*;
    use crate::helpers::spawn_beside;

    fn redis_url() -> String {
        std::env::var("TEST_REDIS_URL")
            .expect("needs_redis tests need TEST_REDIS_URL (CI's PostgreSQL + Redis pass sets it)")
    }

    /// Waits up to a second for `field` of `view` on `app` to read `want`: a write on
    /// another instance reaches this one's copies when its invalidation arrives over the
    /// bus, not necessarily by the very next read.
    async fn eventually(app: &TestApp, token: &str, view: &str, field: &str, want: Value) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        loop {
            let got = app.get_ok(view, token).await;
            if got.pointer(field) == Some(&want) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{view}{field} is still {got} a second after the write elsewhere"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn a_cached_read_stays_in_process_and_a_write_elsewhere_reaches_it() {
        let redis = || {
            let url = redis_url();
            move |s: &mut ayubi_app::config::Settings| {
                s.redis.url = SecretString::from(url);
            }
        };
        let a = spawn_with(redis()).await;
        let b = spawn_beside(&a, redis()).await;
        a.wait_for_wakeups().await;
        b.wait_for_wakeups().await;
        for app in [&a, &b] {
            app.clock.set("2026-11-26T12:00:00Z".parse().unwrap());
        }
        let s = a.register("ada@example.com").await;
        let stats = "/api/v1/sport/stats";
        assert_eq!(b.get_ok(stats, &s.access).await["water_ml"], 0);
        let (local, hit) = (
            counted_for(&b, "sport:stats", "local").await,
            counted_for(&b, "sport:stats", "hit").await,
        );
        for _ in 0..3 {
            assert_eq!(b.get_ok(stats, &s.access).await["water_ml"], 0);
        }
        // Three reads, none of them a round trip to Redis: neither the view nor the time
        // zone behind "today".
        assert_eq!(counted_for(&b, "sport:stats", "local").await, local + 3);
        assert_eq!(counted_for(&b, "sport:stats", "hit").await, hit);
        assert_eq!(counted_for(&b, "tz", "hit").await, 0);

        // A write through `a`: `a` sees it at once, `b` once the invalidation arrives.
        let res = a
            .create("/api/v1/sport/water", &s.access, None, &json!({"ml": 250}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(a.get_ok(stats, &s.access).await["water_ml"], 250);
        eventually(&b, &s.access, stats, "/water_ml", json!(250)).await;
        // A time-zone change elsewhere moves "today" here too.
        assert_eq!(
            b.get_ok(stats, &s.access).await["date"],
            a.get_ok(stats, &s.access).await["date"]
        );
        a.put_json(
            "/api/v1/settings/profile",
            &s.access,
            &json!({"timezone": "Pacific/Kiritimati"}),
        )
        .await;
        assert_eq!(a.get_ok(stats, &s.access).await["date"], "2026-11-27");
        eventually(&b, &s.access, stats, "/date", json!("2026-11-27")).await;
    }

    #[tokio::test]
    async fn redis_going_down_mid_run_bypasses_the_cache_and_loses_no_write() {
        let url = redis_url();
        let target = url
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_owned();
        let proxy = Cuttable::start(target).await;
        let app = on(Some(format!("redis://{}", proxy.addr))).await;
        let s = app.register("ada@example.com").await;
        let water = |ml: i64| json!({"ml": ml});
        app.create("/api/v1/sport/water", &s.access, None, &water(100))
            .await;
        assert_eq!(
            app.get_ok("/api/v1/sport/stats", &s.access).await["water_ml"],
            100
        );
        assert_eq!(
            app.get_ok("/api/v1/sport/stats", &s.access).await["water_ml"],
            100
        );
        assert!(answered(&app, "*").await >= 1);

        proxy.set(false);
        // The write's invalidation cannot reach Redis; the write stands, and the reads that
        // follow come from the database.
        let res = app
            .create("/api/v1/sport/water", &s.access, None, &water(200))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        for _ in 0..2 {
            assert_eq!(
                app.get_ok("/api/v1/sport/stats", &s.access).await["water_ml"],
                300
            );
        }
        assert!(counted(&app, "error").await >= 1);
        let ready = app.get("/readyz", None).await;
        assert_eq!(ready.status(), StatusCode::OK, "degraded is still ready");
        let ready: Value = ready.json().await.unwrap();
        assert_eq!(ready["status"], "degraded");
        assert!(
            ready["checks"]
                .as_array()
                .unwrap()
                .contains(&json!({"name": "redis", "status": "down"})),
            "{ready}"
        );

        // Back: the owed invalidation goes first, so the value cached before the outage
        // (100 ml) is never served.
        proxy.set(true);
        assert_eq!(
            app.get_ok("/api/v1/sport/stats", &s.access).await["water_ml"],
            300
        );
        assert_eq!(
            app.get_ok("/api/v1/sport/stats", &s.access).await["water_ml"],
            300
        );
        let ready: Value = app.get("/readyz", None).await.json().await.unwrap();
        assert_eq!(ready["status"], "ok", "{ready}");
    }
}
