//! Group commit: concurrent write transactions share one database transaction, each
//! inside a savepoint of its own.
//!
//! SQLite has one writer at a time, and a commit is the expensive part of a small write
//! (the WAL append, the lock hand-over). So writers queue for the one open batch; each
//! runs its statements between `SAVEPOINT w` and `RELEASE w`; a write that fails rolls
//! back to its savepoint alone and keeps its own error. A committer task queues for the
//! batch like a writer does, behind everyone who was waiting when the first member
//! finished, and commits what is there: a burst of N writes costs one `BEGIN IMMEDIATE` and
//! one `COMMIT`. Every member waits for that COMMIT before it answers, so nothing is
//! acknowledged that is not durable (as durable as `synchronous` makes it), and when the
//! COMMIT fails (a full disk) every member gets that error and none of the batch is kept.
//!
//! On SQLite the batches run on a rusqlite connection of the writer's own
//! (`sqlite_writer.rs`): a member's statements run on its own task's thread, one after
//! another, with no hand-off per statement; only `BEGIN` and `COMMIT` go to the blocking
//! pool.
//!
//! On PostgreSQL a user's writes are serialised anyway, by the row lock their `seq` takes
//! (`changelog.rs`), so each user has a lane of their own: one user's concurrent writes
//! share a batch, other users' writes never wait for it. A batch takes the user's row
//! lock in its first statement, before any member touches a row, so instances batching
//! the same user's writes queue on that lock and cannot deadlock on each other's rows;
//! and a batch never holds two users' locks. It carries at most
//! [`PG_MAX_MEMBERS`] writes: PostgreSQL keeps the ids of a transaction's released
//! subtransactions in a per-backend cache of 64, and past it every snapshot of every
//! session has to look them up on disk.
//!
//! The committer is a task of its own so that a writer whose request is cancelled can
//! never leave a batch open: whoever holds the batch when it goes away only has to say
//! that its savepoint is still open, and the committer rolls it back before committing.

use crate::error::{store_err, store_err_shared};
use ayubi_kernel::{StoreError, UserId};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, QueryResult,
    Statement, TransactionTrait,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

/// PostgreSQL: the most writes one batch carries (see the module's doc).
pub(crate) const PG_MAX_MEMBERS: u64 = 32;

/// How a batch ended: `None` while it is open.
type Outcome = Option<Result<(), Arc<DbErr>>>;

/// The open batch of a lane, behind the lane's writers' queue (a FIFO mutex).
#[derive(Default)]
struct Batch {
    /// The shared transaction, begun by the first member.
    txn: Option<DatabaseTransaction>,
    /// Tells the members how the batch ended.
    outcome: Option<watch::Sender<Outcome>>,
    /// A member went away between `SAVEPOINT` and its end: the committer rolls that
    /// savepoint back before committing.
    abandoned_savepoint: bool,
    /// Members that ran in the batch so far.
    members: u64,
    /// A committer has been started for this batch.
    commit_requested: bool,
    /// The last batch that could not begin (no connection within the acquire timeout, the
    /// database down, SQLite's lock held elsewhere): when, and why.
    begin_failed: Option<(Instant, Arc<DbErr>)>,
}

/// What every lane of a writer counts.
#[derive(Default)]
struct Counters {
    /// Writers queued for a batch right now.
    waiting: AtomicU64,
    /// Batches committed (or failed) since start.
    batches: AtomicU64,
    /// Writes that ran in those batches.
    writes: AtomicU64,
}

/// Writers that share batches: all of a SQLite pool's, or one user's on PostgreSQL.
pub(crate) struct Lane {
    batch: Arc<Mutex<Batch>>,
    counters: Arc<Counters>,
    /// PostgreSQL: the user whose row lock a batch takes first.
    user: Option<i64>,
    max_members: u64,
}

