//! The per-instance fan-out: one bounded broadcast channel per user with open sockets.
//!
//! Writers announce committed changes through [`Fanout`] (the kernel's
//! [`ChangeNotifier`]); the hub hands them to this instance's sockets of that user and, with
//! Redis, publishes a hint so other instances do the same for theirs. The channel holds
//! `queue_capacity` signals; a socket that falls further behind (a burst such as an
//! import, or a slow client) re-reads the log, and one that cannot take messages within
//! the send timeout is closed with 4008: nothing is buffered without bound. Whatever a
//! socket misses (a lag, a hint dropped by Redis, a change published while the
//! subscription was down) it re-reads from the change log by its cursor, so the channel
//! is only a fast path.

use super::SyncMetrics;
use crate::routes::sync::ChangeDto;
use ayubi_cache::Publisher;
use ayubi_identity::ports::Revocations;
use ayubi_kernel::{Change, ChangeLog, ChangeNotifier, UserId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, broadcast};

/// The Redis channel the hints of deployment `id` travel on: namespaced, because
/// deployments sharing a Redis must not wake each other's sockets (user ids repeat).
#[must_use]
pub fn channel(deployment: &str) -> String {
    format!("ayubi:sync:{deployment}")
}
/// While wake-ups flow, the poller still checks the log every this many intervals.
const SAFETY_NET: u32 = 15;
/// Above this, a change is announced on Redis without its body and remote sockets read
/// it from the log (keeps Redis messages small).
const INLINE_LIMIT: usize = 64 * 1024;

/// What a socket is told.
#[derive(Debug, Clone)]
pub enum Signal {
    /// A committed change: its `seq` and, when known, the message to send as is.
    Change {
        /// The change's `seq`.
        seq: i64,
        /// The socket message (`{"type":"change",…}`); `None`: read it from the log.
        text: Option<Arc<str>>,
    },
    /// Re-read the log after your cursor (a hint may have been lost).
    CatchUp,
    /// Some of the user's credentials were revoked: check yours.
    Revoked,
    /// The server is shutting down.
    Shutdown,
}

/// One user's queue on this instance.
#[derive(Debug)]
struct Queue {
    tx: broadcast::Sender<Signal>,
    /// The highest `seq` announced to the queue: what the poller compares the log with.
    seen: i64,
}

/// The sockets of this instance, by user.
#[derive(Debug)]
pub struct Hub {
    users: Mutex<HashMap<UserId, Queue>>,
    /// Wakes the poller for a one-off check (the Redis subscription came back).
    recheck: Notify,
    capacity: usize,
    max_per_user: usize,
    /// Set while no live wake-ups arrive from other instances (no Redis, or its
    /// subscription is down): their changes then arrive by polling the log.
    polling: AtomicBool,
    shutting_down: AtomicBool,
    /// Connections, polling state, closes.
    pub metrics: SyncMetrics,
}

impl Hub {
    /// An empty hub.
    #[must_use]
    pub fn new(capacity: usize, max_per_user: usize, metrics: SyncMetrics) -> Self {
        Self {
            users: Mutex::new(HashMap::new()),
            recheck: Notify::new(),
            capacity: capacity.max(1),
            max_per_user,
            polling: AtomicBool::new(false),
            shutting_down: AtomicBool::new(false),
            metrics,
        }
    }

    fn users(&self) -> MutexGuard<'_, HashMap<UserId, Queue>> {
        // A panic while holding the lock cannot leave the map inconsistent (every
        // operation is a single insert/remove/lookup), so a poisoned lock is still good.
        self.users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a socket of `user`. `None` when the user already holds the maximum
    /// number of sockets on this instance, or the server is shutting down.
    #[must_use]
    pub fn subscribe(self: &Arc<Self>, user: UserId) -> Option<Subscription> {
        if self.shutting_down.load(Ordering::Relaxed) {
            return None;
        }
        let mut users = self.users();
        let queue = users.entry(user).or_insert_with(|| Queue {
            tx: broadcast::channel(self.capacity).0,
            seen: 0,
        });
        if queue.tx.receiver_count() >= self.max_per_user {
            return None;
        }
        let rx = queue.tx.subscribe();
        self.metrics.connections.inc();
        Some(Subscription {
            hub: self.clone(),
            user,
            rx,
        })
    }

    /// Tells this instance's sockets of `user`.
    pub fn deliver(&self, user: UserId, signal: Signal) {
        if let Some(queue) = self.users().get_mut(&user) {
            if let Signal::Change { seq, .. } = signal {
                queue.seen = queue.seen.max(seq);
            }
            // An error only means no socket is listening right now.
            let _ = queue.tx.send(signal);
        }
    }

    /// Tells every socket on this instance.
    pub fn deliver_all(&self, signal: &Signal) {
        for queue in self.users().values() {
            let _ = queue.tx.send(signal.clone());
        }
    }

