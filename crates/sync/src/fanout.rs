//! Announcing committed changes and revocations: to this instance's connections through
//! the [`Hub`], to other instances through the [`Bus`] when there is one (Redis pub/sub in
//! the app), as [`Hint`]s.

use crate::hint::Hint;
use crate::hub::{Hub, Signal};
use crate::log::{Change, ChangeNotifier};
use crate::message::change_text;
use ayubi_kernel::UserId;
use std::sync::Arc;

/// Above this, a change is announced on the bus without its body and remote connections
/// read it from the log (keeps bus messages small).
const INLINE_LIMIT: usize = 64 * 1024;

/// Carries hints to the other instances of a deployment.
pub trait Bus: Send + Sync + std::fmt::Debug {
    /// Queues `message` for every other instance; `false` when the queue is full (the
    /// message is dropped: their connections catch up from the log). Must not block.
    fn publish(&self, message: Vec<u8>) -> bool;
}

/// Told of every revocation, local or from another instance, before connections are:
/// a memory of active sessions forgets the user's here.
pub trait RevocationListener: Send + Sync + std::fmt::Debug {
    /// Some of `user`'s credentials were revoked. Must not block.
    fn revoked(&self, user: UserId);
}

/// Told of every change committed on another instance, as its hint arrives: a cache of
/// this instance's in front of shared state drops the user's copies.
pub trait RemoteChangeListener: Send + Sync + std::fmt::Debug {
    /// A change of `user`'s was committed on another instance. Must not block.
    fn changed_elsewhere(&self, user: UserId);
}

/// The fan-out of one instance.
#[derive(Debug)]
pub struct Fanout {
    hub: Arc<Hub>,
    /// Tells this instance's own messages apart when they come back from the bus.
    instance: String,
    bus: Option<Arc<dyn Bus>>,
    listeners: Vec<Arc<dyn RevocationListener>>,
    change_listeners: Vec<Arc<dyn RemoteChangeListener>>,
}

impl Fanout {
    /// A fan-out over `hub`, publishing on `bus` when given.
    #[must_use]
    pub fn new(hub: Arc<Hub>, bus: Option<Arc<dyn Bus>>) -> Self {
        Self {
            hub,
            instance: uuid::Uuid::new_v4().simple().to_string(),
            bus,
            listeners: Vec::new(),
            change_listeners: Vec::new(),
        }
    }

    /// The same fan-out, also telling `listener` of every change committed elsewhere.
    #[must_use]
    pub fn with_change_listener(mut self, listener: Arc<dyn RemoteChangeListener>) -> Self {
        self.change_listeners.push(listener);
        self
    }

    /// The same fan-out, also telling `listener` of every revocation, local or remote.
    #[must_use]
    pub fn with_listener(mut self, listener: Arc<dyn RevocationListener>) -> Self {
        self.listeners.push(listener);
        self
    }

    fn forget(&self, user: UserId) {
        for l in &self.listeners {
            l.revoked(user);
        }
    }

    fn publish(&self, message: Vec<u8>) {
        if let Some(bus) = &self.bus
            && !bus.publish(message)
        {
            tracing::warn!("sync hint queue full: remote sockets catch up on their next change");
        }
    }

    /// Handles a message from the bus (this instance's own are skipped: already
    /// delivered locally).
    pub fn received(&self, payload: &[u8]) {
        match Hint::decode(payload) {
            Some((instance, _)) if instance == self.instance => {}
            Some((_, Hint::Change { user, seq, text })) => {
                // Before the sockets: a device told of the change and refetching must not
                // be answered from this instance's copies.
                for l in &self.change_listeners {
                    l.changed_elsewhere(user);
                }
                self.hub.deliver(user, Signal::Change { seq, text });
            }
            Some((_, Hint::Revoked { user })) => {
                // Forgotten before the connections recheck, so they ask the database.
                self.forget(user);
                self.hub.deliver(user, Signal::Revoked);
            }
            None => tracing::warn!("ignoring a malformed sync hint"),
        }
    }

    /// Some of `user`'s credentials were revoked on this instance: listeners forget,
    /// other instances are told, the user's connections re-check theirs.
    pub fn revoked(&self, user: UserId) {
        self.forget(user);
        self.publish(Hint::Revoked { user }.encode(&self.instance));
        self.hub.deliver(user, Signal::Revoked);
    }
}

