//! In-memory fakes of travel's port (feature `testing`), for the service's rules and for
//! trying the API. Nothing persists.

use crate::model::{Visit, WishlistItem};
use crate::ports::TravelStore;
use ayubi_kernel::{Event, StoreError, UserId, Write};
use chrono::{DateTime, Utc};
use std::sync::Mutex;

#[derive(Debug, Default)]
struct State {
    wishlist: Vec<(UserId, WishlistItem)>,
    visits: Vec<(UserId, Visit)>,
    events: Vec<(UserId, &'static str)>,
}

/// Travel's storage in memory, with the events its writes recorded, in order.
#[derive(Debug, Default)]
pub struct MemoryTravelStore {
    state: Mutex<State>,
}

impl MemoryTravelStore {
    /// Empty.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The events recorded for `user`, oldest first.
    #[must_use]
    pub fn events(&self, user: UserId) -> Vec<&'static str> {
        let s = self.lock();
        s.events
            .iter()
            .filter(|(u, _)| *u == user)
            .map(|(_, e)| *e)
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl State {
    fn wished(&self, user: UserId, iso3: &str) -> bool {
        self.wishlist
            .iter()
            .any(|(u, w)| *u == user && w.country.iso3 == iso3)
    }

    fn visited(&self, user: UserId, iso3: &str) -> bool {
        self.visits
            .iter()
            .any(|(u, v)| *u == user && v.country.iso3 == iso3)
    }
}

#[async_trait::async_trait]
impl TravelStore for MemoryTravelStore {
    async fn add_wish(
        &self,
        user: UserId,
        item: &WishlistItem,
        write: Write,
    ) -> Result<WishlistItem, StoreError> {
        let mut s = self.lock();
        if s.wished(user, &item.country.iso3) {
            return Err(StoreError::Conflict("already on the wishlist".into()));
        }
        if s.visited(user, &item.country.iso3) {
            return Err(StoreError::Conflict("already visited".into()));
        }
        s.wishlist.push((user, item.clone()));
        s.events.push((user, write.event.name));
        Ok(item.clone())
    }

    async fn remove_wish(
        &self,
        user: UserId,
        iso3: &str,
        event: Event,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.wished(user, iso3) {
            return Err(StoreError::NotFound);
        }
        s.wishlist
            .retain(|(u, w)| !(*u == user && w.country.iso3 == iso3));
        s.events.push((user, event.name));
        Ok(())
    }

    async fn add_visit(
        &self,
        user: UserId,
        visit: &Visit,
        write: Write,
        wishlist_removed: Event,
    ) -> Result<Visit, StoreError> {
        let mut s = self.lock();
        let iso3 = visit.country.iso3.as_str();
        if s.visited(user, iso3) {
            return Err(StoreError::Conflict("already visited".into()));
        }
        let was_wished = s.wished(user, iso3);
        s.visits.push((user, visit.clone()));
        s.events.push((user, write.event.name));
        if was_wished {
            s.wishlist
                .retain(|(u, w)| !(*u == user && w.country.iso3 == iso3));
            s.events.push((user, wishlist_removed.name));
        }
        Ok(visit.clone())
    }

    async fn remove_visit(
        &self,
        user: UserId,
        iso3: &str,
        event: Event,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.visited(user, iso3) {
            return Err(StoreError::NotFound);
        }
        s.visits
            .retain(|(u, v)| !(*u == user && v.country.iso3 == iso3));
        s.events.push((user, event.name));
        Ok(())
    }

    async fn wishlist(&self, user: UserId, limit: u32) -> Result<Vec<WishlistItem>, StoreError> {
        let s = self.lock();
        Ok(s.wishlist
            .iter()
            .rev()
            .filter(|(u, _)| *u == user)
            .take(limit as usize)
            .map(|(_, w)| w.clone())
            .collect())
    }

    async fn visits(&self, user: UserId, limit: u32) -> Result<Vec<Visit>, StoreError> {
        let s = self.lock();
        let mut out: Vec<Visit> = s
            .visits
            .iter()
            .rev()
            .filter(|(u, _)| *u == user)
            .map(|(_, v)| v.clone())
            .collect();
        // Newest visit date first, undated last (a stable sort keeps newest-first ties).
        out.sort_by_key(|v| std::cmp::Reverse(v.visit_date.map(|d| (1, d))));
        out.truncate(limit as usize);
        Ok(out)
    }

    async fn codes(&self, user: UserId) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let s = self.lock();
        let of = |u: &UserId| *u == user;
        Ok((
            s.visits
                .iter()
                .filter(|(u, _)| of(u))
                .map(|(_, v)| v.country.iso3.clone())
                .collect(),
            s.wishlist
                .iter()
                .filter(|(u, _)| of(u))
                .map(|(_, w)| w.country.iso3.clone())
                .collect(),
        ))
    }
}
