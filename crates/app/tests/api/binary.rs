//! The `ayubi` binary itself: start-up on SQLite, configuration refusals, migrations, and
//! draining in-flight requests on SIGTERM.

use crate::helpers::repo_root;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

pub(crate) fn ayubi(db_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ayubi"));
    cmd.current_dir(repo_root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AYUBI_ENV", "development")
        .env(
            "DATABASE_URL",
            format!(
                "sqlite://{}/ayubi.db?mode=rwc",
                db_dir.join("data").display()
            ),
        )
        .env(
            "AYUBI__BACKUP__DIR",
            db_dir.join("backups").display().to_string(),
        )
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("NO_COLOR", "1")
        .env("AYUBI__TELEMETRY__LOG_FORMAT", "json")
        .env("AYUBI__SERVER__WORKERS", "1");
    cmd
}

/// Starts the server and returns it with its port, read from its "listening on" log line.
pub(crate) fn start(cmd: Command) -> (Child, u16) {
    let (child, port, _) = start_logged(cmd);
    (child, port)
}

/// [`start`], also keeping every line the server logs.
fn start_logged(mut cmd: Command) -> (Child, u16, Arc<Mutex<Vec<String>>>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let kept = logs.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = tx.send(port.parse::<u16>().unwrap());
            }
            kept.lock().unwrap().push(line);
        }
    });
    let port = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server did not start");
    (child, port, logs)
}

/// JSON calls to a spawned server's API.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(port: u16) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{port}/api/v1"),
        }
    }

    /// POSTs `body`; an error only when no answer came (the server may have been killed).
    async fn send(
        &self,
        path: &str,
        body: &serde_json::Value,
        bearer: Option<&str>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        req.send().await
    }

    /// [`Api::send`] to a server that answers.
    async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
        bearer: Option<&str>,
    ) -> reqwest::Response {
        self.send(path, body, bearer).await.unwrap()
    }

    /// [`Api::post`] that must succeed: the answer's JSON.
    async fn ok(
        &self,
        path: &str,
        body: &serde_json::Value,
        bearer: Option<&str>,
    ) -> serde_json::Value {
        let res = self.post(path, body, bearer).await;
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.unwrap()
    }

    /// Registers `email` with the test password: the register answer.
    async fn register(&self, email: &str) -> serde_json::Value {
        let body = serde_json::json!({"email": email, "password": crate::helpers::PASSWORD});
        self.ok("/auth/register", &body, None).await
    }
}

fn request(stream: &mut TcpStream, raw: &str) -> String {
    stream.write_all(raw.as_bytes()).unwrap();
    let mut buf = vec![0u8; 8192];
    let n = stream.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < limit, "server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serves_on_sqlite_and_drains_in_flight_requests_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, port) = start(ayubi(dir.path()));
    assert!(
        dir.path().join("data/ayubi.db").exists(),
        "the SQLite file and its folder are created"
    );

    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let health = request(&mut conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    // Half a request is in flight when SIGTERM arrives. `Expect: 100-continue` makes the
    // server say when it has parsed the head, so the test knows the request is in
    // flight without guessing with a sleep.
    let body = r#"{"email":"a@b.co","password":"not the password"}"#;
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let cont = request(&mut conn, &head);
    assert!(cont.starts_with("HTTP/1.1 100"), "{cont}");
    conn.write_all(&body.as_bytes()[..10]).unwrap();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // New connections are refused once the listener closes; the in-flight one finishes.
    let response = request(&mut conn, &body[10..]);
    assert!(
        response.starts_with("HTTP/1.1 401"),
        "the in-flight request was answered: {response}"
    );
    assert!(response.contains("application/problem+json"));
    let status = wait_exit(&mut child, Duration::from_secs(30));
    assert!(status.success(), "exit status {status}");
}

/// `ayubi healthcheck` (the image's HEALTHCHECK) succeeds against a serving instance,
/// and fails — with a reason on stderr — when nothing listens or `/healthz` is not 200.
#[test]
fn the_healthcheck_command_asks_the_local_server() {
    let dir = tempfile::tempdir().unwrap();
    let check = |port: u16| {
        let mut cmd = ayubi(dir.path());
        cmd.env("PORT", port.to_string()).arg("healthcheck");
        cmd.output().unwrap()
    };
    let (mut child, port) = start(ayubi(dir.path()));
    let ok = check(port);
    assert!(ok.status.success(), "{ok:?}");
    assert!(ok.stdout.is_empty() && ok.stderr.is_empty(), "{ok:?}");

    child.kill().unwrap();
    child.wait().unwrap();
    let down = check(port);
    assert!(!down.status.success());
    let why = String::from_utf8_lossy(&down.stderr);
    assert!(why.starts_with("ayubi healthcheck: 127.0.0.1:"), "{why}");

    // Something answers on the port, but not 200.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sick = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf).unwrap();
        s.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    });
    let unhealthy = check(sick);
    assert!(!unhealthy.status.success());
    let why = String::from_utf8_lossy(&unhealthy.stderr);
    assert!(why.contains("/healthz answered HTTP/1.1 503"), "{why}");
}

