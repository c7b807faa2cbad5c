//! Connecting, pooling, migrating and pinging.

use crate::error::store_err;
use crate::group::{Closing, GroupCommit};
use crate::representations::Representations;
use ayubi_kernel::{StoreError, UserId, ViewInvalidation};
use ayubi_sync::{Change, ChangeNotifier};
use migration::{Migrator, MigratorTrait};
#[cfg(feature = "sqlite")]
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, QueryResult,
    Statement, TransactionTrait,
};
use std::sync::Arc;

pub use crate::config::DbConfig;

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    fn compiled(self) -> bool {
        match self {
            Self::Sqlite => cfg!(feature = "sqlite"),
            Self::Postgres => cfg!(feature = "postgres"),
        }
    }

    fn feature(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// The connection pool. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Database {
    conn: DatabaseConnection,
    backend: Backend,
    notifier: Option<Arc<dyn ChangeNotifier>>,
    views: Option<Arc<dyn ViewInvalidation>>,
    /// How written resources appear in the change log.
    representations: Arc<Representations>,
    /// The group-commit writer (see [`Database::transact_as`]).
    writer: Arc<GroupCommit>,
    /// The connection the writer's batches run on: on SQLite a rusqlite connection of
    /// its own (`sqlite_writer.rs`), on PostgreSQL the pool.
    write_conn: DatabaseConnection,
    /// SQLite: connections for hot short reads (`sqlite_writer::Readers`).
    #[cfg(feature = "sqlite")]
    readers: Option<Arc<crate::sqlite_writer::Readers>>,
}

/// The tracing target of the event sqlx emits after each connection acquire, with the
/// wait in its `acquired_after_secs` field (f64, seconds). Enabled at DEBUG by
/// [`Database::connect`]; a slow acquire (over 2 s) comes at WARN with the same field.
pub const ACQUIRE_EVENT_TARGET: &str = "sqlx::pool::acquire";

/// The advisory lock key instances take turns on while migrating (an arbitrary constant:
/// "ayubi" in ASCII).
#[cfg(feature = "postgres")]
const MIGRATION_LOCK: i64 = 0x61_79_75_62_69;

/// What the pool holds right now (for `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections, idle or in use.
    pub size: u32,
    /// Open connections nobody is using.
    pub idle: u32,
    /// The configured maximum.
    pub max: u32,
    /// Write transactions waiting for their turn in a group-commit batch: on SQLite every
    /// write, on PostgreSQL a user's writes that record a change (see
    /// [`Database::transact_as`]).
    pub writers_waiting: u64,
    /// Write batches committed since start (each one `COMMIT`).
    pub write_batches: u64,
    /// SQLite: write transactions those batches carried; over `write_batches`, the mean
    /// batch size.
    pub batched_writes: u64,
}

