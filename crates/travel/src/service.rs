//! Travel use cases.

use crate::catalog;
use crate::error::{Result, TravelError};
use crate::events;
use crate::model::*;
use crate::ports::TravelStore;
use ayubi_kernel::{Clock, Limit, UserId, Write};

use std::sync::Arc;

/// The travel use cases.
#[derive(Debug, Clone)]
pub struct TravelService {
    store: Arc<dyn TravelStore>,
    clock: Arc<dyn Clock>,
}

impl TravelService {
    /// Wires the service.
    #[must_use]
    pub fn new(store: Arc<dyn TravelStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Puts a country on the wishlist.
    ///
    /// # Errors
    /// `Conflict` when listed or visited; `Store`.
    pub async fn add_wish(&self, user: UserId, wish: NewWish) -> Result<WishlistItem> {
        let now = self.clock.now();
        let item = WishlistItem {
            country: wish.country(),
            added_at: now,
        };
        let write = Write::new(events::WISHLIST_ADDED, now);
        Ok(self.store.add_wish(user, &item, write).await?)
    }

    /// Takes a country off the wishlist.
    ///
    /// # Errors
    /// `NotFound` when it is not there (an unknown code is not there either); `Store`.
    pub async fn remove_wish(&self, user: UserId, code: &str) -> Result<()> {
        let country = catalog::country(code).ok_or(TravelError::NotFound)?;
        Ok(self
            .store
            .remove_wish(
                user,
                &country.iso3,
                events::WISHLIST_REMOVED,
                self.clock.now(),
            )
            .await?)
    }

    /// Marks a country visited (and takes it off the wishlist).
    ///
    /// # Errors
    /// `Conflict` when already visited; `Store`.
    pub async fn add_visit(&self, user: UserId, visit: NewVisit) -> Result<Visit> {
        let now = self.clock.now();
        let visit = visit.at(now);
        let write = Write::new(events::VISITED, now);
        Ok(self
            .store
            .add_visit(user, &visit, write, events::WISHLIST_REMOVED)
            .await?)
    }

    /// Removes a visit.
    ///
    /// # Errors
    /// `NotFound`; `Store`.
    pub async fn remove_visit(&self, user: UserId, code: &str) -> Result<()> {
        let country = catalog::country(code).ok_or(TravelError::NotFound)?;
        Ok(self
            .store
            .remove_visit(user, &country.iso3, events::VISIT_REMOVED, self.clock.now())
            .await?)
    }

    /// The wishlist.
    ///
    /// # Errors
    /// `Store`.
    pub async fn wishlist(&self, user: UserId, limit: Limit) -> Result<Vec<WishlistItem>> {
        Ok(self.store.wishlist(user, limit.get()).await?)
    }

    /// Visited countries.
    ///
    /// # Errors
    /// `Store`.
    pub async fn visits(&self, user: UserId, limit: Limit) -> Result<Vec<Visit>> {
        Ok(self.store.visits(user, limit.get()).await?)
    }

    /// Stats over both lists.
    ///
    /// # Errors
    /// `Store`.
    pub async fn stats(&self, user: UserId) -> Result<TravelStats> {
        let (visited, wishlist) = self.store.codes(user).await?;
        Ok(TravelStats::from_codes(&visited, &wishlist))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryTravelStore;
    use crate::{Continent, NewVisit, NewWish};
    use ayubi_kernel::ManualClock;

    fn service() -> (TravelService, Arc<MemoryTravelStore>) {
        let store = Arc::new(MemoryTravelStore::new());
        let clock = Arc::new(ManualClock::new("2026-12-07T12:00:00Z".parse().unwrap()));
        (TravelService::new(store.clone(), clock), store)
    }

    #[tokio::test]
    async fn a_visit_leaves_the_wishlist_and_stats_count_each_list_by_continent() {
        let (s, store) = service();
        let u = UserId::new(1);
        for code in ["JPN", "KEN", "fra"] {
            s.add_wish(u, NewWish::new(code).unwrap()).await.unwrap();
        }
        s.add_visit(u, NewVisit::new("jpn", None, None).unwrap())
            .await
            .unwrap();
        let stats = s.stats(u).await.unwrap();
        assert_eq!((stats.visited_count, stats.wishlist_count), (1, 2));
        let asia = stats
            .continents
            .iter()
            .find(|c| c.continent == Continent::Asia)
            .unwrap();
        assert_eq!((asia.visited, asia.wishlist), (1, 0));
        assert_eq!(stats.continents.len(), 7, "every continent, zeros included");
        assert_eq!(
            store.events(u),
            [
                "travel:wishlist_added",
                "travel:wishlist_added",
                "travel:wishlist_added",
                "travel:visited",
                "travel:wishlist_removed"
            ]
        );
        // Visited: it cannot be wished for again.
        let again = s.add_wish(u, NewWish::new("JPN").unwrap()).await;
        assert!(matches!(again, Err(TravelError::Conflict(_))), "{again:?}");
    }

    #[tokio::test]
    async fn removing_an_unknown_or_unlisted_country_is_not_found() {
        let (s, _) = service();
        let u = UserId::new(1);
        assert!(matches!(
            s.remove_wish(u, "XYZ").await,
            Err(TravelError::NotFound)
        ));
        assert!(matches!(
            s.remove_wish(u, "JPN").await,
            Err(TravelError::NotFound)
        ));
        assert!(matches!(
            s.remove_visit(u, "JPN").await,
            Err(TravelError::NotFound)
        ));
    }
}
