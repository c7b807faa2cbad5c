//! TLS to the dependencies hosted deployments use (#20): Redis over `rediss://` (Upstash
//! speaks only TLS) and PostgreSQL with `sslmode=require` (Fly, Railway, Neon, Render).
//! A real Redis with TLS on is started here with a CA and certificate the test makes
//! (openssl); PostgreSQL is the machine's, whose SSL is on.

use crate::helpers::*;
use crate::live::{message, open, water};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A CA and a server certificate for 127.0.0.1 signed by it, in `dir`.
fn make_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (ca_key, ca, key, csr, cert, ext) = (
        dir.join("ca.key"),
        dir.join("ca.pem"),
        dir.join("server.key"),
        dir.join("server.csr"),
        dir.join("server.pem"),
        dir.join("san.ext"),
    );
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let p = |p: &PathBuf| p.to_str().unwrap().to_owned();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=ayubi test CA",
        "-keyout",
        &p(&ca_key),
        "-out",
        &p(&ca),
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        &p(&key),
        "-out",
        &p(&csr),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        &p(&csr),
        "-CA",
        &p(&ca),
        "-CAkey",
        &p(&ca_key),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &p(&ext),
        "-out",
        &p(&cert),
    ]);
    (ca, cert, key)
}

/// `redis-server` with only a TLS port, clients not asked for certificates.
struct TlsRedis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
    ca: PathBuf,
}

impl TlsRedis {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (ca, cert, key) = make_certificates(dir.path());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
            ])
            .args(["--tls-cert-file", cert.to_str().unwrap()])
            .args(["--tls-key-file", key.to_str().unwrap()])
            .args(["--tls-ca-cert-file", ca.to_str().unwrap()])
            .args([
                "--tls-auth-clients",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--dir", dir.path().to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian's, built with TLS) is on the machine");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            port,
            _dir: dir,
            ca,
        }
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn readyz(app: &TestApp) -> Value {
    let res = app.get("/readyz", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn redis_state(ready: &Value) -> &str {
    ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "redis")
        .and_then(|c| c["status"].as_str())
        .unwrap_or("absent")
}

/// Two instances on a TLS-only Redis, verifying its certificate against the test's CA:
/// both start, `/readyz` says Redis is up, and a write on one reaches a socket on the
/// other through Redis (polling is off, so nothing else could carry it).
#[tokio::test]
async fn rediss_with_a_private_ca_carries_the_fan_out() {
    let redis = TlsRedis::start();
    let (url, ca) = (
        format!("rediss://127.0.0.1:{}", redis.port),
        redis.ca.display().to_string(),
    );
    let custom = |s: &mut ayubi_app::config::Settings| {
        s.redis.url = url.clone().into();
        s.redis.ca_file = ca.clone();
        s.sync.poll_interval_secs = 3600;
    };
    let a = spawn_with(custom).await;
    let b = spawn_beside(&a, custom).await;
    for app in [&a, &b] {
        let ready = readyz(app).await;
        assert_eq!(ready["status"], "ok", "{ready}");
        assert_eq!(redis_state(&ready), "up", "{ready}");
    }
    let s = a.register("ada@example.com").await;
    // B's subscription is up once it stops polling; wait for that, not for a while.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = b.get("/metrics", None).await.text().await.unwrap();
        if metrics.lines().any(|l| l == "ayubi_sync_polling 0") {
            break;
        }
        assert!(Instant::now() < deadline, "B never subscribed over TLS");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut on_b = open(&b, &s.access, 0).await;
    let written = water(&a, &s.access, 250).await;
    let got = message(&mut on_b).await;
    assert_eq!((got["seq"].as_i64(), &got["data"]), (Some(1), &written));
    // The view cache and login limits use the same connections: a cached read works.
    let stats = a.get_ok("/api/v1/sport/stats", &s.access).await;
    assert_eq!(stats["water_ml"], json!(250));
}

/// Verification is real: without the CA the same server is not trusted (Redis reported
/// down, requests still served); `#insecure` — redis-rs's marker, for private networks
/// and tests — connects without checking.
#[tokio::test]
async fn rediss_verifies_the_certificate_unless_the_url_says_insecure() {
    let redis = TlsRedis::start();
    let untrusted =
        spawn_with(|s| s.redis.url = format!("rediss://127.0.0.1:{}", redis.port).into()).await;
    let ready = readyz(&untrusted).await;
    assert_eq!(
        (ready["status"].as_str(), redis_state(&ready)),
        (Some("degraded"), "down"),
        "{ready}"
    );
    let insecure = spawn_with(|s| {
        s.redis.url = format!("rediss://127.0.0.1:{}/#insecure", redis.port).into();
    })
    .await;
    let ready = readyz(&insecure).await;
    assert_eq!(redis_state(&ready), "up", "{ready}");
}

/// Tests that need a real PostgreSQL (`TEST_DATABASE_URL`): the SQLite pass of CI skips them by name.
mod needs_postgres {
    use super::*;

    /// PostgreSQL with `sslmode=require` (PostgreSQL pass only: the SQLite pass has no
    /// server to ask): the server starts, `/readyz` is ok, and every session the app holds on
    /// its database is encrypted, as `pg_stat_ssl` reports it.
    #[tokio::test]
    async fn postgres_with_sslmode_require_encrypts_every_session() {
        let db = std::sync::Arc::new(TestDb::new().await);
        assert!(
            db.is_postgres(),
            "needs_postgres tests need TEST_DATABASE_URL (CI's PostgreSQL + Redis pass sets it)"
        );
        let sep = if db.url().contains('?') { '&' } else { '?' };
        let url = format!("{}{sep}sslmode=require", db.url());
        let app = spawn_at(db.clone(), chrono::Utc::now(), |s| {
            s.database.url = url.clone().into();
            s.database.min_connections = 3;
        })
        .await;
        let ready = readyz(&app).await;
        assert_eq!(
            ready["checks"][0],
            json!({"name": "database", "status": "up"})
        );
        let s = app.register("ada@example.com").await;
        water(&app, &s.access, 300).await;
        use sea_orm::{ConnectionTrait, Statement};
        let conn = sea_orm::Database::connect(url.as_str()).await.unwrap();
        let row = conn
            .query_one_raw(Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT COUNT(*) AS sessions, COUNT(*) FILTER (WHERE s.ssl) AS encrypted, \
                        COUNT(*) FILTER (WHERE a.pid = pg_backend_pid() AND s.ssl) AS mine \
                 FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
                 WHERE a.datname = current_database()",
            ))
            .await
            .unwrap()
            .unwrap();
        let (sessions, encrypted, mine): (i64, i64, i64) = (
            row.try_get("", "sessions").unwrap(),
            row.try_get("", "encrypted").unwrap(),
            row.try_get("", "mine").unwrap(),
        );
        conn.close().await.ok();
        assert_eq!(mine, 1, "the checking session is encrypted too");
        assert!(
            sessions >= 3,
            "the app's pool holds its sessions: {sessions}"
        );
        assert_eq!(
            encrypted, sessions,
            "every session on the database is encrypted"
        );
    }
}
