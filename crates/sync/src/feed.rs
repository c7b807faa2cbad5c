//! One client's stream: the log after its cursor, then live changes, with no gap and no
//! duplicate at the seam. Every transport (the app's WebSocket and SSE endpoints) drives a [`Feed`].
//!
//! The subscription to the hub is taken *before* the first log read, so a change committed
//! while the replay runs is either in what the replay reads or queued behind it; anything
//! at or below the last `seq` sent is skipped. A live change that is not the next `seq`
//! (an earlier one is still in flight, a hint was dropped, Redis carried no body), or a
//! queue overflow, sends the feed back to the log, which is the truth. Memory stays
//! bounded either way: the queue is fixed-size and the log is read in batches.

use crate::hub::{Signal, Subscription};
use crate::log::ChangeLog;
use crate::message::change_text;
use ayubi_kernel::{StoreError, UserId};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// What to send next.
#[derive(Debug)]
pub enum Item {
    /// A change message (`{"type":"change",…}`) and its `seq`.
    Change(i64, Arc<str>),
    /// The cursor is older than the kept log (or ahead of it): the client must refetch.
    /// Changes after `latest` follow.
    Resync {
        /// The user's latest `seq`: the cursor to continue from once refetched.
        latest: i64,
    },
    /// Credentials of the user were revoked: re-check this connection's.
    Revoked,
    /// The server is shutting down.
    Shutdown,
}

/// A client's position in its user's change log.
#[derive(Debug)]
pub struct Feed {
    user: UserId,
    log: Arc<dyn ChangeLog>,
    batch: u32,
    sub: Subscription,
    /// The last `seq` handed out.
    sent: i64,
    pending: VecDeque<(i64, Arc<str>)>,
    /// The log may hold changes after `sent` that are not in `pending`.
    behind: bool,
}

impl Feed {
    /// A feed for `user` from cursor `since`; `sub` must already be registered.
    #[must_use]
    pub fn new(
        user: UserId,
        since: i64,
        log: Arc<dyn ChangeLog>,
        batch: u32,
        sub: Subscription,
    ) -> Self {
        Self {
            user,
            log,
            batch: batch.max(1),
            sub,
            sent: since,
            pending: VecDeque::new(),
            behind: true,
        }
    }

    /// The last `seq` handed out.
    #[must_use]
    pub fn cursor(&self) -> i64 {
        self.sent
    }

    /// The next thing to send. Cancel-safe: state only changes after an await completes.
    ///
    /// # Errors
    /// When the log cannot be read.
    pub async fn next(&mut self) -> Result<Item, StoreError> {
        loop {
            if let Some((seq, text)) = self.pending.pop_front() {
                self.sent = seq;
                return Ok(Item::Change(seq, text));
            }
            if self.behind {
                let page = self.log.since(self.user, self.sent, self.batch).await?;
                if page.resync_required(self.sent) {
                    self.sent = page.latest;
                    self.behind = false;
                    return Ok(Item::Resync {
                        latest: page.latest,
                    });
                }
                self.behind = page.changes.len() >= self.batch as usize;
                for change in page.changes {
                    let seq = change.seq;
                    let text =
                        change_text(&change).map_err(|e| StoreError::Unavailable(Box::new(e)))?;
                    self.pending.push_back((seq, text));
                }
                continue;
            }
            match self.sub.rx.recv().await {
                Ok(Signal::Change { seq, text }) => {
                    if seq <= self.sent {
                        continue;
                    }
                    match text {
                        Some(text) if seq == self.sent + 1 => {
                            self.sent = seq;
                            return Ok(Item::Change(seq, text));
                        }
                        _ => self.behind = true,
                    }
                }
                Ok(Signal::CatchUp) => self.behind = true,
                Ok(Signal::Revoked) => return Ok(Item::Revoked),
                Ok(Signal::Shutdown) | Err(RecvError::Closed) => return Ok(Item::Shutdown),
                // More changes than the queue holds arrived at once (a burst, or this
                // socket is slow): read them from the log instead. A socket that is really
                // slow is caught by the send timeout.
                Err(RecvError::Lagged(_)) => self.behind = true,
            }
        }
    }
}
