//! `spawn_app()`: the app on port 0 with its own database, and a client for it.

use ayubi_app::config::{Environment, Settings};
use ayubi_app::startup::Application;
use ayubi_kernel::ManualClock;
use chrono::Utc;
use reqwest::{Client, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database as SeaDatabase, DatabaseConnection, Statement};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

/// The JWT key of `config/test.toml`, for tests that forge tokens.
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
/// A password that meets the policy.
pub const PASSWORD: &str = "correct horse battery staple";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A database that exists for one test and is removed after it.
pub enum TestDb {
    /// The directory is kept (and removed on drop) for the file's sake.
    Sqlite(#[allow(dead_code)] tempfile::TempDir, String),
    Postgres {
        admin: String,
        name: String,
        url: String,
        /// Files of the deployment besides the database (stored backups).
        files: tempfile::TempDir,
    },
}

impl TestDb {
    pub async fn new() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("ayubi_test_{}", uuid::Uuid::new_v4().simple());
                let conn = SeaDatabase::connect(&admin)
                    .await
                    .expect("TEST_DATABASE_URL unreachable");
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                let url = format!("{base}/{name}");
                let files = tempfile::tempdir().expect("tempdir");
                Self::Postgres {
                    admin,
                    name,
                    url,
                    files,
                }
            }
            _ => Self::sqlite(),
        }
    }

    /// A SQLite database whatever the environment says.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/ayubi.db?mode=rwc", dir.path().display());
        Self::Sqlite(dir, url)
    }

    /// A directory living as long as the database (stored backups go there).
    pub fn files(&self) -> &std::path::Path {
        match self {
            Self::Sqlite(dir, _) | Self::Postgres { files: dir, .. } => dir.path(),
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite(_, url) | Self::Postgres { url, .. } => url,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres { .. })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Self::Postgres { admin, name, .. } = self {
            let (admin, name) = (admin.clone(), name.clone());
            // Drop runs inside the test's runtime; do the async cleanup on a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let conn = SeaDatabase::connect(&admin).await.ok()?;
                    conn.execute_unprepared(&format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    ))
                    .await
                    .ok()?;
                    conn.close().await.ok()
                })
            })
            .join();
        }
    }
}

pub struct TestApp {
    /// The app's clock: tests move it to decide "now" and "today".
    pub clock: Arc<ManualClock>,
    pub address: String,
    pub client: Client,
    /// Shared by instances started with [`spawn_beside`].
    pub db: Arc<TestDb>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the workers so the database can be dropped.
        let handle = self.handle.clone();
        drop(handle.stop(false));
    }
}

/// Test settings: `config/test.toml`, process environment ignored.
pub fn test_settings() -> Settings {
    let mut s = Settings::load_with(Environment::Test, &repo_root().join("config"), false)
        .expect("test settings");
    s.environment = Environment::Test;
    s
}

/// A pool of its own on the app's database, for tests that drive a repository directly.
pub async fn pool(app: &TestApp) -> ayubi_db::Database {
    let mut cfg = Settings::db_config(&test_settings());
    cfg.url = app.db.url().to_owned();
    ayubi_db::Database::connect(&ayubi_db::DbConfig {
        min_connections: 0,
        ..cfg
    })
    .await
    .unwrap()
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_on(Arc::new(TestDb::new().await), customise).await
}

/// A second instance on the same database (and the same Redis, when the tests have one),
/// as two machines of one deployment are.
pub async fn spawn_beside(app: &TestApp, customise: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_on(app.db.clone(), customise).await
}

/// An instance on the given database.
pub async fn spawn_on_db(db: Arc<TestDb>) -> TestApp {
    spawn_on(db, |_| {}).await
}

async fn spawn_on(db: Arc<TestDb>, customise: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_at(db, Utc::now(), customise).await
}

/// An instance on `db` whose clock starts at `now` (for what the app does at start).
pub async fn spawn_at(
    db: Arc<TestDb>,
    now: chrono::DateTime<Utc>,
    customise: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = test_settings();
    settings.backup.dir = db.files().join("backups").display().to_string();
    settings.database.url = SecretString::from(db.url().to_owned());
    if let Ok(redis) = std::env::var("TEST_REDIS_URL") {
        settings.redis.url = SecretString::from(redis);
    }
    customise(&mut settings);
    ayubi_app::telemetry::init_logs(&settings);
    let clock = Arc::new(ManualClock::new(now));
    let app = Application::build_with_clock(settings, clock.clone())
        .await
        .expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        clock,
        address,
        client: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db,
        handle,
    }
}

