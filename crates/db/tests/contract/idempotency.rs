//! `IdempotencyStore` (`SqlIdempotencyStore`): a saved record is found while fresh, per
//! user, and an expired one may be taken over by a new request with the same key.

use crate::harness::{TestDb, now, write};
use ayubi_db::idempotency::{IdempotentRequest, within};
use ayubi_db::{Representations, SqlIdempotencyStore, SqlSportStore};
use ayubi_kernel::{IdempotencyStore, SavedResponse, UserId};
use ayubi_sport::ports::SportStore;
use ayubi_sport::{NewWater, WaterEntry, events};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

fn request(user: UserId, at: DateTime<Utc>, body: &'static str) -> IdempotentRequest {
    IdempotentRequest {
        user,
        key: "key".into(),
        fingerprint: body.as_bytes().to_vec(),
        now: at,
        expired_before: at - Duration::hours(24),
        render: Box::new(move |_: &dyn std::any::Any| {
            Some(SavedResponse {
                status: 201,
                body: body.as_bytes().to_vec(),
            })
        }),
    }
}

#[tokio::test]
async fn records_are_found_while_fresh_and_an_expired_key_is_taken_over() {
    let t = TestDb::new(Representations::new().with(|w: &WaterEntry| json!(w.ml))).await;
    let a = t.user("a@example.com").await;
    let store = SqlSportStore::new(t.db.clone());
    let saved = SqlIdempotencyStore::new(t.db.clone());
    let new = NewWater::new("2026-12-07".parse().unwrap(), 250).unwrap();
    let add = || store.add_water(a, &new, write(events::WATER_ADDED));
    within(request(a, now(), "first"), add()).await.unwrap();

    let fresh = now() - Duration::hours(24);
    let got = saved.find(a, "key", fresh).await.unwrap().unwrap();
    assert_eq!(got.response.body, b"first");
    assert!(saved.find(a, "other", fresh).await.unwrap().is_none());
    // Asked for records newer than it: as if there were none.
    assert!(
        saved
            .find(a, "key", now() + Duration::seconds(1))
            .await
            .unwrap()
            .is_none()
    );

    // A day and more later the key is free again: the new request replaces the record.
    let later = now() + Duration::hours(25);
    within(request(a, later, "second"), add()).await.unwrap();
    let got = saved
        .find(a, "key", later - Duration::hours(24))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.response.body, b"second");

    // Pruning removes what is older than the horizon only.
    assert_eq!(saved.purge(later).await.unwrap(), 0);
    assert_eq!(saved.purge(later + Duration::seconds(1)).await.unwrap(), 1);
    assert!(saved.find(a, "key", now()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_live_key_refuses_the_second_write_and_keeps_nothing_of_it() {
    let t = TestDb::new(Representations::new().with(|w: &WaterEntry| json!(w.ml))).await;
    let a = t.user("a@example.com").await;
    let store = SqlSportStore::new(t.db.clone());
    let saved = SqlIdempotencyStore::new(t.db.clone());
    let day = "2026-12-07".parse().unwrap();
    let first = NewWater::new(day, 250).unwrap();
    within(
        request(a, now(), "first"),
        store.add_water(a, &first, write(events::WATER_ADDED)),
    )
    .await
    .unwrap();
    // The same key while its record is live (the race a concurrent retry loses): refused,
    // and neither its row nor its change-log entry is kept.
    let second = NewWater::new(day, 500).unwrap();
    let raced = within(
        request(a, now() + Duration::seconds(1), "second"),
        store.add_water(a, &second, write(events::WATER_ADDED)),
    )
    .await;
    assert!(
        matches!(raced, Err(ayubi_kernel::StoreError::IdempotencyRace)),
        "{raced:?}"
    );
    let rows = store
        .list_water(a, ayubi_kernel::DateRange::day(day), 10)
        .await
        .unwrap();
    assert_eq!(rows.iter().map(|w| w.ml).collect::<Vec<_>>(), [250]);
    let log = ayubi_db::SqlChangeLog::new(t.db.clone());
    let page = ayubi_sync::ChangeLog::since(&log, a, 0, 10).await.unwrap();
    assert_eq!((page.changes.len(), page.latest), (1, 1), "no seq consumed");
    let got = saved.find(a, "key", now()).await.unwrap().unwrap();
    assert_eq!(got.response.body, b"first");
    // The writer goes on.
    let third = store
        .add_water(a, &second, write(events::WATER_ADDED))
        .await
        .unwrap();
    assert_eq!(third.ml, 500);
}