impl ChangeNotifier for Fanout {
    fn committed(&self, user: UserId, change: &Change) {
        self.hub.observer().published();
        let text = match change_text(change) {
            Ok(t) => t,
            Err(e) => {
                // Cannot happen for JSON values; the log still has the change.
                tracing::error!(error = %e, "serialising a change");
                self.hub.deliver(user, Signal::CatchUp);
                return;
            }
        };
        if self.bus.is_some() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    struct Recorded(Mutex<Vec<Vec<u8>>>);

    impl Bus for Recorded {
        fn publish(&self, message: Vec<u8>) -> bool {
            self.0.lock().unwrap().push(message);
            true
        }
    }

    #[derive(Debug, Default)]
    struct Forgot(Mutex<Vec<UserId>>);

    impl RevocationListener for Forgot {
        fn revoked(&self, user: UserId) {
            self.0.lock().unwrap().push(user);
        }
    }

    fn change(seq: i64, data: serde_json::Value) -> Change {
        Change {
            seq,
            event: "water:added".into(),
            entity: "sport_water".into(),
            id: serde_json::json!(seq),
            data,
            at: chrono::DateTime::from_timestamp(0, 0).unwrap(),
        }
    }

    #[test]
    fn a_change_reaches_local_sockets_and_another_instance_but_not_back_here() {
        let user = UserId::new(3);
        let bus = Arc::new(Recorded::default());
        let here = Arc::new(Hub::new(8, 4, Arc::new(crate::NoMetrics)));
        let there = Arc::new(Hub::new(8, 4, Arc::new(crate::NoMetrics)));
        let fanout_here = Fanout::new(here.clone(), Some(bus.clone() as Arc<dyn Bus>));
        let fanout_there = Fanout::new(there.clone(), None);
        let mut local = here.subscribe(user).unwrap();
        let mut remote = there.subscribe(user).unwrap();

        fanout_here.committed(user, &change(1, serde_json::json!({"ml": 250})));
        let Ok(Signal::Change {
            seq: 1,
            text: Some(text),
        }) = local.rx.try_recv()
        else {
            panic!("local socket not told")
        };
        let sent: Vec<Vec<u8>> = bus.0.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        // Our own hint coming back is skipped; another instance delivers it with the body.
        fanout_here.received(&sent[0]);
        assert!(local.rx.try_recv().is_err());
        fanout_there.received(&sent[0]);
        let Ok(Signal::Change {
            seq: 1,
            text: Some(remote_text),
        }) = remote.rx.try_recv()
        else {
            panic!("remote socket not told")
        };
        assert_eq!(remote_text, text);
    }

    #[test]
    fn a_large_change_travels_without_its_body() {
        let user = UserId::new(3);
        let bus = Arc::new(Recorded::default());
        let hub = Arc::new(Hub::new(8, 4, Arc::new(crate::NoMetrics)));
        let fanout = Fanout::new(hub, Some(bus.clone() as Arc<dyn Bus>));
        let big = "x".repeat(INLINE_LIMIT + 1);
        fanout.committed(user, &change(5, serde_json::json!({ "text": big })));
        let sent = bus.0.lock().unwrap()[0].clone();
        let Some((
            _,
            Hint::Change {
                seq: 5, text: None, ..
            },
        )) = Hint::decode(&sent)
        else {
            panic!("expected a body-less hint")
        };
    }

    #[test]
    fn a_revocation_is_forgotten_here_announced_and_delivered() {
        let user = UserId::new(9);
        let bus = Arc::new(Recorded::default());
        let forgot = Arc::new(Forgot::default());
        let hub = Arc::new(Hub::new(8, 4, Arc::new(crate::NoMetrics)));
        let fanout = Fanout::new(hub.clone(), Some(bus.clone() as Arc<dyn Bus>))
            .with_listener(forgot.clone());
        let mut sub = hub.subscribe(user).unwrap();
        fanout.revoked(user);
        assert_eq!(*forgot.0.lock().unwrap(), vec![user]);
        assert!(matches!(sub.rx.try_recv(), Ok(Signal::Revoked)));
        let sent = bus.0.lock().unwrap()[0].clone();
        assert!(matches!(Hint::decode(&sent), Some((_, Hint::Revoked { user: u })) if u == user));
    }
}