#[test]
fn production_refuses_a_missing_or_short_jwt_secret() {
    let dir = tempfile::tempdir().unwrap();
    for secret in [
        None,
        Some("too-short"),
        Some("change-me-to-at-least-32-random-bytes"),
    ] {
        let mut cmd = ayubi(dir.path());
        cmd.env("AYUBI_ENV", "production");
        if let Some(s) = secret {
            cmd.env("JWT_SECRET_KEY", s);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{secret:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("JWT_SECRET_KEY") && err.contains("32"),
            "{err}"
        );
        assert!(
            !err.contains("too-short"),
            "the secret itself is never printed"
        );
    }
    assert!(!dir.path().join("data").exists(), "nothing was started");
}

#[test]
fn migrate_commands_report_and_apply() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = ayubi(dir.path()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let lines = |out: String| out.lines().map(str::to_owned).collect::<Vec<_>>();
    let before = lines(run(&["migrate", "status"]));
    assert!(
        before.len() >= 3 && before.iter().all(|l| l.starts_with("pending m")),
        "{before:?}"
    );
    run(&["migrate", "up"]);
    let applied = lines(run(&["migrate", "status"]));
    assert!(
        applied.iter().all(|l| l.starts_with("applied m")),
        "{applied:?}"
    );
    run(&["migrate", "down"]);
    let one_down = lines(run(&["migrate", "status"]));
    let (last, rest) = one_down.split_last().unwrap();
    assert!(
        last.starts_with("pending m") && rest.iter().all(|l| l.starts_with("applied m")),
        "{one_down:?}"
    );
    run(&["migrate", "down", "100"]);
    assert!(
        lines(run(&["migrate", "status"]))
            .iter()
            .all(|l| l.starts_with("pending m"))
    );
    run(&["migrate", "up"]);
    assert!(!run(&["migrate", "status"]).contains("pending"));
    let bad = ayubi(dir.path())
        .args(["migrate", "sideways"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("usage"));
}

/// SIGTERM tells live sockets to reconnect (1001) instead of holding the shutdown for its
/// whole timeout; an `?access_token=` never reaches the logs.
#[tokio::test]
async fn sigterm_closes_live_sockets_with_1001_and_query_tokens_stay_out_of_logs() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ayubi(dir.path());
    cmd.env(
        "AYUBI__TELEMETRY__LOG_FILTER",
        "debug,sqlx=warn,sea_orm=warn",
    );
    let (mut child, port, logs) = start_logged(cmd);
    let client = reqwest::Client::new();
    let res = client
        .post(format!("http://127.0.0.1:{port}/api/v1/auth/register"))
        .json(
            &serde_json::json!({"email": "ada@example.com", "password": crate::helpers::PASSWORD}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let body: serde_json::Value = res.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();

    let url = format!("ws://127.0.0.1:{port}/api/v1/ws/sync?since=0&access_token={token}");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let started = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close.map(|f| u16::from(f.code)), Some(1001));
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert!(status.success(), "exit status {status}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the socket did not hold the shutdown"
    );
    let logs = logs.lock().unwrap();
    assert!(
        logs.iter().any(|l| l.contains("/api/v1/ws/sync")),
        "the request was logged"
    );
    assert!(
        !logs.iter().any(|l| l.contains(&token)),
        "the token never appears in the logs"
    );
}

/// Every write the server acknowledged survives the process being killed (SIGKILL, no
/// shutdown) in the middle of a burst of writes: SQLite in WAL with `synchronous =
/// NORMAL` has a commit in the log before it answers.
#[tokio::test]
async fn acknowledged_writes_survive_a_kill() {
    use futures_util::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, port) = start(ayubi(dir.path()));
    let api = Api::new(port);
    let token = api.register("k@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let enough = Arc::new(tokio::sync::Notify::new());
    let writes = futures_util::stream::iter(0..2000).for_each_concurrent(16, |i| {
        let (api, token, acknowledged, enough) = (
            api.clone(),
            token.clone(),
            acknowledged.clone(),
            enough.clone(),
        );
        async move {
            let body = serde_json::json!({"ml": 100 + i});
            let Ok(res) = api.send("/sport/water", &body, Some(&token)).await else {
                return;
            };
            if res.status() == reqwest::StatusCode::CREATED
                && let Ok(v) = res.json::<serde_json::Value>().await
            {
                let mut acked = acknowledged.lock().unwrap();
                acked.push(v["id"].as_i64().unwrap());
                if acked.len() == 200 {
                    enough.notify_one();
                }
            }
        }
    });
    let signal = enough.clone();
    let kill = async move {
        // Kill once a good number have been answered, with more in flight.
        signal.notified().await;
        child.kill().unwrap();
        child.wait().unwrap();
    };
    tokio::join!(writes, kill);
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 200);
    let url = format!(
        "sqlite://{}/ayubi.db?mode=ro",
        dir.path().join("data").display()
    );
    let conn = sea_orm::Database::connect(&url).await.unwrap();
    use sea_orm::ConnectionTrait;
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            "SELECT id FROM sport_water",
        ))
        .await
        .unwrap();
    let stored: std::collections::HashSet<i64> = rows
        .iter()
        .map(|r| r.try_get::<i64>("", "id").unwrap())
        .collect();
    let lost: Vec<&i64> = acknowledged
        .iter()
        .filter(|id| !stored.contains(id))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}

