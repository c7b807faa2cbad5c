//! Group commit on SQLite: concurrent write transactions of this process share one
//! database transaction, each inside a savepoint of its own.
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
//! The committer is a task of its own so that a writer whose request is cancelled can
//! never leave a batch open: whoever holds the batch when it goes away only has to say
//! that its savepoint is still open, and the committer rolls it back before committing.

use crate::error::{store_err, store_err_shared};
use ayubi_kernel::StoreError;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, QueryResult,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, watch};

/// How a batch ended: `None` while it is open.
type Outcome = Option<Result<(), Arc<DbErr>>>;

/// The open batch, behind the writers' queue (a FIFO mutex).
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
    /// The committer has been asked to close this batch.
    commit_requested: bool,
}

/// What the writers and the committer share.
struct Shared {
    batch: Arc<Mutex<Batch>>,
    committer: Notify,
    /// Set when the pool is dropped: the committer ends.
    closed: AtomicBool,
    /// Writers queued for the batch right now.
    waiting: AtomicU64,
    /// Batches committed (or failed) since start.
    batches: AtomicU64,
    /// Writes that ran in those batches.
    writes: AtomicU64,
}

/// The group-commit writer of one SQLite pool. Dropping it (with the last clone of the
/// pool) ends its committer.
pub(crate) struct GroupCommit {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("waiting", &self.shared.waiting.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.committer.notify_one();
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
    shared: &'a Shared,
    in_savepoint: bool,
}

impl Turn<'_> {
    /// Asks the committer to close the batch (once per batch).
    fn request_commit(&mut self) {
        if let Some(b) = self.guard.as_deref_mut()
            && !b.commit_requested
        {
            b.commit_requested = true;
            self.shared.committer.notify_one();
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
    /// Starts the committer. Must be called inside a Tokio runtime.
    pub(crate) fn start() -> Self {
        let shared = Arc::new(Shared {
            batch: Arc::default(),
            committer: Notify::new(),
            closed: AtomicBool::new(false),
            waiting: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            writes: AtomicU64::new(0),
        });
        tokio::spawn(committer(shared.clone()));
        Self { shared }
    }

    pub(crate) fn stats(&self) -> WriterStats {
        WriterStats {
            waiting: self.shared.waiting.load(Ordering::Relaxed),
            batches: self.shared.batches.load(Ordering::Relaxed),
            writes: self.shared.writes.load(Ordering::Relaxed),
        }
    }

    /// Runs `work` in a savepoint of the open batch (beginning one if none is open) and
    /// waits for the batch's COMMIT. `work`'s error rolls back its savepoint alone and is
    /// returned (after the COMMIT, so what it raced with is visible by then); a failed
    /// COMMIT is every member's error.
    pub(crate) async fn run<T, E: From<StoreError>>(
        &self,
        conn: &DatabaseConnection,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<(T, Option<Closing>), E>,
    ) -> Result<(T, Vec<QueryResult>), E> {
        let shared = &*self.shared;
        let guard = {
            let _queued = Queued::new(&shared.waiting);
            shared.batch.clone().lock_owned().await
        };
        let mut turn = Turn {
            guard: Some(guard),
            shared,
            in_savepoint: false,
        };
        let Some(batch) = turn.guard.as_deref_mut() else {
            return Err(StoreError::Unavailable("no write batch".into()).into());
        };
        if batch.txn.is_none() {
            let options = TransactionOptions {
                // The write lock at BEGIN: no member ever reads a snapshot that a write
                // of another process could make stale before its first write.
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            };
            let txn = conn.begin_with_options(options).await;
            let txn = txn.map_err(|e| E::from(store_err(e)))?;
            // The first member's savepoint. Each member ends by opening the next one in
            // the same round trip as its own end, so a savepoint costs no round trip.
            txn.execute_unprepared("SAVEPOINT w")
                .await
                .map_err(|e| E::from(store_err(e)))?;
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

/// Runs the member's closing statements and `RELEASE w; SAVEPOINT w` as one round
/// trip. On failure: the write's error, and whether rolling back to the savepoint went
/// through.
async fn end_savepoint(
    txn: &DatabaseTransaction,
    closing: Option<Closing>,
) -> Result<Vec<QueryResult>, (StoreError, Result<(), DbErr>)> {
    let (statement, error) = match closing {
        Some(c) => {
            let mut st = c.statement;
            st.sql.push_str("; RELEASE w; SAVEPOINT w");
            (st, c.error)
        }
        None => (
            Statement::from_string(txn.get_database_backend(), "RELEASE w; SAVEPOINT w"),
            store_err as fn(DbErr) -> StoreError,
        ),
    };
    match txn.query_all_raw(statement).await {
        Ok(rows) => Ok(rows),
        // A statement failed: the ones after it (the RELEASE among them) did not run.
        Err(e) => {
            let undone = txn.execute_unprepared("ROLLBACK TO w").await.map(|_| ());
            Err((error(e), undone))
        }
    }
}

/// Rolls the whole batch back and tells its members.
async fn fail_batch(batch: &mut Batch, e: DbErr) {
    tracing::error!(error = %e, "ending a savepoint failed: rolling back the write batch");
    if let Some(txn) = batch.txn.take()
        && let Err(r) = txn.rollback().await
    {
        tracing::error!(error = %r, "rolling back the write batch");
    }
    if let Some(tx) = batch.outcome.take() {
        tx.send_replace(Some(Err(Arc::new(e))));
    }
    batch.commit_requested = false;
}

/// Closes batches: woken when a member asks, it takes its place in the writers' queue and,
/// when its turn comes, commits the batch (after rolling back a savepoint a cancelled
/// member left open).
async fn committer(shared: Arc<Shared>) {
    loop {
        shared.committer.notified().await;
        if shared.closed.load(Ordering::Acquire) {
            return;
        }
        let mut batch = shared.batch.clone().lock_owned().await;
        batch.commit_requested = false;
        let Some(txn) = batch.txn.take() else {
            continue;
        };
        let result = commit(txn, std::mem::take(&mut batch.abandoned_savepoint)).await;
        shared.batches.fetch_add(1, Ordering::Relaxed);
        shared.writes.fetch_add(batch.members, Ordering::Relaxed);
        if let Err(e) = &result {
            tracing::error!(error = %e, members = batch.members, "a write batch did not commit");
        }
        if let Some(tx) = batch.outcome.take() {
            tx.send_replace(Some(result.map_err(Arc::new)));
        }
    }
}

async fn commit(txn: DatabaseTransaction, abandoned_savepoint: bool) -> Result<(), DbErr> {
    if abandoned_savepoint {
        // A statement the cancelled member sent is ahead of this in the connection's
        // queue, so this undoes all of it.
        if let Err(e) = txn.execute_unprepared("ROLLBACK TO w").await {
            txn.rollback().await.ok();
            return Err(e);
        }
    }
    txn.commit().await
}
