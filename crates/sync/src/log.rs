//! The change log as sync reads it: every write to a user's data is recorded, in the same
//! transaction, as a [`Change`] with a per-user, gap-free `seq`. Clients catch up by
//! reading it after their cursor; sockets deliver the same changes live.

use ayubi_kernel::{StoreError, UserId};
use chrono::{DateTime, Utc};

/// One recorded change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Per-user sequence number, strictly increasing with no gaps.
    pub seq: i64,
    /// Event name, `<entity>:<verb>` (`water:added`).
    pub event: String,
    /// Entity (table).
    pub entity: String,
    /// The resource's id (a number, or a key such as a country code).
    pub id: serde_json::Value,
    /// The resource as the REST API returns it; for a delete, `{"id": …}`.
    pub data: serde_json::Value,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// A page of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePage {
    /// Changes after the cursor, oldest first.
    pub changes: Vec<Change>,
    /// The oldest `seq` still kept for the user (`None` when the log is empty).
    pub oldest_kept: Option<i64>,
    /// The user's latest `seq` (0 before any change).
    pub latest: i64,
}

impl ChangePage {
    /// Whether a client whose cursor is `since` must refetch everything instead of
    /// catching up: the changes right after its cursor were purged (its cursor is older
    /// than the oldest kept change, or the log is empty but the user has written since),
    /// or the cursor is ahead of the log (it came from another server or a restored
    /// database).
    #[must_use]
    pub fn resync_required(&self, since: i64) -> bool {
        let purged = match self.oldest_kept {
            Some(oldest) => since < oldest - 1,
            None => since < self.latest,
        };
        purged || since > self.latest
    }
}

/// Told about every committed change, after the commit: the live fan-out (sockets on this
/// instance, other instances through the bus) listens here. It must not block: the
/// writer's request is waiting.
pub trait ChangeNotifier: Send + Sync + std::fmt::Debug {
    /// `change` is committed in `user`'s log.
    fn committed(&self, user: UserId, change: &Change);
}

/// Reads a user's change log.
#[async_trait::async_trait]
pub trait ChangeLog: Send + Sync + std::fmt::Debug {
    /// Changes with `seq > since`, oldest first, at most `limit`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn since(&self, user: UserId, since: i64, limit: u32) -> Result<ChangePage, StoreError>;

    /// The latest `seq` of each of `users` (missing users are left out): one query for
    /// many users, so an instance can poll for news when its wake-ups are not arriving.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn latest(&self, users: &[UserId]) -> Result<Vec<(UserId, i64)>, StoreError>;

    /// Retention: deletes changes recorded before `before`, except each user's newest
    /// `keep_latest`, so a device that was away a long time can still catch up on a
    /// quiet account. Returns how many went.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn purge(&self, before: DateTime<Utc>, keep_latest: u32) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::ChangePage;

    fn page(oldest_kept: Option<i64>, latest: i64) -> ChangePage {
        ChangePage {
            changes: Vec::new(),
            oldest_kept,
            latest,
        }
    }

    #[test]
    fn a_cursor_right_before_the_oldest_kept_change_can_catch_up() {
        let p = page(Some(41), 50);
        assert!(!p.resync_required(40));
        assert!(!p.resync_required(45));
        assert!(!p.resync_required(50));
    }

    #[test]
    fn a_cursor_whose_next_change_was_purged_must_resync() {
        assert!(page(Some(41), 50).resync_required(39));
        assert!(page(Some(41), 50).resync_required(0));
    }

    #[test]
    fn an_empty_log_needs_resync_only_when_changes_were_purged() {
        assert!(!page(None, 0).resync_required(0));
        assert!(!page(None, 7).resync_required(7));
        assert!(page(None, 7).resync_required(3));
    }

    #[test]
    fn a_cursor_ahead_of_the_log_must_resync() {
        assert!(page(Some(1), 5).resync_required(6));
        assert!(page(None, 0).resync_required(1));
    }
}