/// The group-commit writer of one pool.
pub(crate) struct GroupCommit {
    /// SQLite: the one lane.
    single: Option<Arc<Lane>>,
    /// PostgreSQL: a lane per user with writes under way; a lane goes when its last
    /// writer and committer are done (the map keeps only a weak reference).
    lanes: std::sync::Mutex<Lanes>,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Lanes {
    by_user: HashMap<i64, Weak<Lane>>,
    /// The map's size at which gone lanes are swept out.
    sweep_at: usize,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("waiting", &self.counters.waiting.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// What the pool reports of its writers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct WriterStats {
    pub waiting: u64,
    pub batches: u64,
    pub writes: u64,
}

/// Counts a writer as waiting from its creation until it is dropped — when the writer
/// has its turn, or gave up waiting (its request was cancelled).
struct Queued<'a>(&'a AtomicU64);

impl<'a> Queued<'a> {
    fn new(count: &'a AtomicU64) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A writer's hold on the batch. Dropped while its savepoint is open (the request was
/// cancelled mid-write), it leaves the rollback to the committer and asks it to close the
/// batch, so the members before it are answered.
struct Turn<'a> {
    guard: Option<OwnedMutexGuard<Batch>>,
    lane: &'a Arc<Lane>,
    in_savepoint: bool,
}

impl Turn<'_> {
    /// Starts the batch's committer (once per batch).
    fn request_commit(&mut self) {
        if let Some(b) = self.guard.as_deref_mut()
            && b.txn.is_some()
            && !b.commit_requested
        {
            b.commit_requested = true;
            tokio::spawn(committer(self.lane.clone()));
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if self.in_savepoint
            && let Some(b) = self.guard.as_deref_mut()
        {
            b.abandoned_savepoint = true;
        }
        self.request_commit();
    }
}

impl GroupCommit {
    /// SQLite: every write of the pool in one lane.
    pub(crate) fn sqlite() -> Self {
        let counters = Arc::new(Counters::default());
        let lane = Lane {
            batch: Arc::default(),
            counters: counters.clone(),
            user: None,
            max_members: u64::MAX,
        };
        Self {
            single: Some(Arc::new(lane)),
            lanes: std::sync::Mutex::default(),
            counters,
        }
    }

    /// PostgreSQL: a lane per user.
    pub(crate) fn per_user() -> Self {
        Self {
            single: None,
            lanes: std::sync::Mutex::default(),
            counters: Arc::default(),
        }
    }

    pub(crate) fn stats(&self) -> WriterStats {
        WriterStats {
            waiting: self.counters.waiting.load(Ordering::Relaxed),
            batches: self.counters.batches.load(Ordering::Relaxed),
            writes: self.counters.writes.load(Ordering::Relaxed),
        }
    }

    /// The lane a write of `user`'s goes through: on SQLite the one lane, whoever writes;
    /// on PostgreSQL the user's, and none for a write of no user's (a transaction of its
    /// own).
    pub(crate) fn lane(&self, user: Option<UserId>) -> Option<Arc<Lane>> {
        if let Some(l) = &self.single {
            return Some(l.clone());
        }
        let user = user?;
        let mut lanes = self
            .lanes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(l) = lanes.by_user.get(&user.get()).and_then(Weak::upgrade) {
            return Some(l);
        }
        let lane = Arc::new(Lane {
            batch: Arc::default(),
            counters: self.counters.clone(),
            user: Some(user.get()),
            max_members: PG_MAX_MEMBERS,
        });
        if lanes.by_user.len() >= lanes.sweep_at {
            lanes.by_user.retain(|_, l| l.strong_count() > 0);
            lanes.sweep_at = lanes.by_user.len() * 2 + 64;
        }
        lanes.by_user.insert(user.get(), Arc::downgrade(&lane));
        Some(lane)
    }
}

impl Lane {
    /// Runs `work` in a savepoint of the lane's open batch (beginning one if none is
    /// open) and waits for the batch's COMMIT. `work`'s error rolls back its savepoint
    /// alone and is returned (after the COMMIT, so what it raced with is
    /// visible by then); a failed COMMIT is every member's error.
    pub(crate) async fn run<T, E: From<StoreError>>(
        self: Arc<Self>,
        conn: &DatabaseConnection,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<(T, Option<Closing>), E>,
    ) -> Result<(T, Vec<QueryResult>), E> {
        let lane = &self;
        let queued_at = Instant::now();
        let mut turn = loop {
            let guard = {
                let _queued = Queued::new(&lane.counters.waiting);
                lane.batch.clone().lock_owned().await
            };
            let turn = Turn {
                guard: Some(guard),
                lane,
                in_savepoint: false,
            };
            let full = match turn.guard.as_deref() {
                Some(b) if b.txn.is_some() && b.members >= lane.max_members => {
                    b.outcome.as_ref().map(watch::Sender::subscribe)
                }
                _ => None,
            };
            let Some(mut full) = full else {
                break turn;
            };
            // The batch is full: wait for its COMMIT, then queue for the next one.
            drop(turn);
            full.wait_for(Option::is_some).await.ok();
        };
        let Some(batch) = turn.guard.as_deref_mut() else {
            return Err(StoreError::Unavailable("no write batch".into()).into());
        };
        if batch.txn.is_none() {
            // A batch failed to begin while this writer waited: that is its answer too.
            // Trying again would make the queue wait out one timeout after another (8
            // writers of one user, PostgreSQL down: the last one answered after 8 acquire
            // timeouts instead of one).
            if let Some((at, e)) = &batch.begin_failed
                && *at >= queued_at
            {
                return Err(store_err_shared(e).into());
            }
            let txn = match begin(conn, lane.user).await {
                Ok(txn) => txn,
                Err(e) => {
                    let e = Arc::new(e);
                    batch.begin_failed = Some((Instant::now(), e.clone()));
                    return Err(store_err_shared(&e).into());
                }
            };
            batch.begin_failed = None;
            batch.txn = Some(txn);
            batch.outcome = Some(watch::channel(None).0);
            batch.members = 0;
            batch.abandoned_savepoint = false;
        }
        let Some(txn) = batch.txn.as_ref() else {
            return Err(StoreError::Unavailable("no write batch".into()).into());
        };
        turn.in_savepoint = true;
        let result = work(txn).await;
        let ended = match result {
            Ok((value, closing)) => match end_savepoint(txn, closing).await {
                Ok(rows) => (Ok((value, rows)), Ok(())),
                Err((mine, ended)) => (Err(E::from(mine)), ended),
            },
            // ROLLBACK TO leaves the savepoint open, fresh for the next member.
            Err(e) => (
                Err(e),
                txn.execute_unprepared("ROLLBACK TO w").await.map(|_| ()),
            ),
        };
        let (result, ended) = ended;
        turn.in_savepoint = false;
        batch.members += 1;
        let Some(mut outcome) = batch.outcome.as_ref().map(watch::Sender::subscribe) else {
            return Err(StoreError::Unavailable("no write batch".into()).into());
        };
        let result = match ended {
            Ok(()) => result,
            // The savepoint could not be ended: what the transaction holds is unknown
            // (SQLite may have rolled all of it back on its own, after SQLITE_FULL say).
            // Roll the whole batch back here, so no member is told it was kept.
            Err(e) => {
                fail_batch(batch, e).await;
                result.and(Err(E::from(StoreError::Unavailable(
                    "the write batch was rolled back".into(),
                ))))
            }
        };
        turn.request_commit();
        drop(turn);
        let outcome = outcome
            .wait_for(Option::is_some)
            .await
            .map(|o| o.clone())
            .map_err(|_| E::from(abandoned()))?;
        let value = result?;
        match outcome {
            Some(Ok(())) => Ok(value),
            Some(Err(e)) => Err(store_err_shared(&e).into()),
            None => Err(abandoned().into()),
        }
    }
}

/// Begins a batch: its transaction, PostgreSQL's user row lock, the first member's
/// savepoint. (Each member ends by opening the next one, in the same round trip as its
/// own end, so a savepoint costs no round trip of its own.)
async fn begin(conn: &DatabaseConnection, user: Option<i64>) -> Result<DatabaseTransaction, DbErr> {
    if conn.get_database_backend() == DatabaseBackend::Sqlite {
        // The writer's rusqlite connection, behind sea-orm's proxy: sea-orm's transaction
        // only marks the bounds and sends nothing (`sqlite_writer.rs`), so the SQL is
        // ours. IMMEDIATE: the write lock at BEGIN, so no member ever reads a snapshot
        // that a write of another process could make stale before its first write.
        let txn = conn.begin().await?;
        txn.execute_unprepared("BEGIN IMMEDIATE; SAVEPOINT w")
            .await?;
        return Ok(txn);
    }
    let txn = conn.begin().await?;
    match user {
        // The lock the `seq`'s UPDATE takes (a plain UPDATE of a column no key holds),
        // so it does not block what a weaker lock allows (a foreign key's check).
        Some(id) => {
            txn.execute_unprepared(&format!(
                "SELECT 1 FROM users WHERE id = {id} FOR NO KEY UPDATE; SAVEPOINT w"
            ))
            .await?
        }
        None => txn.execute_unprepared("SAVEPOINT w").await?,
    };
    Ok(txn)
}

fn abandoned() -> StoreError {
    StoreError::Unavailable("the write batch was abandoned".into())
}

/// A write's last statements, sent in one round trip with the end of its savepoint: its
/// change-log entry (and saved response) cost no round trip of their own.
#[derive(Debug)]
pub(crate) struct Closing {
    /// One or more statements, `;`-separated (SQLite), or one statement (PostgreSQL,
    /// whose extended protocol takes one).
    pub statement: Statement,
    /// The write's own error for a failure of these statements (a unique violation of
    /// the saved response's key is an idempotency race, not a conflict).
    pub error: fn(DbErr) -> StoreError,
}

/// Runs the member's closing statements and `RELEASE w; SAVEPOINT w` — as one round
/// trip on SQLite; on PostgreSQL, whose extended protocol takes one statement with
/// parameters, the savepoint's end is a second one. On failure: the write's error, and
/// whether rolling back to the savepoint went through.
async fn end_savepoint(
    txn: &DatabaseTransaction,
    closing: Option<Closing>,
) -> Result<Vec<QueryResult>, (StoreError, Result<(), DbErr>)> {
    const END: &str = "RELEASE w; SAVEPOINT w";
    let Some(c) = closing else {
        return match txn.execute_unprepared(END).await {
            Ok(_) => Ok(Vec::new()),
            Err(e) => failed(txn, store_err, e).await,
        };
    };
    let mut statement = c.statement;
    let separate = txn.get_database_backend() == DatabaseBackend::Postgres;
    if !separate {
        statement.sql.push_str("; ");
        statement.sql.push_str(END);
    }
    let rows = match txn.query_all_raw(statement).await {
        Ok(rows) => rows,
        // A statement failed: the ones after it (the RELEASE among them) did not run.
        Err(e) => return failed(txn, c.error, e).await,
    };
    if separate && let Err(e) = txn.execute_unprepared(END).await {
        return failed(txn, store_err, e).await;
    }
    Ok(rows)
}

/// A member's last statements failed: its savepoint is rolled back.
async fn failed<T>(
    txn: &DatabaseTransaction,
    error: fn(DbErr) -> StoreError,
    e: DbErr,
) -> Result<T, (StoreError, Result<(), DbErr>)> {
    let undone = txn.execute_unprepared("ROLLBACK TO w").await.map(|_| ());
    Err((error(e), undone))
}

/// Rolls the whole batch back and tells its members.
async fn fail_batch(batch: &mut Batch, e: DbErr) {
    tracing::error!(error = %e, "ending a savepoint failed: rolling back the write batch");
    if let Some(txn) = batch.txn.take()
        && let Err(r) = end(txn, false).await
    {
        tracing::error!(error = %r, "rolling back the write batch");
    }
    if let Some(tx) = batch.outcome.take() {
        tx.send_replace(Some(Err(Arc::new(e))));
    }
    batch.commit_requested = false;
}

/// Closes a batch: started when a member asks, it takes its place in the lane's queue
/// and, when its turn comes, commits the batch (after rolling back a savepoint a
/// cancelled member left open).
async fn committer(lane: Arc<Lane>) {
    let mut batch = lane.batch.clone().lock_owned().await;
    batch.commit_requested = false;
    let Some(txn) = batch.txn.take() else {
        return;
    };
    let result = commit(txn, std::mem::take(&mut batch.abandoned_savepoint)).await;
    lane.counters.batches.fetch_add(1, Ordering::Relaxed);
    lane.counters
        .writes
        .fetch_add(batch.members, Ordering::Relaxed);
    if let Err(e) = &result {
        tracing::error!(error = %e, members = batch.members, "a write batch did not commit");
    }
    if let Some(tx) = batch.outcome.take() {
        tx.send_replace(Some(result.map_err(Arc::new)));
    }
}

async fn commit(txn: DatabaseTransaction, abandoned_savepoint: bool) -> Result<(), DbErr> {
    if abandoned_savepoint {
        // A statement the cancelled member sent is ahead of this in the connection's
        // queue, so this undoes all of it.
        if let Err(e) = txn.execute_unprepared("ROLLBACK TO w").await {
            end(txn, false).await.ok();
            return Err(e);
        }
    }
    end(txn, true).await
}

/// Commits or rolls back the batch's transaction. On SQLite the writer's transaction
/// sends nothing itself (see [`begin`]): the statement is ours, and when a COMMIT fails
/// (a full disk) a ROLLBACK follows, which SQLite may already have done on its own (then
/// it fails, harmlessly), so the connection never stays inside a transaction.
async fn end(txn: DatabaseTransaction, commit: bool) -> Result<(), DbErr> {
    if txn.get_database_backend() == DatabaseBackend::Sqlite {
        let sql = if commit { "COMMIT" } else { "ROLLBACK" };
        if let Err(e) = txn.execute_unprepared(sql).await {
            txn.execute_unprepared("ROLLBACK").await.ok();
            txn.rollback().await.ok();
            return Err(e);
        }
    }
    if commit {
        txn.commit().await
    } else {
        txn.rollback().await
    }
}