impl Database {
    /// Opens the pool. For a SQLite file it creates the parent directory and turns on
    /// WAL (readers never block the writer), foreign keys (SQLite leaves them off by
    /// default, and `ON DELETE CASCADE` depends on them) and a busy timeout.
    ///
    /// # Errors
    /// When the URL is malformed or the database cannot be reached.
    pub async fn connect(cfg: &DbConfig) -> Result<Self, DbErr> {
        let backend = if cfg.url.starts_with("postgres://") || cfg.url.starts_with("postgresql://")
        {
            Backend::Postgres
        } else if cfg.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(DbErr::Custom(format!(
                "database.url must start with sqlite: or postgres:// (got scheme {:?})",
                cfg.url.split(':').next().unwrap_or_default()
            )));
        };
        if !backend.compiled() {
            return Err(DbErr::Custom(format!(
                "this build has no {backend:?} support (ayubi-db's `{}` feature is off)",
                backend.feature()
            )));
        }
        if backend == Backend::Sqlite {
            ensure_sqlite_dir(&cfg.url)?;
        }
        let mut opts = ConnectOptions::new(cfg.url.clone());
        opts.max_connections(cfg.max_connections)
            .min_connections(cfg.min_connections)
            .acquire_timeout(cfg.acquire_timeout)
            .connect_timeout(cfg.acquire_timeout)
            .idle_timeout(cfg.idle_timeout)
            .max_lifetime(cfg.max_lifetime)
            // An embedded SQLite connection cannot go stale behind our back; pinging it
            // before every use only adds a round trip through sqlx's worker thread.
            .test_before_acquire(cfg.test_before_acquire && backend == Backend::Postgres)
            .sqlx_logging(false);
        #[cfg(feature = "sqlite")]
        sqlite_options(&mut opts, cfg);
        #[cfg(feature = "postgres")]
        {
            let statements = cfg.statement_cache_capacity.max(1);
            opts.map_sqlx_postgres_opts(move |o| o.statement_cache_capacity(statements));
        }
        // sqlx counts no waiters, but it can time every acquire: one DEBUG event per
        // acquire (target ACQUIRE_EVENT_TARGET, field `acquired_after_secs`), which the
        // app turns into a histogram of how long queries waited for a connection.
        #[cfg(feature = "sqlite")]
        opts.map_sqlx_sqlite_pool_opts(|o| o.acquire_time_level(log::LevelFilter::Debug));
        #[cfg(feature = "postgres")]
        opts.map_sqlx_postgres_pool_opts(|o| o.acquire_time_level(log::LevelFilter::Debug));
        let conn = sea_orm::Database::connect(opts).await?;
        let write_conn = match backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => crate::sqlite_writer::connect(cfg).await?,
            _ => conn.clone(),
        };
        #[cfg(feature = "sqlite")]
        let readers = match backend {
            Backend::Sqlite => Some(Arc::new(crate::sqlite_writer::Readers::open(
                cfg,
                readers(),
            )?)),
            Backend::Postgres => None,
        };
        Ok(Self {
            write_conn,
            #[cfg(feature = "sqlite")]
            readers,
            conn,
            backend,
            notifier: None,
            views: None,
            representations: Arc::default(),
            writer: Arc::new(if backend == Backend::Sqlite {
                GroupCommit::sqlite()
            } else {
                GroupCommit::per_user()
            }),
        })
    }

    /// The same pool, announcing every committed change to `notifier` (the live sync
    /// fan-out). Repositories built from the returned value announce; earlier clones
    /// do not.
    #[must_use]
    pub fn with_notifier(mut self, notifier: Arc<dyn ChangeNotifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// The same pool, recording written resources in the change log as `representations`
    /// render them (the app registers its REST bodies). Set before repositories are built
    /// from the pool; a write of an unregistered type fails.
    #[must_use]
    pub fn with_representations(mut self, representations: Representations) -> Self {
        self.representations = Arc::new(representations);
        self
    }

    /// How written resources appear in the change log.
    pub(crate) fn representations(&self) -> &Representations {
        &self.representations
    }

    /// The same pool, invalidating the user's cached read views after every committed
    /// change. Like [`Database::with_notifier`], only for repositories built from the
    /// returned value.
    #[must_use]
    pub fn with_views(mut self, views: Arc<dyn ViewInvalidation>) -> Self {
        self.views = Some(views);
        self
    }

    /// After a commit: invalidates the user's views, then announces the change (so a
    /// device told of it and refetching reads fresh views). A failed invalidation is the
    /// cache's to remember and retry; the write stands.
    pub(crate) async fn committed(&self, user: UserId, change: &Change) {
        if let Some(v) = &self.views {
            v.changed(user, &change.entity);
        }
        if let Some(v) = &self.views
            && let Err(e) = v.invalidate(user).await
        {
            tracing::warn!(error = %e, %user, "views not invalidated yet; bypassed until they are");
        }
        if let Some(n) = &self.notifier {
            n.committed(user, change);
        }
    }

    /// Applies every pending migration. On PostgreSQL, instances starting together take
    /// turns: a session advisory lock is held on a connection of its own while they run
    /// (without it, two instances starting on a fresh database both created the first
    /// table and one died on a duplicate key); the next finds nothing pending. A process
    /// that dies holding it releases it with its session.
    ///
    /// # Errors
    /// When a migration fails (it is rolled back where the database allows).
    pub async fn migrate_up(&self) -> Result<(), DbErr> {
        #[cfg(feature = "postgres")]
        if self.backend == Backend::Postgres {
            return self.migrate_up_locked().await;
        }
        Migrator::up(&self.conn, None).await
    }

    /// PostgreSQL: migrations under an advisory lock, so instances starting together
    /// take turns.
    #[cfg(feature = "postgres")]
    async fn migrate_up_locked(&self) -> Result<(), DbErr> {
        let pool = self.conn.get_postgres_connection_pool();
        if pool.options().get_max_connections() < 2 {
            // The lock's connection would leave none for the migrations themselves.
            tracing::warn!(
                "database.max_connections is 1: migrating without the lock that lets instances take turns"
            );
            return Migrator::up(&self.conn, None).await;
        }
        let mut holder = pool
            .acquire()
            .await
            .map_err(|e| DbErr::Custom(format!("migration lock: {e}")))?;
        sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *holder)
            .await
            .map_err(|e| DbErr::Custom(format!("migration lock: {e}")))?;
        let result = Migrator::up(&self.conn, None).await;
        let unlocked = sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *holder)
            .await;
        if let Err(e) = unlocked {
            // The session's end releases it; close this connection rather than keep a
            // session holding the lock in the pool.
            tracing::warn!(error = %e, "releasing the migration lock");
            holder.close_on_drop();
        }
        result
    }

    /// Rolls back the last `steps` migrations.
    ///
    /// # Errors
    /// When a rollback fails.
    pub async fn migrate_down(&self, steps: u32) -> Result<(), DbErr> {
        Migrator::down(&self.conn, Some(steps)).await
    }

    /// `(name, applied)` for every known migration, in order.
    ///
    /// # Errors
    /// When the migrations table cannot be read.
    pub async fn migration_status(&self) -> Result<Vec<(String, bool)>, DbErr> {
        let applied = Migrator::get_applied_migrations(&self.conn).await?;
        let applied: Vec<String> = applied.iter().map(|m| m.name().to_owned()).collect();
        Ok(Migrator::migrations()
            .iter()
            .map(|m| {
                let name = m.name().to_owned();
                let done = applied.contains(&name);
                (name, done)
            })
            .collect())
    }

    /// One round trip, for readiness checks.
    ///
    /// # Errors
    /// When the database does not answer.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.execute_unprepared("SELECT 1").await.map(|_| ())
    }

    /// This deployment's id: made on first call, stored in the database, so every
    /// instance sharing the database reads the same one. It namespaces what instances
    /// share through Redis.
    ///
    /// # Errors
    /// When the database cannot be reached or is not migrated.
    pub async fn deployment_id(&self) -> Result<String, DbErr> {
        let insert = crate::sql::stmt(
            self.conn.get_database_backend(),
            "INSERT INTO ayubi_meta (key, value) VALUES ('deployment_id', ?) \
             ON CONFLICT (key) DO NOTHING",
            vec![uuid::Uuid::new_v4().simple().to_string().into()],
        );
        self.conn.execute_raw(insert).await?;
        let row = self
            .conn
            .query_one_raw(Statement::from_string(
                self.conn.get_database_backend(),
                "SELECT value FROM ayubi_meta WHERE key = 'deployment_id'",
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("deployment_id".into()))?;
        row.try_get("", "value")
    }

    /// The pool's connections now, and the writers queued for their turn.
    #[must_use]
    pub fn pool_stats(&self) -> PoolStats {
        let (size, idle, max) = match self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                let pool = self.conn.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            // A backend this build lacks never connects (see `connect`).
            #[allow(unreachable_patterns)]
            _ => (0, 0, 0),
        };
        let writers = self.writer.stats();
        PoolStats {
            size,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max,
            writers_waiting: writers.waiting,
            write_batches: writers.batches,
            batched_writes: writers.writes,
        }
    }

    /// Which database this is.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool.
    ///
    /// # Errors
    /// When closing fails.
    pub async fn close(self) -> Result<(), DbErr> {
        self.conn.close().await
    }

    /// SQLite: the value of `PRAGMA name` on a pooled connection (diagnostics: what the
    /// tuning really is). `None` on PostgreSQL or for a name that is not a plain word.
    ///
    /// # Errors
    /// When the database cannot be reached.
    pub async fn sqlite_pragma(&self, name: &str) -> Result<Option<String>, DbErr> {
        if self.backend != Backend::Sqlite
            || !name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            return Ok(None);
        }
        let row = self
            .conn
            .query_one_raw(Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                format!("PRAGMA {name}"),
            ))
            .await?;
        Ok(match row {
            None => None,
            Some(r) => Some(
                r.try_get_by_index::<String>(0)
                    .or_else(|_| r.try_get_by_index::<i64>(0).map(|n| n.to_string()))?,
            ),
        })
    }

    /// Runs `work` in a write transaction and commits it; `work`'s error rolls it back.
    /// For a write of no user's change log (a session, an invite); a write that records
    /// a change goes through [`Database::transact_as`].
    ///
    /// On SQLite it goes through the group-commit writer all the same (see
    /// [`Database::transact_as`]); on PostgreSQL it is a transaction of its own.
    ///
    /// # Errors
    /// `work`'s own error, or the database's when the transaction cannot begin or commit.
    pub(crate) async fn transact<T, E: From<StoreError>>(
        &self,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transact_closing(None, async |txn| work(txn).await.map(|v| (v, None)))
            .await
            .map(|(v, _)| v)
    }

    /// Runs `work`, a write of `user`'s that takes their `seq` (`changelog.rs`), in a
    /// write transaction and commits it; `work`'s error rolls back its part alone.
    ///
    /// It goes through group commit (`group.rs`): concurrent writes share a database
    /// transaction, each in a savepoint of its own, and are answered after the shared
    /// COMMIT — on SQLite all of the process's writes (SQLite has one writer at a time
    /// anyway; writers colliding on its lock would wait in its busy handler, which
    /// sleeps 1, 2, 5… up to 100 ms, and a COMMIT per write was most of a small write's
    /// cost; another process on the same file still meets the busy handler), on
    /// PostgreSQL one user's (their row lock serialises them anyway; other users' writes
    /// do not wait).
    ///
    /// # Errors
    /// `work`'s own error, or the database's when the transaction cannot begin or commit
    /// (a failed COMMIT is the error of every write in the batch).
    pub(crate) async fn transact_as<T, E: From<StoreError>>(
        &self,
        user: UserId,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transact_closing(Some(user), async |txn| work(txn).await.map(|v| (v, None)))
            .await
            .map(|(v, _)| v)
    }

    /// [`Database::transact_as`] (or, with no user, [`Database::transact`]) for a write
    /// whose last statements (`Closing`: its change-log entry, its saved response) go to
    /// the database in one round trip with the end of its savepoint on SQLite, or last
    /// before it on PostgreSQL. Returns what they returned.
    ///
    /// # Errors
    /// As [`Database::transact_as`]; a failure of the closing statements is told by
    /// [`Closing::error`].
    pub(crate) async fn transact_closing<T, E: From<StoreError>>(
        &self,
        user: Option<UserId>,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<(T, Option<Closing>), E>,
    ) -> Result<(T, Vec<QueryResult>), E> {
        if let Some(lane) = self.writer.lane(user) {
            return lane.run(&self.write_conn, work).await;
        }
        let txn = self.conn.begin().await.map_err(|e| E::from(store_err(e)))?;
        let (value, closing) = work(&txn).await?;
        let rows = match closing {
            Some(c) => txn
                .query_all_raw(c.statement)
                .await
                .map_err(|e| E::from((c.error)(e)))?,
            None => Vec::new(),
        };
        txn.commit().await.map_err(|e| E::from(store_err(e)))?;
        Ok((value, rows))
    }

    pub(crate) fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// SQLite: runs `read` on a reading connection on this task's thread (see
    /// `sqlite_writer::Readers`) — for a short, hot read only; `None` on PostgreSQL.
    #[cfg(feature = "sqlite")]
    pub(crate) fn sqlite_read<T>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Option<Result<T, DbErr>> {
        self.readers.as_ref().map(|r| r.read(read))
    }
}

