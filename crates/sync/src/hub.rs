//! The per-instance hub: one bounded broadcast channel per user with open connections.
//!
//! Writers announce committed changes through the [`Fanout`](crate::Fanout) (a
//! [`ChangeNotifier`](crate::ChangeNotifier)); the hub hands them to this instance's
//! connections of that user, and the fan-out sends a hint over the bus so other instances
//! do the same for theirs. The channel holds
//! `queue_capacity` signals; a socket that falls further behind (a burst such as an
//! import, or a slow client) re-reads the log, and one that cannot take messages within
//! the send timeout is closed with 4008: nothing is buffered without bound. Whatever a
//! socket misses (a lag, a hint dropped by Redis, a change published while the
//! subscription was down) it re-reads from the change log by its cursor, so the channel
//! is only a fast path.

use crate::log::ChangeLog;
use crate::observer::SyncObserver;
use ayubi_kernel::UserId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, broadcast};

/// While wake-ups flow, the poller still checks the log every this many intervals.
const SAFETY_NET: u32 = 15;

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
    observer: Arc<dyn SyncObserver>,
}

impl Hub {
    /// An empty hub.
    #[must_use]
    pub fn new(capacity: usize, max_per_user: usize, observer: Arc<dyn SyncObserver>) -> Self {
        Self {
            users: Mutex::new(HashMap::new()),
            recheck: Notify::new(),
            capacity: capacity.max(1),
            max_per_user,
            polling: AtomicBool::new(false),
            shutting_down: AtomicBool::new(false),
            observer,
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
        self.observer.connection_opened();
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
        self.observer.polling(!live);
        if live && was_polling {
            self.recheck.notify_one();
        }
    }

    /// Where the hub's counts go.
    #[must_use]
    pub fn observer(&self) -> &dyn SyncObserver {
        &*self.observer
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
        self.hub.observer.connection_closed();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicI64;

    /// Counts open connections, as the app's gauge does.
    #[derive(Debug, Default)]
    struct Open(AtomicI64);

    impl SyncObserver for Open {
        fn connection_opened(&self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
        fn connection_closed(&self) {
            self.0.fetch_sub(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn the_hub_caps_sockets_per_user_and_forgets_users_without_sockets() {
        let open = Arc::new(Open::default());
        let hub = Arc::new(Hub::new(4, 2, open.clone()));
        let a = hub.subscribe(UserId::new(1));
        let b = hub.subscribe(UserId::new(1));
        assert!(a.is_some() && b.is_some());
        assert!(hub.subscribe(UserId::new(1)).is_none());
        assert!(hub.subscribe(UserId::new(2)).is_some());
        assert_eq!(
            open.0.load(Ordering::Relaxed),
            2,
            "the refused one is not counted"
        );
        drop(a);
        drop(b);
        assert_eq!(open.0.load(Ordering::Relaxed), 0);
        assert!(hub.users().is_empty());
    }

    #[test]
    fn a_lagging_socket_is_told_so() {
        let hub = Arc::new(Hub::new(2, 10, Arc::new(crate::NoMetrics)));
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

    #[test]
    fn a_shut_down_hub_refuses_and_tells_every_socket() {
        let hub = Arc::new(Hub::new(4, 4, Arc::new(crate::NoMetrics)));
        let Some(mut sub) = hub.subscribe(UserId::new(1)) else {
            panic!("subscribe")
        };
        hub.shutdown();
        assert!(matches!(sub.rx.try_recv(), Ok(Signal::Shutdown)));
        assert!(hub.subscribe(UserId::new(2)).is_none());
    }
}
