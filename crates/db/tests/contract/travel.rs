//! `TravelStore` (`SqlTravelStore`): one country on one list at a time, a visit takes the
//! country off the wishlist in the same transaction (two changes, in order), ownership.

use crate::harness::{TestDb, now, write};
use ayubi_db::{Representations, SqlTravelStore};
use ayubi_kernel::StoreError;
use ayubi_travel::ports::TravelStore;
use ayubi_travel::{Visit, WishlistItem, catalog, events};
use serde_json::json;

fn reps() -> Representations {
    Representations::new()
        .with(|w: &WishlistItem| json!({"country": w.country.iso3}))
        .with(|v: &Visit| json!({"country": v.country.iso3, "date": v.visit_date}))
}

fn wish(code: &str) -> WishlistItem {
    WishlistItem {
        country: catalog::country(code).unwrap(),
        added_at: now(),
    }
}

fn visit(code: &str, date: Option<&str>) -> Visit {
    Visit {
        country: catalog::country(code).unwrap(),
        visit_date: date.map(|d| d.parse().unwrap()),
        notes: None,
        created_at: now(),
    }
}

#[tokio::test]
async fn a_visit_takes_the_country_off_the_wishlist_in_its_transaction() {
    let t = TestDb::new(reps()).await;
    let store = SqlTravelStore::new(t.db.clone());
    let a = t.user("a@example.com").await;
    store
        .add_wish(a, &wish("JPN"), write(events::WISHLIST_ADDED))
        .await
        .unwrap();
    let err = store
        .add_wish(a, &wish("JPN"), write(events::WISHLIST_ADDED))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    store
        .add_visit(
            a,
            &visit("JPN", Some("2026-04-01")),
            write(events::VISITED),
            events::WISHLIST_REMOVED,
        )
        .await
        .unwrap();
    assert!(store.wishlist(a, 100).await.unwrap().is_empty());
    let events: Vec<(i64, String)> = t.log(a).await.into_iter().map(|(s, e, _)| (s, e)).collect();
    assert_eq!(
        events,
        [
            (1, events::WISHLIST_ADDED.name.to_owned()),
            (2, events::VISITED.name.to_owned()),
            (3, events::WISHLIST_REMOVED.name.to_owned()),
        ]
    );
    assert_eq!(
        t.announced.events(a).len(),
        3,
        "both announced after the commit"
    );
    // Visited: it cannot go back on the wishlist, nor be visited twice.
    for err in [
        store
            .add_wish(a, &wish("JPN"), write(events::WISHLIST_ADDED))
            .await
            .unwrap_err(),
        store
            .add_visit(
                a,
                &visit("JPN", None),
                write(events::VISITED),
                events::WISHLIST_REMOVED,
            )
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    }
}

#[tokio::test]
async fn visits_are_newest_date_first_undated_last_limited_and_per_user() {
    let t = TestDb::new(reps()).await;
    let store = SqlTravelStore::new(t.db.clone());
    let (a, b) = (t.user("a@example.com").await, t.user("b@example.com").await);
    let w = || write(events::VISITED);
    let r = events::WISHLIST_REMOVED;
    store
        .add_visit(a, &visit("FRA", Some("2025-01-01")), w(), r)
        .await
        .unwrap();
    store
        .add_visit(a, &visit("PER", None), w(), r)
        .await
        .unwrap();
    store
        .add_visit(a, &visit("KEN", Some("2026-02-01")), w(), r)
        .await
        .unwrap();
    store
        .add_visit(b, &visit("CAN", None), w(), r)
        .await
        .unwrap();
    let codes: Vec<String> = store
        .visits(a, 100)
        .await
        .unwrap()
        .iter()
        .map(|v| v.country.iso3.clone())
        .collect();
    assert_eq!(codes, ["KEN", "FRA", "PER"]);
    assert_eq!(store.visits(a, 1).await.unwrap().len(), 1);
    let err = store
        .remove_visit(b, "KEN", events::VISIT_REMOVED, now())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    let (visited, wished) = store.codes(a).await.unwrap();
    assert_eq!((visited.len(), wished.len()), (3, 0));
    store
        .remove_visit(a, "KEN", events::VISIT_REMOVED, now())
        .await
        .unwrap();
    assert_eq!(store.visits(a, 100).await.unwrap().len(), 2);
}