/// SQLite: how many reading connections (`sqlite_writer::Readers`): one per core, as
/// the HTTP server starts a worker thread per core and each runs one read at a time
/// (the runtime `connect` runs on may be a single thread of its own), at most 8.
#[cfg(feature = "sqlite")]
fn readers() -> usize {
    std::thread::available_parallelism()
        .map_or(2, std::num::NonZeroUsize::get)
        .clamp(1, 8)
}

fn ensure_sqlite_dir(url: &str) -> Result<(), DbErr> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || path.starts_with(":memory:") {
        return Ok(());
    }
    if let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
    }
    Ok(())
}

/// SQLite's connection settings: WAL, the synchronous level, caches and limits.
#[cfg(feature = "sqlite")]
fn sqlite_options(opts: &mut ConnectOptions, cfg: &DbConfig) {
    let busy = cfg.sqlite_busy_timeout;
    // WAL: readers never block the writer nor each other. NORMAL: a commit is in the
    // WAL (the OS has it) when it returns, so killing the process loses nothing
    // acknowledged; only a power loss can take the last commits, and FULL (an fsync per
    // commit) closes that at the cost of write throughput.
    let synchronous = if cfg.sqlite_synchronous_full {
        SqliteSynchronous::Full
    } else {
        SqliteSynchronous::Normal
    };
    let cache_kib = cfg.sqlite_cache_size_kib;
    let max_pages = cfg.sqlite_max_page_count;
    let heap_limit = cfg.sqlite_heap_limit_kib.saturating_mul(1024);
    let statements = cfg.statement_cache_capacity.max(1);
    opts.map_sqlx_sqlite_opts(move |o| {
        let o = if max_pages > 0 {
            o.pragma("max_page_count", max_pages.to_string())
        } else {
            o
        };
        // Each connection's page cache fills up to `cache_size` as the file grows, so
        // with 8 connections memory kept growing for as long as the data did (the soak
        // in docs/reliability.md). The soft heap limit is one budget for the whole
        // process: past it, the caches (one shared LRU, as libsqlite3-sys builds with
        // SQLITE_ENABLE_MEMORY_MANAGEMENT) reuse their oldest pages instead of
        // allocating. Process-wide, so every connection sets the same value.
        let o = if heap_limit > 0 {
            o.pragma("soft_heap_limit", heap_limit.to_string())
        } else {
            o
        };
        // The connection's thread hands rows over a bounded channel; at sqlx's default of
        // 50 it stopped mid-list for the reader to drain it (two more thread hand-offs per
        // 50 rows). A page of every list fits in 512.
        let o = o.row_buffer_size(512);
        o.journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(busy)
            .create_if_missing(true)
            .statement_cache_capacity(statements)
            .pragma("cache_size", format!("-{cache_kib}"))
            // Sorts and temporary indexes (the ranked search's ORDER BY) in memory.
            .pragma("temp_store", "memory")
    });
}

