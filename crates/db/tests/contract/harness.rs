//! A fresh database per test, migrated, with the representations and a notifier that
//! records what was announced.

use ayubi_db::{Database, DbConfig, Representations, SqlAccounts, SqlChangeLog};
use ayubi_kernel::{Event, TimeZone, UserId, Write};
use ayubi_sync::{Change, ChangeLog, ChangeNotifier};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Database as SeaDatabase};
use std::sync::{Arc, Mutex};

/// Changes announced after their commit, in order.
#[derive(Debug, Default)]
pub struct Announced(Mutex<Vec<(UserId, i64, String)>>);

impl ChangeNotifier for Announced {
    fn committed(&self, user: UserId, change: &Change) {
        self.0
            .lock()
            .unwrap()
            .push((user, change.seq, change.event.clone()));
    }
}

impl Announced {
    pub fn events(&self, user: UserId) -> Vec<(i64, String)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(u, ..)| *u == user)
            .map(|(_, seq, e)| (*seq, e.clone()))
            .collect()
    }
}

pub struct TestDb {
    pub db: Database,
    pub announced: Arc<Announced>,
    drop_pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

pub fn now() -> DateTime<Utc> {
    "2026-12-07T12:00:00Z".parse().unwrap()
}

pub fn write(event: Event) -> Write {
    Write::new(event, now())
}

impl TestDb {
    /// A fresh, migrated database; `representations` render the written types.
    pub async fn new(representations: Representations) -> Self {
        let (url, drop_pg, dir) = match std::env::var("TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("ayubi_contract_{}", uuid::Uuid::new_v4().simple());
                let conn = SeaDatabase::connect(&admin).await.unwrap();
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                conn.close().await.ok();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                (format!("{base}/{name}"), Some((admin, name)), None)
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/contract.db?mode=rwc", dir.path().display());
                (url, None, Some(dir))
            }
        };
        let mut cfg = DbConfig::new(url);
        cfg.max_connections = 4;
        let announced = Arc::new(Announced::default());
        let db = Database::connect(&cfg)
            .await
            .unwrap()
            .with_representations(representations)
            .with_notifier(announced.clone());
        db.migrate_up().await.unwrap();
        Self {
            db,
            announced,
            drop_pg,
            _dir: dir,
        }
    }

    pub async fn user(&self, email: &str) -> UserId {
        SqlAccounts::new(self.db.clone())
            .create(email, TimeZone::parse("UTC").unwrap(), now())
            .await
            .unwrap()
    }

    /// `(seq, event, data)` of the user's log, oldest first.
    pub async fn log(&self, user: UserId) -> Vec<(i64, String, serde_json::Value)> {
        SqlChangeLog::new(self.db.clone())
            .since(user, 0, 1000)
            .await
            .unwrap()
            .changes
            .into_iter()
            .map(|c| (c.seq, c.event, c.data))
            .collect()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.drop_pg.take() {
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
