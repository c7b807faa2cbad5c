//! One upstream call per user and platform at a time, in this process.
//!
//! Requests for the same key queue behind the first; when their turn comes they read the
//! cache again and find the answer the first one stored, so only the first calls the
//! platform. (Across instances the store's fetch lease does the same.) A runtime-neutral
//! async mutex keeps this crate free of an executor.

use crate::Platform;
use ayubi_kernel::UserId;
use futures_util::lock::{Mutex, OwnedMutexGuard};
use std::collections::HashMap;
use std::sync::{Arc, Weak};

type Key = (UserId, Platform);

/// The per-key locks, each kept only while someone holds or waits for it.
#[derive(Debug, Default)]
pub struct Flights {
    locks: std::sync::Mutex<HashMap<Key, Weak<Mutex<()>>>>,
}

/// Held while fetching; dropping it lets the next request for the key in.
#[derive(Debug)]
pub struct Turn {
    _guard: OwnedMutexGuard<()>,
}

impl Flights {
    /// Waits for the key's turn.
    pub async fn enter(&self, user: UserId, platform: Platform) -> Turn {
        let lock = {
            let mut locks = self
                .locks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Forget keys nobody holds any more, so the map stays as small as the traffic.
            locks.retain(|_, w| w.strong_count() > 0);
            let key = (user, platform);
            if let Some(l) = locks.get(&key).and_then(Weak::upgrade) {
                l
            } else {
                let l = Arc::new(Mutex::new(()));
                locks.insert(key, Arc::downgrade(&l));
                l
            }
        };
        Turn {
            _guard: lock.lock_owned().await,
        }
    }

    /// How many keys are held or waited for.
    #[cfg(test)]
    fn in_flight(&self) -> usize {
        let locks = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        locks.values().filter(|w| w.strong_count() > 0).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    #[test]
    fn a_key_is_held_by_one_at_a_time_and_forgotten_after() {
        let f = Flights::default();
        let u = UserId::new(1);
        let first = f.enter(u, Platform::Steam).now_or_never().unwrap();
        let mut second = Box::pin(f.enter(u, Platform::Steam));
        assert!(
            (&mut second).now_or_never().is_none(),
            "waits for the first"
        );
        let other = f.enter(u, Platform::Faceit).now_or_never();
        assert!(other.is_some(), "another platform does not wait");
        drop(other);
        drop(first);
        let second = second.now_or_never().unwrap();
        assert_eq!(f.in_flight(), 1);
        drop(second);
        assert_eq!(f.in_flight(), 0);
    }
}