    /// Closes every socket with 1001 and refuses new ones.
    pub fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
        self.deliver_all(&Signal::Shutdown);
    }

    /// Records whether wake-ups from other instances arrive (the Redis subscription is
    /// up). When they start again, the log is checked once more for what was published
    /// while they did not.
    pub fn set_wakeups_live(&self, live: bool) {
        let was_polling = self.polling.swap(!live, Ordering::Relaxed);
        self.metrics.polling.set(i64::from(!live));
        if live && was_polling {
            self.recheck.notify_one();
        }
    }

    /// Whether this instance polls the log for other instances' changes.
    #[must_use]
    pub fn polling(&self) -> bool {
        self.polling.load(Ordering::Relaxed)
    }

    /// Compares the log with what this instance has announced, for every user with an
    /// open socket here, in one query per 500 users (not one per socket); users with news
    /// re-read the log. Returns how many had news.
    pub async fn check(&self, log: &dyn ChangeLog) -> usize {
        let users: Vec<UserId> = self.users().keys().copied().collect();
        if users.is_empty() {
            return 0;
        }
        match log.latest(&users).await {
            Ok(latest) => {
                let mut map = self.users();
                let mut news = 0;
                for (user, seq) in latest {
                    if let Some(queue) = map.get_mut(&user)
                        && seq > queue.seen
                    {
                        queue.seen = seq;
                        let _ = queue.tx.send(Signal::CatchUp);
                        news += 1;
                    }
                }
                news
            }
            Err(e) => {
                tracing::warn!(error = %e, "polling the change log for open sockets");
                0
            }
        }
    }

    /// While [`Hub::polling`], [`Hub::check`]s every `every`: changes written through
    /// other instances arrive late but arrive. Also checks once when wake-ups resume,
    /// for what was published while they did not arrive, and every `SAFETY_NET` ticks
    /// even while they flow: a hint another instance failed to publish (a Redis timeout,
    /// a full publish queue) is then at most that late.
    pub fn spawn_poller(self: &Arc<Self>, log: Arc<dyn ChangeLog>, every: Duration) {
        let hub = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            let mut ticks: u32 = 0;
            loop {
                let forced = {
                    let Some(hub) = hub.upgrade() else { return };
                    tokio::select! {
                        _ = tick.tick() => false,
                        () = hub.recheck.notified() => true,
                    }
                };
                ticks = ticks.wrapping_add(1);
                let Some(hub) = hub.upgrade() else { return };
                if forced || hub.polling() || ticks.is_multiple_of(SAFETY_NET) {
                    hub.check(log.as_ref()).await;
                }
            }
        });
    }
}

/// One socket's registration; unregisters on drop.
#[derive(Debug)]
pub struct Subscription {
    hub: Arc<Hub>,
    user: UserId,
    /// The socket's queue.
    pub rx: broadcast::Receiver<Signal>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.metrics.connections.dec();
        let mut users = self.hub.users();
        // `self.rx` is still alive here: the last socket of the user sees a count of 1.
        if users
            .get(&self.user)
            .is_some_and(|q| q.tx.receiver_count() <= 1)
        {
            users.remove(&self.user);
        }
    }
}

/// Announces committed changes and revocations: to this instance's sockets directly, to
/// other instances through Redis when configured.
#[derive(Debug)]
pub struct Fanout {
    hub: Arc<Hub>,
    /// Tells this instance's own messages apart when they come back from Redis.
    instance: String,
    redis: Option<Publisher>,
    /// Sessions known active on this instance: forgotten on every revocation.
    sessions: Option<Arc<crate::sessions::LocalSessions>>,
}

impl Fanout {
    /// A fan-out over `hub`, publishing through `redis` when given.
    #[must_use]
    pub fn new(hub: Arc<Hub>, redis: Option<Publisher>) -> Self {
        Self {
            hub,
            instance: uuid::Uuid::new_v4().simple().to_string(),
            redis,
            sessions: None,
        }
    }

    /// The same fan-out, also telling `sessions` of every revocation, local or remote.
    #[must_use]
    pub fn with_sessions(mut self, sessions: Arc<crate::sessions::LocalSessions>) -> Self {
        self.sessions = Some(sessions);
        self
    }

    fn forget(&self, user: UserId) {
        if let Some(s) = &self.sessions {
            s.revoked(user);
        }
    }

    fn publish(&self, message: Vec<u8>) {
        if let Some(p) = &self.redis
            && !p.publish(message)
        {
            tracing::warn!("sync hint queue full: remote sockets catch up on their next change");
        }
    }

