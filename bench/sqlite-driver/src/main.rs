//! SQLite driver ceilings without HTTP (#22): the group-commit writer lane and the
//! 90-row water list as JSON, on sqlx-sqlite and on rusqlite.
//!
//! Writes: 64 tasks submit a water entry each, in turn, to one writer that batches every
//! queued write in one `BEGIN IMMEDIATE … COMMIT`, each in a savepoint, with the same
//! statements as Ayubi's (the row with `RETURNING id`; the change-log entry with its `seq`,
//! the `seq` bump and, keyed, the saved response's `DELETE`/`INSERT`). sqlx: two round
//! trips per write to the connection's thread, as `db/src/group.rs` does; rusqlite: the
//! whole batch runs on the writer's own thread. Reads: 64 tasks over 4 connections, the
//! `json_group_array` list statement of `db/src/sport.rs`.
//!
//! A measurement tool: it panics on any failure.
#![allow(clippy::unwrap_used)]
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

const SCHEMA: &str = "
PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;
CREATE TABLE users (id INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL DEFAULT 0);
INSERT INTO users (id) VALUES (1);
CREATE TABLE sport_water (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), date TEXT NOT NULL, ml INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX idx_w ON sport_water (user_id, date);
CREATE TABLE change_log (user_id INTEGER NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, entity TEXT NOT NULL, entity_id TEXT NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (user_id, seq));
CREATE TABLE idempotency_keys (user_id INTEGER NOT NULL, key TEXT NOT NULL, fingerprint BLOB NOT NULL, status INTEGER NOT NULL, body BLOB NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (user_id, key));
";
const INSERT: &str =
    "INSERT INTO sport_water (user_id, date, ml, created_at) VALUES (?, ?, ?, ?) RETURNING id";
const LOG: &str = "INSERT INTO change_log (user_id, seq, event, entity, entity_id, data, created_at) SELECT ?, last_seq + 1, ?, ?, ?, ?, ? FROM users WHERE id = ? RETURNING seq";
const BUMP: &str = "UPDATE users SET last_seq = last_seq + 1 WHERE id = ?";
const DEL: &str = "DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? AND created_at < ?";
const KEY: &str = "INSERT INTO idempotency_keys (user_id, key, fingerprint, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)";

struct Req {
    n: u64,
    done: oneshot::Sender<i64>,
}

fn data(id: i64) -> String {
    format!(
        "{{\"id\":{id},\"date\":\"2026-12-07\",\"amount_ml\":250,\"created_at\":\"2026-12-07T12:00:00.123456Z\"}}"
    )
}

async fn sqlx_lane(path: &str, keyed: bool, mut rx: mpsc::Receiver<Req>) {
    use sqlx::{Connection, Executor, Row};
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{path}?mode=rwc"))
        .await
        .unwrap();
    c.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")
        .await
        .unwrap();
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, 1024).await > 0 {
        c.execute("BEGIN IMMEDIATE").await.unwrap();
        c.execute("SAVEPOINT w").await.unwrap();
        let mut out = Vec::new();
        for r in batch.drain(..) {
            let id: i64 = sqlx::query(INSERT)
                .bind(1i64)
                .bind("2026-12-07")
                .bind(250i64)
                .bind("2026-12-07T12:00:00Z")
                .fetch_one(&mut c)
                .await
                .unwrap()
                .get(0);
            let key = format!("k{}", r.n);
            // One multi-statement round trip, as Ayubi's closing: sqlx-sqlite runs them in turn.
            let sql = if keyed {
                format!("{LOG}; {BUMP}; {DEL}; {KEY}; RELEASE w; SAVEPOINT w")
            } else {
                format!("{LOG}; {BUMP}; RELEASE w; SAVEPOINT w")
            };
            let q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(1i64)
                .bind("created")
                .bind("water")
                .bind(id.to_string())
                .bind(data(id))
                .bind("2026-12-07T12:00:00Z")
                .bind(1i64)
                .bind(1i64);
            let q = if keyed {
                q.bind(1i64)
                    .bind(key.clone())
                    .bind("2026-12-06T12:00:00Z")
                    .bind(1i64)
                    .bind(key)
                    .bind(vec![7u8; 32])
                    .bind(201i64)
                    .bind(vec![9u8; 200])
                    .bind("2026-12-07T12:00:00Z")
            } else {
                q
            };
            let seq: i64 = q
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .find_map(|r| r.try_get::<i64, _>(0).ok())
                .unwrap_or(0);
            out.push((r.done, seq));
        }
        c.execute("COMMIT").await.unwrap();
        for (d, s) in out {
            d.send(s).ok();
        }
    }
}