/// Sentry, through a local endpoint standing in for sentry.io: a server error is one
/// event, with the release and environment and without the request's credentials; 4xx
/// answers send nothing. (The server error is a real one: the database loses a table, and
/// every database failure is a 503 here — a 500 is only a handler that panicked.)
#[tokio::test]
async fn a_server_error_reaches_sentry_scrubbed_and_4xx_answers_do_not() {
    use sea_orm::ConnectionTrait;
    use wiremock::matchers::{method, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let sentry = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("^/api/1/envelope/?$"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&sentry)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ayubi(dir.path());
    cmd.env(
        "SENTRY_DSN",
        format!("http://publickey@{}/1", sentry.address()),
    )
    .env("AYUBI__TELEMETRY__SENTRY_TRACES_SAMPLE_RATE", "0");
    let (mut child, port) = start(cmd);
    let api = Api::new(port);
    let password = crate::helpers::PASSWORD;
    let token = api.register("s@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // 404, 422, 401: none is Sentry's business.
    let nope = api
        .http
        .get(format!("{}/nope", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(nope.status().as_u16(), 404);
    let bad = api
        .post("/sport/water", &serde_json::json!({"ml": -5}), Some(&token))
        .await;
    assert_eq!(bad.status().as_u16(), 422);
    let wrong = serde_json::json!({"email": "s@example.com", "password": "wrong password!"});
    assert_eq!(
        api.post("/auth/login", &wrong, None)
            .await
            .status()
            .as_u16(),
        401
    );

    // A real fault: the table logins write to is gone, so a good login fails.
    let db = sea_orm::Database::connect(format!(
        "sqlite://{}/ayubi.db",
        dir.path().join("data").display()
    ))
    .await
    .unwrap();
    db.execute_unprepared("DROP TABLE refresh_tokens")
        .await
        .unwrap();
    let res = api
        .http
        .post(format!("{}/auth/login", api.base))
        .bearer_auth(&token)
        .header("Cookie", "session=cookie-secret-value")
        .json(&serde_json::json!({"email": "s@example.com", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 503);

    // Sentry sends from a thread of its own: wait for the event, then stop the server,
    // whose Sentry guard flushes everything still queued on exit, so whatever else it
    // would have sent has arrived when it has exited.
    let started = Instant::now();
    while sentry
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty()
    {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no event reached Sentry"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    // Waited for without blocking the runtime the stand-in for Sentry may answer on.
    let stopping = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            stopping.elapsed() < Duration::from_secs(15),
            "the server did not exit"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let envelopes: Vec<String> = sentry
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    let events: Vec<&str> = envelopes
        .iter()
        .flat_map(|e| e.lines())
        .filter(|l| l.contains(r#""type":"event""#))
        .collect();
    assert_eq!(events.len(), 1, "one event, for the 503: {envelopes:?}");
    let all = envelopes.join("\n");
    assert!(all.contains(r#""environment":"development""#), "{all}");
    assert!(all.contains(r#""release":"ayubi-app@"#), "{all}");
    assert!(
        all.contains("/api/v1/auth/login"),
        "the request is there: {all}"
    );
    for secret in [token.as_str(), password, "cookie-secret-value"] {
        assert!(!all.contains(secret), "{secret} was sent to Sentry: {all}");
    }
}

/// Logs in twice, the second time with the device token of the first; returns it.
async fn changed_device(api: &Api, email: &str, password: &str) -> String {
    use serde_json::json;
    let first = api
        .ok(
            "/auth/login",
            &json!({"email": email, "password": password}),
            None,
        )
        .await;
    let device = first["device_token"].as_str().unwrap().to_owned();
    api.ok(
        "/auth/login",
        &json!({"email": email, "password": password, "device_token": device}),
        None,
    )
    .await;
    device
}

/// The logs, as an operator gets them (JSON lines, everything down to `debug`), after
/// every auth flow: no password, access token, refresh token or personal access token
/// appears, and each request's line carries its request id — and, once authenticated,
/// the user's id.
#[tokio::test]
async fn logs_are_json_lines_with_request_and_user_ids_and_never_a_secret() {
    use serde_json::{Value, json};
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ayubi(dir.path());
    cmd.env("AYUBI__TELEMETRY__LOG_FILTER", "debug");
    let (mut child, port, logs) = start_logged(cmd);
    let api = Api::new(port);
    let (old, new, wrong) = (
        crate::helpers::PASSWORD,
        "a brand new passphrase 2026",
        "definitely the wrong one",
    );
    let mut secrets: Vec<String> = vec![old.into(), new.into(), wrong.into()];
    let email = "log@example.com";
    let reg = api.register(email).await;
    let login = api
        .ok(
            "/auth/login",
            &json!({"email": email, "password": old}),
            None,
        )
        .await;
    let refreshed = api
        .ok(
            "/auth/refresh",
            &json!({"refresh_token": login["refresh_token"]}),
            None,
        )
        .await;
    let access = refreshed["access_token"].as_str().unwrap().to_owned();
    let change = json!({"current_password": old, "new_password": new});
    let changed = api.ok("/auth/password", &change, Some(&access)).await;
    let access = changed["access_token"].as_str().unwrap().to_owned();
    let pat = api
        .ok("/auth/tokens", &json!({"name": "cli"}), Some(&access))
        .await;
    let pat = pat["token"].as_str().unwrap().to_owned();
    // An invite, used at once, and a login with the device token an earlier one returned.
    let invite = api
        .ok(
            "/auth/invites",
            &json!({"note": "for a friend"}),
            Some(&access),
        )
        .await;
    let code = invite["code"].as_str().unwrap().to_owned();
    let friend = api
        .post(
            "/auth/register",
            &json!({"email": "friend@example.com", "password": old, "invite": code}),
            None,
        )
        .await;
    assert_eq!(friend.status().as_u16(), 201);
    let device = changed_device(&api, email, new).await;
    let me = api
        .http
        .get(format!("{}/auth/me", api.base))
        .bearer_auth(&pat)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);
    let request_id = me.headers()["x-request-id"].to_str().unwrap().to_owned();
    let user_id = reg["user"]["id"].as_i64().unwrap();
    let refused = api
        .post(
            "/auth/login",
            &json!({"email": email, "password": wrong}),
            None,
        )
        .await;
    assert_eq!(refused.status().as_u16(), 401);
    let out = api
        .post(
            "/auth/logout",
            &json!({"refresh_token": changed["refresh_token"]}),
            None,
        )
        .await;
    assert_eq!(out.status().as_u16(), 204);
    for body in [&reg, &login, &refreshed, &changed] {
        for key in ["access_token", "refresh_token"] {
            secrets.push(body[key].as_str().unwrap().to_owned());
        }
    }
    secrets.push(pat);
    secrets.push(code);
    secrets.push(device);

    child.kill().unwrap();
    child.wait().unwrap();
    let logs = logs.lock().unwrap().clone();
    assert!(logs.len() > 10, "the debug logs were captured: {logs:?}");
    for line in &logs {
        let parsed: Result<Value, _> = serde_json::from_str(line);
        assert!(parsed.is_ok(), "not a JSON line: {line}");
        for secret in &secrets {
            assert!(
                !line.contains(secret.as_str()),
                "a secret was logged: {line}"
            );
        }
    }
    // The `GET /auth/me` line: its request id (the one the client got) and its user.
    let line: Value = logs
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["span"]["request_id"] == json!(request_id) && v["message"] == "request")
        .unwrap_or_else(|| panic!("no line for request {request_id}: {logs:?}"));
    assert_eq!(line["span"]["route"], "/api/v1/auth/me", "{line}");
    assert_eq!(line["span"]["user_id"], json!(user_id), "{line}");
    assert_eq!(line["span"]["status"], json!(200), "{line}");
}

/// The pool's waiting, end to end: `Database::connect` turns on sqlx's per-acquire event,
/// `init_logs` hangs the layer that times it, `/metrics` shows the histogram. With one
/// connection and 32 reads at once, every read is an acquire, and most wait.
#[tokio::test]
async fn the_time_queries_wait_for_a_connection_reaches_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ayubi(dir.path());
    cmd.env("AYUBI__DATABASE__MAX_CONNECTIONS", "1")
        .env("AYUBI__DATABASE__MIN_CONNECTIONS", "1");
    let (mut child, port) = start(cmd);
    let api = Api::new(port);
    let reg = api.register("pool@example.com").await;
    let token = reg["access_token"].as_str().unwrap();
    let metric = |text: &str, name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing:\n{text}"))
    };
    let scrape = || async {
        let url = format!("http://127.0.0.1:{port}/metrics");
        api.http
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let before = metric(&scrape().await, "ayubi_db_pool_acquire_seconds_count ");
    let reads = (0..32).map(|_| {
        api.http
            .get(format!("{}/auth/me", api.base))
            .bearer_auth(token)
            .send()
    });
    for res in futures_util::future::join_all(reads).await {
        assert_eq!(res.unwrap().status().as_u16(), 200);
    }
    let text = scrape().await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(metric(&text, "ayubi_db_pool_max_connections "), 1.0);
    let after = metric(&text, "ayubi_db_pool_acquire_seconds_count ");
    assert!(after - before >= 32.0, "{before} → {after}:\n{text}");
    assert!(
        metric(&text, "ayubi_db_pool_acquire_seconds_sum ") > 0.0,
        "{text}"
    );
    assert!(
        text.contains(r#"ayubi_db_pool_acquire_seconds_bucket{le="0.001"}"#),
        "{text}"
    );
}

/// The operator's way in: on an empty database in `invite` mode the server says how to
/// make the first invite; `ayubi invite create|list|revoke` and `ayubi user create` work
/// beside the running server; codes reach only the command's own output, never the log.
#[tokio::test]
async fn the_operator_makes_invites_and_accounts_from_the_command_line() {
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ayubi(dir.path());
    cmd.env("AYUBI__AUTH__REGISTRATION", "invite");
    let (mut child, port, logs) = start_logged(cmd);
    let api = Api::new(port);
    assert!(
        logs.lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("no account yet")
                && l.contains("ayubi invite create")
                && l.contains("ayubi user create")),
        "{:?}",
        logs.lock().unwrap()
    );
    let signup = |email: &str, invite: Option<&str>| {
        let mut body = json!({"email": email, "password": crate::helpers::PASSWORD});
        if let Some(code) = invite {
            body["invite"] = json!(code);
        }
        let api = api.clone();
        async move {
            api.post("/auth/register", &body, None)
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(signup("first@example.com", None).await, 403);

    let run = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = ayubi(dir.path());
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
        drop(input);
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Standard output is the code and nothing else (logs, JSON here, go to standard
    // error), so `code=$(ayubi invite create)` works in a script.
    let code_in = |stdout: &str| -> String {
        let code = stdout.trim_end_matches('\n');
        assert!(
            code.starts_with("ayubi_inv_") && !code.contains('\n'),
            "stdout is not just the code: {stdout}"
        );
        code.to_owned()
    };
    let (ok, out, err) = run(
        &[
            "invite",
            "create",
            "--expires-in-days",
            "3",
            "--note",
            "first one",
        ],
        None,
    );
    assert!(ok, "{out}{err}");
    let first = code_in(&out);
    assert!(err.contains("works once"), "{err}");
    assert_eq!(signup("first@example.com", Some(&first)).await, 201);
    assert_eq!(signup("second@example.com", Some(&first)).await, 403);

    let (ok, out, _) = run(&["invite", "create"], None);
    assert!(ok);
    let second = code_in(&out);
    let (ok, out, _) = run(&["invite", "list"], None);
    assert!(ok);
    let used = out.lines().find(|l| l.contains("first one")).unwrap();
    assert!(
        used.contains("\tused\t") && used.contains("operator"),
        "{out}"
    );
    assert!(
        !out.contains(&first) && !out.contains(&second),
        "the list never shows codes"
    );
    let open_id = out
        .lines()
        .find(|l| l.contains("\topen\t"))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_owned();
    let (ok, _, _) = run(&["invite", "revoke", &open_id], None);
    assert!(ok);
    assert_eq!(signup("second@example.com", Some(&second)).await, 403);
    let (ok, _, err) = run(&["invite", "revoke", &open_id], None);
    assert!(!ok && err.contains("not found"), "{err}");
    let (ok, _, err) = run(&["invite", "create", "--expires-in-days", "90"], None);
    assert!(!ok && err.contains("expires_in_days"), "{err}");
    let (ok, _, err) = run(&["invite", "frobnicate"], None);
    assert!(!ok && err.contains("usage"), "{err}");

    // An account whatever the mode, the password on standard input.
    let (ok, _, err) = run(
        &["user", "create", "--email", "op@example.com"],
        Some("an operator passphrase\n"),
    );
    assert!(ok, "{err}");
    let login = api
        .post(
            "/auth/login",
            &json!({"email": "op@example.com", "password": "an operator passphrase"}),
            None,
        )
        .await;
    assert_eq!(login.status().as_u16(), 200);
    let (ok, _, err) = run(
        &["user", "create", "--email", "op@example.com"],
        Some("an operator passphrase\n"),
    );
    assert!(!ok && err.contains("already registered"), "{err}");
    let (ok, _, err) = run(
        &["user", "create", "--email", "short@example.com"],
        Some("short\n"),
    );
    assert!(!ok && err.contains("password"), "{err}");

    child.kill().unwrap();
    child.wait().unwrap();
    for line in logs.lock().unwrap().iter() {
        assert!(
            !line.contains(&first) && !line.contains(&second),
            "a code was logged: {line}"
        );
    }
}

/// Tests that need a real PostgreSQL (`TEST_DATABASE_URL`): the SQLite pass of CI skips them by name.
mod needs_postgres {
    use super::*;

    /// Instances starting together on a fresh PostgreSQL database take turns migrating (an
    /// advisory lock): all succeed, nothing is applied twice. Found by the Redis fault script,
    /// whose two instances started at once and one died on a duplicate key. PostgreSQL only
    /// (SQLite is one instance by construction).
    #[tokio::test]
    async fn instances_migrating_at_once_on_postgresql_take_turns() {
        let db = crate::helpers::TestDb::new().await;
        assert!(
            db.is_postgres(),
            "needs_postgres tests need TEST_DATABASE_URL (CI's PostgreSQL + Redis pass sets it)"
        );
        let dir = tempfile::tempdir().unwrap();
        let children: Vec<_> = (0..4)
            .map(|_| {
                ayubi(dir.path())
                    .env("DATABASE_URL", db.url())
                    .args(["migrate", "up"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let status = ayubi(dir.path())
            .env("DATABASE_URL", db.url())
            .args(["migrate", "status"])
            .output()
            .unwrap();
        let status = String::from_utf8_lossy(&status.stdout).into_owned();
        assert!(
            !status.contains("pending") && status.contains("applied m"),
            "{status}"
        );
    }
}