/// The group-commit writer (`group.rs`) through [`Database::transact_as`]: on SQLite
/// always, on PostgreSQL when `TEST_DATABASE_URL` is set (a database of its own per test).
#[cfg(all(test, feature = "sqlite", feature = "postgres"))]
mod group_commit {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::{Backend, Database, DbConfig};
    use ayubi_kernel::{StoreError, UserId};
    use sea_orm::{ConnectionTrait, DatabaseTransaction};
    use std::time::Duration;

    const ALICE: UserId = UserId::new(1);
    const BOB: UserId = UserId::new(2);

    /// A fresh database with a few tables, and a users table for PostgreSQL's lanes.
    struct Fixture {
        db: Database,
        url: String,
        drop_pg: Option<(String, String)>,
        _dir: Option<tempfile::TempDir>,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            if let Some((admin, name)) = self.drop_pg.take() {
                // A runtime of its own: the test's is going away.
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        let conn = sea_orm::Database::connect(&admin).await.unwrap();
                        conn.execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await
                        .ok();
                    });
                })
                .join()
                .ok();
            }
        }
    }

    async fn database() -> Fixture {
        database_with(|_| {}).await
    }

    async fn database_with(tune: impl FnOnce(&mut DbConfig)) -> Fixture {
        let (url, drop_pg, dir) = match std::env::var("TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("ayubi_group_{}", uuid::Uuid::new_v4().simple());
                let conn = sea_orm::Database::connect(&admin).await.unwrap();
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                conn.close().await.ok();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                (format!("{base}/{name}"), Some((admin, name)), None)
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("g.db").display());
                (url, None, Some(dir))
            }
        };
        let mut cfg = DbConfig::new(url.clone());
        tune(&mut cfg);
        let db = Database::connect(&cfg).await.unwrap();
        let serial = if db.backend() == Backend::Postgres {
            "BIGSERIAL PRIMARY KEY"
        } else {
            "INTEGER PRIMARY KEY"
        };
        db.conn()
            .execute_unprepared(&format!(
                "CREATE TABLE users (id BIGINT PRIMARY KEY, last_seq BIGINT NOT NULL DEFAULT 0); \
                 INSERT INTO users (id) VALUES (1), (2); \
                 CREATE TABLE t (id {serial}, v TEXT NOT NULL UNIQUE); \
                 CREATE TABLE parent (id BIGINT PRIMARY KEY); \
                 CREATE TABLE child (id {serial}, parent_id BIGINT NOT NULL \
                   REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);"
            ))
            .await
            .unwrap();
        Fixture {
            db,
            url,
            drop_pg,
            _dir: dir,
        }
    }

    async fn insert(txn: &DatabaseTransaction, sql: &str) -> Result<(), StoreError> {
        txn.execute_unprepared(sql)
            .await
            .map(|_| ())
            .map_err(crate::error::store_err)
    }

    /// Inside a write: waits until `n` other writers queue behind it, so they join its
    /// batch (the committer queues only after this write ends).
    async fn until_queued(db: &Database, n: u64) {
        tokio::time::timeout(Duration::from_secs(5), async {
            while db.pool_stats().writers_waiting < n {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the other writers queue");
    }

    async fn values(db: &Database, table: &str) -> Vec<String> {
        let rows = db
            .conn()
            .query_all_raw(sea_orm::Statement::from_string(
                db.conn().get_database_backend(),
                format!(
                    "SELECT CAST({} AS TEXT) AS v FROM {table} ORDER BY id",
                    if table == "t" { "v" } else { "id" }
                ),
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| r.try_get::<String>("", "v").unwrap())
            .collect()
    }

    type Writing = tokio::task::JoinHandle<Result<(), StoreError>>;

    /// A write of `user`'s of `sql` that, once it holds the batch, waits until `behind`
    /// other writers queue, so they join its batch (the committer queues only after this
    /// write ends) — and, when `release` is given, until it is told to end. Returns when
    /// it holds the batch.
    async fn hold_until(
        db: &Database,
        user: UserId,
        sql: &'static str,
        behind: u64,
        release: Option<tokio::sync::oneshot::Receiver<()>>,
    ) -> Writing {
        let (held, holding) = tokio::sync::oneshot::channel();
        let db = db.clone();
        let writing = tokio::spawn(async move {
            db.transact_as(user, async |txn| {
                insert(txn, sql).await?;
                held.send(()).ok();
                until_queued(&db, behind).await;
                if let Some(r) = release {
                    r.await.ok();
                }
                Ok::<_, StoreError>(())
            })
            .await
        });
        holding.await.unwrap();
        writing
    }

    async fn hold(db: &Database, sql: &'static str, behind: u64) -> Writing {
        hold_until(db, ALICE, sql, behind, None).await
    }

    /// A write of `user`'s of `sql`, queued now.
    fn write_as(db: &Database, user: UserId, sql: &'static str) -> Writing {
        let db = db.clone();
        tokio::spawn(async move {
            db.transact_as(user, async |txn| insert(txn, sql).await)
                .await
        })
    }

    fn write(db: &Database, sql: &'static str) -> Writing {
        write_as(db, ALICE, sql)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_rolls_back_alone_and_the_others_commit_together() {
        let f = database().await;
        let db = &f.db;
        let first = hold(db, "INSERT INTO t (v) VALUES ('a')", 2).await;
        // The same value as the first write's, still uncommitted in the same batch.
        let clash = write(db, "INSERT INTO t (v) VALUES ('a')");
        let third = write(db, "INSERT INTO t (v) VALUES ('c')");
        first.await.unwrap().unwrap();
        assert!(
            matches!(clash.await.unwrap(), Err(StoreError::Conflict(_))),
            "the clashing write gets its own error"
        );
        third.await.unwrap().unwrap();
        assert_eq!(values(db, "t").await, ["a", "c"]);
        let stats = db.pool_stats();
        assert_eq!(
            (stats.write_batches, stats.batched_writes),
            (1, 3),
            "three writes, one COMMIT"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_commit_is_every_members_error_and_keeps_nothing() {
        let f = database().await;
        let db = &f.db;
        let first = hold(db, "INSERT INTO parent (id) VALUES (1)", 1).await;
        // A deferred foreign key: the statement passes, the COMMIT refuses.
        let dangling = write(db, "INSERT INTO child (parent_id) VALUES (99)");
        assert!(first.await.unwrap().is_err(), "the COMMIT failed for both");
        assert!(dangling.await.unwrap().is_err());
        assert!(
            values(db, "parent").await.is_empty(),
            "nothing of the batch kept"
        );
        assert!(values(db, "child").await.is_empty());
        // The writer goes on: the next batch commits.
        db.transact_as(ALICE, async |txn| {
            insert(txn, "INSERT INTO parent (id) VALUES (2)").await
        })
        .await
        .unwrap();
        assert_eq!(values(db, "parent").await, ["2"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_cancelled_mid_write_leaves_nothing_and_holds_nobody_up() {
        let f = database().await;
        let db = &f.db;
        let first = hold(db, "INSERT INTO t (v) VALUES ('a')", 1).await;
        let (wrote, written) = tokio::sync::oneshot::channel();
        let cancelled = {
            let db = db.clone();
            tokio::spawn(async move {
                db.transact_as(ALICE, async |txn| {
                    insert(txn, "INSERT INTO t (v) VALUES ('b')").await?;
                    wrote.send(()).ok();
                    // The request is cancelled here, its savepoint open.
                    std::future::pending::<Result<(), StoreError>>().await
                })
                .await
            })
        };
        written.await.unwrap();
        cancelled.abort();
        first.await.unwrap().unwrap();
        db.transact_as(ALICE, async |txn| {
            insert(txn, "INSERT INTO t (v) VALUES ('c')").await
        })
        .await
        .unwrap();
        assert_eq!(
            values(db, "t").await,
            ["a", "c"],
            "the cancelled write is gone"
        );
        assert_eq!(db.pool_stats().writers_waiting, 0);
    }

    /// A batch that cannot begin (no connection within the acquire timeout: PostgreSQL
    /// down, say; SQLite's write lock held by another connection past the busy timeout)
    /// is the answer of every writer queued behind it, at once: they do not each wait
    /// out a timeout of their own in turn.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_queued_behind_a_batch_that_cannot_begin_get_its_error_at_once() {
        let f = database_with(|c| {
            c.max_connections = 1;
            c.min_connections = 0;
            c.acquire_timeout = Duration::from_secs(1);
            c.sqlite_busy_timeout = Duration::from_secs(1);
        })
        .await;
        let db = &f.db;
        // PostgreSQL: the pool's only connection, held elsewhere. SQLite: the write lock,
        // held by a pooled connection (the writer has a connection of its own).
        let held = sea_orm::TransactionTrait::begin_with_options(
            db.conn(),
            sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..sea_orm::TransactionOptions::default()
            },
        )
        .await
        .unwrap();
        let started = std::time::Instant::now();
        let writers: Vec<Writing> = (0..4)
            .map(|_| write(db, "INSERT INTO t (v) VALUES ('a')"))
            .collect();
        for w in writers {
            let e = w.await.unwrap();
            assert!(matches!(e, Err(StoreError::Unavailable(_))), "{e:?}");
        }
        // One acquire timeout for all four; in turn it would be four (≥ 4 s).
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        drop(held);
        // The next writer tries again, and the lane serves it.
        db.transact_as(ALICE, async |txn| {
            insert(txn, "INSERT INTO t (v) VALUES ('b')").await
        })
        .await
        .unwrap();
        assert_eq!(values(db, "t").await, ["b"]);
    }

    /// PostgreSQL: a user's batch holds that user's row lock only; another user's write
    /// commits while it is open.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_one_users_batch_does_not_hold_up_anothers() {
        let f = database().await;
        let db = &f.db;
        if db.backend() != Backend::Postgres {
            return;
        }
        let (release, released) = tokio::sync::oneshot::channel();
        let alice = hold_until(
            db,
            ALICE,
            "INSERT INTO t (v) VALUES ('a')",
            0,
            Some(released),
        )
        .await;
        let bob = write_as(db, BOB, "INSERT INTO t (v) VALUES ('b')");
        tokio::time::timeout(Duration::from_secs(5), bob)
            .await
            .expect("Bob's write does not wait for Alice's batch")
            .unwrap()
            .unwrap();
        assert_eq!(values(db, "t").await, ["b"], "Alice's batch is still open");
        release.send(()).unwrap();
        alice.await.unwrap().unwrap();
        assert_eq!(values(db, "t").await, ["a", "b"]);
        assert_eq!(db.pool_stats().write_batches, 2);
    }

    /// PostgreSQL: a batch carries at most `PG_MAX_MEMBERS` writes; the rest wait for
    /// its COMMIT and go in the next.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_a_batch_carries_at_most_its_limit_of_writes() {
        let f = database().await;
        let db = &f.db;
        if db.backend() != Backend::Postgres {
            return;
        }
        let n = crate::group::PG_MAX_MEMBERS + 8;
        let sql: Vec<&'static str> = (1..n)
            .map(|i| &*format!("INSERT INTO t (v) VALUES ('v{i:03}')").leak())
            .collect();
        let first = hold(db, "INSERT INTO t (v) VALUES ('v000')", n - 1).await;
        let rest: Vec<Writing> = sql.iter().map(|s| write(db, s)).collect();
        first.await.unwrap().unwrap();
        for w in rest {
            w.await.unwrap().unwrap();
        }
        assert_eq!(values(db, "t").await.len(), usize::try_from(n).unwrap());
        let stats = db.pool_stats();
        assert_eq!(stats.batched_writes, n);
        assert!(
            stats.write_batches >= 2,
            "{n} writes in {} batches",
            stats.write_batches
        );
    }

    /// PostgreSQL, two instances batching the same user's writes: the second instance's
    /// batch waits on the user's row lock before it touches a row, so a clash with the
    /// first's open batch is a conflict once that commits — not a deadlock.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_two_instances_batching_one_user_queue_on_the_users_lock() {
        let f = database().await;
        let db = &f.db;
        if db.backend() != Backend::Postgres {
            return;
        }
        let other = Database::connect(&DbConfig::new(f.url.clone()))
            .await
            .unwrap();
        let (release, released) = tokio::sync::oneshot::channel();
        let first = hold_until(
            db,
            ALICE,
            "INSERT INTO t (v) VALUES ('a')",
            0,
            Some(released),
        )
        .await;
        let elsewhere = {
            let other = other.clone();
            tokio::spawn(async move {
                other
                    .transact_as(ALICE, async |txn| {
                        insert(txn, "INSERT INTO t (v) VALUES ('b')").await?;
                        insert(txn, "INSERT INTO t (v) VALUES ('a')").await
                    })
                    .await
            })
        };
        // The other instance's batch is waiting on Alice's lock, not running.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!elsewhere.is_finished());
        // Meanwhile this instance's batch goes on writing rows the other one wants.
        let second = write(db, "INSERT INTO t (v) VALUES ('b')");
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        second.await.unwrap().unwrap();
        let there = elsewhere.await.unwrap();
        assert!(
            matches!(there, Err(StoreError::Conflict(_))),
            "a conflict, not a deadlock: {there:?}"
        );
        assert_eq!(values(db, "t").await, ["a", "b"]);
    }
}