/// A registered user's credentials and tokens.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    /// The value of the `/metrics` sample named exactly `sample` (labels included, e.g.
    /// `ayubi_sync_closes_total{code="4008"}`), 0 when absent.
    pub async fn metric(&self, sample: &str) -> f64 {
        let text = self.get("/metrics", None).await.text().await.unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }

    /// Polls `/metrics` until `sample` satisfies `ok`, for at most 15 s: how a test waits
    /// for the server to have done something instead of sleeping for a guessed time.
    pub async fn wait_for_metric(&self, sample: &str, ok: impl Fn(f64) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let v = self.metric(sample).await;
            if ok(v) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{sample} stayed at {v} for 15 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Waits until this instance's Redis subscription is up (wake-ups from other
    /// instances arrive, so it stopped polling the log).
    pub async fn wait_for_wakeups(&self) {
        self.wait_for_metric("ayubi_sync_polling", |v| v == 0.0)
            .await;
    }
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_json(&self, path: &str, body: &Value, bearer: Option<&str>) -> Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn delete_json(&self, path: &str, body: Option<&Value>, bearer: &str) -> Response {
        let mut req = self.client.delete(self.url(path)).bearer_auth(bearer);
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.unwrap()
    }

    pub async fn register(&self, email: &str) -> Session {
        let res = self
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": email, "password": PASSWORD}),
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        Session {
            id: body["user"]["id"].as_i64().unwrap(),
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/login",
            &json!({"email": email, "password": password}),
            None,
        )
        .await
    }

    /// `POST /auth/refresh`.
    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh_token}),
            None,
        )
        .await
    }

    /// `GET /auth/tokens` as JSON.
    pub async fn tokens(&self, bearer: &str) -> Value {
        self.get("/api/v1/auth/tokens", Some(bearer))
            .await
            .json()
            .await
            .unwrap()
    }

    pub async fn me_status(&self, bearer: &str) -> StatusCode {
        self.get("/api/v1/auth/me", Some(bearer)).await.status()
    }

    /// Logs the session of `refresh_token` out; returns the status.
    pub async fn logout(&self, refresh_token: &str) -> StatusCode {
        self.post_json(
            "/api/v1/auth/logout",
            &json!({"refresh_token": refresh_token}),
            None,
        )
        .await
        .status()
    }

    /// Revokes (or restores) every session of `user` in the database itself, behind the
    /// service's back: what only the database knows.
    pub async fn revoke_sessions_by_hand(&self, user: i64, revoked: bool) {
        let at: Option<chrono::DateTime<Utc>> = revoked.then(Utc::now);
        self.exec(
            "UPDATE sessions SET revoked_at = ? WHERE user_id = ?",
            vec![at.into(), user.into()],
        )
        .await;
    }

    /// `POST` with a bearer, JSON body and optional `Idempotency-Key`.
    pub async fn create(
        &self,
        path: &str,
        bearer: &str,
        key: Option<&str>,
        body: &Value,
    ) -> Response {
        let mut req = self
            .client
            .post(self.url(path))
            .bearer_auth(bearer)
            .json(body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send().await.unwrap()
    }

    /// `PUT` with a bearer and JSON body.
    pub async fn put_json(&self, path: &str, bearer: &str, body: &Value) -> Response {
        self.client
            .put(self.url(path))
            .bearer_auth(bearer)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `GET` as JSON, asserting 200.
    pub async fn get_ok(&self, path: &str, bearer: &str) -> Value {
        let res = self.get(path, Some(bearer)).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.json().await.unwrap()
    }

    /// Runs one statement on the test database (`?` placeholders, numbered for PostgreSQL).
    pub async fn exec(&self, sql: &str, values: Vec<sea_orm::Value>) {
        let conn = self.sql().await;
        let sql = if self.db.is_postgres() {
            numbered(sql)
        } else {
            sql.to_owned()
        };
        conn.execute_raw(Statement::from_sql_and_values(
            conn.get_database_backend(),
            sql,
            values,
        ))
        .await
        .unwrap();
        conn.close().await.ok();
    }

    /// Sets a user's time zone (the profile API arrives with the settings module).
    pub async fn set_timezone(&self, user_id: i64, tz: &str) {
        self.exec(
            "UPDATE users SET timezone = ? WHERE id = ?",
            vec![tz.into(), user_id.into()],
        )
        .await;
    }

    /// A direct connection to the test database, to check what the API wrote.
    pub async fn sql(&self) -> DatabaseConnection {
        SeaDatabase::connect(self.db.url()).await.unwrap()
    }

    pub async fn count(&self, table: &str, user_id: i64) -> i64 {
        let conn = self.sql().await;
        let backend = conn.get_database_backend();
        let sql = if self.db.is_postgres() {
            format!("SELECT COUNT(*) AS n FROM {table} WHERE user_id = $1")
        } else {
            format!("SELECT COUNT(*) AS n FROM {table} WHERE user_id = ?")
        };
        let row = conn
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [user_id.into()],
            ))
            .await
            .unwrap()
            .unwrap();
        let n: i64 = row.try_get("", "n").unwrap();
        conn.close().await.ok();
        n
    }
}