fn rusqlite_lane(path: &str, keyed: bool, mut rx: mpsc::Receiver<Req>) {
    let mut c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")
        .unwrap();
    let mut batch = Vec::new();
    while rx.blocking_recv().map(|r| batch.push(r)).is_some() {
        while let Ok(r) = rx.try_recv() {
            batch.push(r);
        }
        let tx = c
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        let mut out = Vec::new();
        for r in batch.drain(..) {
            tx.execute_batch("SAVEPOINT w").unwrap();
            let id: i64 = tx
                .prepare_cached(INSERT)
                .unwrap()
                .query_row(
                    rusqlite::params![1i64, "2026-12-07", 250i64, "2026-12-07T12:00:00Z"],
                    |r| r.get(0),
                )
                .unwrap();
            let seq: i64 = tx
                .prepare_cached(LOG)
                .unwrap()
                .query_row(
                    rusqlite::params![
                        1i64,
                        "created",
                        "water",
                        id.to_string(),
                        data(id),
                        "2026-12-07T12:00:00Z",
                        1i64
                    ],
                    |r| r.get(0),
                )
                .unwrap();
            tx.prepare_cached(BUMP).unwrap().execute([1i64]).unwrap();
            let key = format!("k{}", r.n);
            if keyed {
                tx.prepare_cached(DEL)
                    .unwrap()
                    .execute(rusqlite::params![1i64, key, "2026-12-06T12:00:00Z"])
                    .unwrap();
                tx.prepare_cached(KEY)
                    .unwrap()
                    .execute(rusqlite::params![
                        1i64,
                        key,
                        vec![7u8; 32],
                        201i64,
                        vec![9u8; 200],
                        "2026-12-07T12:00:00Z"
                    ])
                    .unwrap();
            }
            tx.execute_batch("RELEASE w").unwrap();
            out.push((r.done, seq));
        }
        tx.commit().unwrap();
        for (d, s) in out {
            d.send(s).ok();
        }
    }
}

async fn drive(name: &str, tx: mpsc::Sender<Req>, secs: u64) {
    let start = Instant::now();
    let stop = start + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for t in 0..64u64 {
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < stop {
                let (d, w) = oneshot::channel();
                tx.send(Req {
                    n: t * 1_000_000 + n,
                    done: d,
                })
                .await
                .unwrap();
                w.await.unwrap();
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    println!(
        "{name}: {:.0} writes/s",
        total as f64 / start.elapsed().as_secs_f64()
    );
}

const LIST: &str = "SELECT json_group_array(json_object('id', id, 'date', date, 'ml', ml, 'created_at', substr(created_at, 1, length(created_at) - 6) || 'Z')) AS body FROM (SELECT id, date, ml, created_at FROM sport_water WHERE user_id = ? AND date BETWEEN ? AND ? ORDER BY date DESC, id DESC LIMIT ?)";

fn seed(path: &str) {
    let mut c = rusqlite::Connection::open(path).unwrap();
    let tx = c.transaction().unwrap();
    for d in 0..365 {
        let day = format!("2026-{:02}-{:02}", 1 + d / 31 % 12, 1 + d % 28);
        for _ in 0..3 {
            tx.execute(
                "INSERT INTO sport_water (user_id, date, ml, created_at) VALUES (1, ?, 250, ?)",
                rusqlite::params![day, format!("{day} 12:00:00.123456+00:00")],
            )
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

async fn reads(which: &str, path: &str, secs: u64) {
    let start = Instant::now();
    let stop = start + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    if which == "sqlx" {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(4)
            .connect(&format!("sqlite://{path}"))
            .await
            .unwrap();
        for _ in 0..64 {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < stop {
                    use sqlx::Row;
                    let r = sqlx::query(LIST)
                        .bind(1i64)
                        .bind("2026-03-01")
                        .bind("2026-03-30")
                        .bind(100i64)
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                    let body: String = r.get(0);
                    assert!(body.len() > 1000);
                    n += 1;
                }
                n
            }));
        }
    } else {
        let (tx, rx) = mpsc::channel::<oneshot::Sender<String>>(1024);
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for _ in 0..4 {
            let rx = rx.clone();
            let path = path.to_owned();
            std::thread::spawn(move || {
                let c = rusqlite::Connection::open(&path).unwrap();
                loop {
                    let Some(reply) = rx.lock().unwrap().blocking_recv() else {
                        return;
                    };
                    let body: String = c
                        .prepare_cached(LIST)
                        .unwrap()
                        .query_row(
                            rusqlite::params![1i64, "2026-03-01", "2026-03-30", 100i64],
                            |r| r.get(0),
                        )
                        .unwrap();
                    reply.send(body).ok();
                }
            });
        }
        for _ in 0..64 {
            let tx = tx.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < stop {
                    let (d, w) = oneshot::channel();
                    tx.send(d).await.unwrap();
                    assert!(w.await.unwrap().len() > 1000);
                    n += 1;
                }
                n
            }));
        }
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    println!(
        "{which} 90-row list: {:.0} reads/s",
        total as f64 / start.elapsed().as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let secs = 5;
    for round in 0..2 {
        for keyed in [false, true] {
            for which in ["sqlx", "rusqlite"] {
                let dir = std::env::temp_dir()
                    .join(format!("sqlite-driver-bench-{which}-{round}-{keyed}"));
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&dir).unwrap();
                let path = dir.join("b.db").display().to_string();
                rusqlite::Connection::open(&path)
                    .unwrap()
                    .execute_batch(SCHEMA)
                    .unwrap();
                seed(&path);
                let (tx, rx) = mpsc::channel(1024);
                let p = path.clone();
                let lane = if which == "sqlx" {
                    tokio::spawn(async move { sqlx_lane(&p, keyed, rx).await })
                } else {
                    tokio::task::spawn_blocking(move || rusqlite_lane(&p, keyed, rx))
                };
                drive(&format!("{which} keyed={keyed}"), tx, secs).await;
                lane.await.unwrap();
                if keyed {
                    reads(which, &path, secs).await;
                }
                std::fs::remove_dir_all(&dir).ok();
            }
        }
    }
}