    /// Handles a message from Redis (ours are skipped: already delivered locally).
    pub fn received(&self, payload: &[u8]) {
        match Hint::decode(payload) {
            Some((instance, _)) if instance == self.instance => {}
            Some((_, Hint::Change { user, seq, text })) => {
                self.hub.deliver(user, Signal::Change { seq, text });
            }
            Some((_, Hint::Revoked { user })) => {
                // Forgotten before the sockets recheck, so they ask the database.
                self.forget(user);
                self.hub.deliver(user, Signal::Revoked);
            }
            None => tracing::warn!("ignoring a malformed sync hint"),
        }
    }
}

impl ChangeNotifier for Fanout {
    fn committed(&self, user: UserId, change: &Change) {
        self.hub.metrics.published.inc();
        let text: Arc<str> = match serde_json::to_string(&ChangeDto::from(change.clone())) {
            Ok(t) => t.into(),
            Err(e) => {
                // Cannot happen for JSON values; the log still has the change.
                tracing::error!(error = %e, "serialising a change");
                self.hub.deliver(user, Signal::CatchUp);
                return;
            }
        };
        if self.redis.is_some() {
            let inline = (text.len() <= INLINE_LIMIT).then(|| text.clone());
            self.publish(
                Hint::Change {
                    user,
                    seq: change.seq,
                    text: inline,
                }
                .encode(&self.instance),
            );
        }
        self.hub.deliver(
            user,
            Signal::Change {
                seq: change.seq,
                text: Some(text),
            },
        );
    }
}

impl Revocations for Fanout {
    fn revoked(&self, user: UserId) {
        self.forget(user);
        self.publish(Hint::Revoked { user }.encode(&self.instance));
        self.hub.deliver(user, Signal::Revoked);
    }
}

/// A message on the Redis channel: `c <instance> <user> <seq>\n<message or nothing>` or
/// `r <instance> <user>`.
#[derive(Debug, PartialEq)]
enum Hint {
    Change {
        user: UserId,
        seq: i64,
        text: Option<Arc<str>>,
    },
    Revoked {
        user: UserId,
    },
}

impl Hint {
    fn encode(&self, instance: &str) -> Vec<u8> {
        match self {
            Self::Change { user, seq, text } => {
                let body = text.as_deref().unwrap_or_default();
                format!("c {instance} {user} {seq}\n{body}").into_bytes()
            }
            Self::Revoked { user } => format!("r {instance} {user}").into_bytes(),
        }
    }

    fn decode(payload: &[u8]) -> Option<(String, Self)> {
        let text = std::str::from_utf8(payload).ok()?;
        let (head, body) = text.split_once('\n').unwrap_or((text, ""));
        let mut parts = head.split(' ');
        let kind = parts.next()?;
        let instance = parts.next()?.to_owned();
        let user = UserId::new(parts.next()?.parse().ok()?);
        let hint = match kind {
            "c" => Self::Change {
                user,
                seq: parts.next()?.parse().ok()?,
                text: (!body.is_empty()).then(|| Arc::from(body)),
            },
            "r" => Self::Revoked { user },
            _ => return None,
        };
        parts.next().is_none().then_some((instance, hint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_round_trip() {
        let hints = [
            Hint::Change {
                user: UserId::new(7),
                seq: 42,
                text: Some(Arc::from("{\"type\":\"change\",\"data\":\"a\\nb\"}")),
            },
            Hint::Change {
                user: UserId::new(7),
                seq: 43,
                text: None,
            },
            Hint::Revoked {
                user: UserId::new(9),
            },
        ];
        for hint in hints {
            let decoded = Hint::decode(&hint.encode("abc"));
            assert_eq!(decoded, Some(("abc".to_owned(), hint)));
        }
        assert_eq!(Hint::decode(b"x abc 1"), None);
        assert_eq!(Hint::decode(b"c abc notanumber 1\n"), None);
        assert_eq!(Hint::decode(&[0xff, 0xfe]), None);
    }

    #[test]
    fn the_hub_caps_sockets_per_user_and_forgets_users_without_sockets() {
        let hub = Arc::new(Hub::new(4, 2, SyncMetrics::new()));
        let a = hub.subscribe(UserId::new(1));
        let b = hub.subscribe(UserId::new(1));
        assert!(a.is_some() && b.is_some());
        assert!(hub.subscribe(UserId::new(1)).is_none());
        assert!(hub.subscribe(UserId::new(2)).is_some());
        assert_eq!(
            hub.metrics.connections.get(),
            2,
            "the refused one is not counted"
        );
        drop(a);
        drop(b);
        assert_eq!(hub.metrics.connections.get(), 0);
        assert!(hub.users().is_empty());
    }

    #[test]
    fn a_lagging_socket_is_told_so() {
        let hub = Arc::new(Hub::new(2, 10, SyncMetrics::new()));
        let Some(mut sub) = hub.subscribe(UserId::new(1)) else {
            panic!("subscribe")
        };
        for seq in 1..=3 {
            hub.deliver(UserId::new(1), Signal::Change { seq, text: None });
        }
        assert!(matches!(
            sub.rx.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(1))
        ));
    }
}