/// Asserts a problem+json response and returns its body.
pub async fn problem(res: Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status, "unexpected status");
    let ct = res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["type"], "about:blank");
    assert_eq!(body["title"], status.canonical_reason().unwrap());
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    body
}

fn numbered(sql: &str) -> String {
    let mut n = 0;
    sql.chars()
        .map(|c| {
            if c == '?' {
                n += 1;
                format!("${n}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The day the resources of [`Owned::one_of_each`] are dated (habit completion and skip).
pub const DAY: &str = "2026-01-05";

/// A user's resources, one of each kind an operation can name by id or key.
pub struct Owned {
    ids: Vec<(&'static str, String)>,
}

impl Owned {
    fn id(&self, template: &str) -> &str {
        self.ids
            .iter()
            .find(|(prefix, _)| template.starts_with(prefix))
            .map(|(_, id)| id.as_str())
            .unwrap_or_else(|| panic!("no resource stands for {template}: add one"))
    }

    /// An OpenAPI path template with its parameters filled in with these resources.
    pub fn path(&self, template: &str) -> String {
        if !template.contains('{') {
            return template.to_owned();
        }
        template
            .replace("{id}", self.id(template))
            .replace("{iso3}", self.id(template))
            .replace("{date}", DAY)
    }

    /// One of each resource an operation names by id, created through the API as `a`.
    pub async fn one_of_each(app: &TestApp, a: &Session) -> Self {
        let day = DAY;
        let water = created(app, &a.access, "/api/v1/sport/water", json!({"ml": 250})).await;
        let food = created(
            app,
            &a.access,
            "/api/v1/sport/food",
            json!({"name": "soup", "kcal": 300}),
        )
        .await;
        let workout = created(
            app,
            &a.access,
            "/api/v1/sport/workout",
            json!({"name": "run", "duration_min": 30, "kcal_burned": 300}),
        )
        .await;
        let habit = created(app, &a.access, "/api/v1/habits", json!({"name": "Read"})).await;
        for part in ["completions", "skips"] {
            let res = app
                .create(
                    &format!("/api/v1/habits/{habit}/{part}"),
                    &a.access,
                    None,
                    &json!({"date": day}),
                )
                .await;
            assert!(res.status().is_success(), "{part}: {}", res.status());
        }
        let category = created(
            app,
            &a.access,
            "/api/v1/finance/categories",
            json!({"name": "Food", "kind": "expense"}),
        )
        .await;
        let entry = created(
            app,
            &a.access,
            "/api/v1/finance/entries",
            json!({"kind": "expense", "amount": 12.5, "category_id": category.parse::<i64>().unwrap()}),
        )
        .await;
        let journal = created(
            app,
            &a.access,
            "/api/v1/journal",
            json!({"content": "mine"}),
        )
        .await;
        for list in ["visited", "wishlist"] {
            created(
                app,
                &a.access,
                &format!("/api/v1/travel/{list}"),
                json!({"country_iso3": if list == "visited" { "JPN" } else { "PER" }}),
            )
            .await;
        }
        let token = created(
            app,
            &a.access,
            "/api/v1/auth/tokens",
            json!({"name": "cli"}),
        )
        .await;
        let backup = created(app, &a.access, "/api/v1/backup/history", json!({})).await;
        let invite = created(app, &a.access, "/api/v1/auth/invites", json!({})).await;
        Owned {
            ids: vec![
                ("/api/v1/sport/water/", water.clone()),
                ("/api/v1/water/", water),
                ("/api/v1/sport/food/", food),
                ("/api/v1/sport/workout/", workout),
                ("/api/v1/habits/", habit),
                ("/api/v1/finance/categories/", category),
                ("/api/v1/finance/entries/", entry),
                ("/api/v1/journal/", journal),
                ("/api/v1/travel/visited/", "JPN".into()),
                ("/api/v1/travel/wishlist/", "PER".into()),
                ("/api/v1/auth/tokens/", token),
                ("/api/v1/auth/invites/", invite),
                ("/api/v1/backup/history/", backup),
            ],
        }
    }
}

/// `POST`s `body` as `bearer`, asserting 201, and gives the new resource's id as text.
pub async fn created(app: &TestApp, bearer: &str, path: &str, body: Value) -> String {
    let res = app.create(path, bearer, None, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{path}");
    res.json::<Value>().await.unwrap()["id"].to_string()
}
