//! `SportStore` (`SqlSportStore`).

use crate::harness::{TestDb, now, write};
use ayubi_db::idempotency::{IdempotentRequest, within};
use ayubi_db::{Representations, SqlIdempotencyStore, SqlSportStore};
use ayubi_kernel::{DateRange, IdempotencyStore, SavedResponse, StoreError, UserId};
use ayubi_sport::ports::SportStore;
use ayubi_sport::{Goals, NewWater, WaterEntry, events};
use chrono::NaiveDate;
use serde_json::json;

fn reps() -> Representations {
    Representations::new()
        .with(|w: &WaterEntry| json!({"id": w.id, "ml": w.ml, "date": w.date}))
        .with(|g: &Goals| json!({"water": g.water_ml_per_day, "kcal": g.kcal_per_day}))
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn water(date: &str, ml: i64) -> NewWater {
    NewWater::new(day(date), ml).unwrap()
}

async fn setup() -> (TestDb, SqlSportStore, UserId, UserId) {
    let t = TestDb::new(reps()).await;
    let store = SqlSportStore::new(t.db.clone());
    let (a, b) = (t.user("a@example.com").await, t.user("b@example.com").await);
    (t, store, a, b)
}

#[tokio::test]
async fn lists_are_newest_day_first_then_newest_entry_limited_and_per_user() {
    let (_t, store, a, b) = setup().await;
    let w = || write(events::WATER_ADDED);
    let first = store
        .add_water(a, &water("2026-12-05", 100), w())
        .await
        .unwrap();
    let second = store
        .add_water(a, &water("2026-12-07", 200), w())
        .await
        .unwrap();
    let third = store
        .add_water(a, &water("2026-12-05", 300), w())
        .await
        .unwrap();
    store
        .add_water(b, &water("2026-12-06", 999), w())
        .await
        .unwrap();
    let range = DateRange::new(day("2026-12-01"), day("2026-12-31")).unwrap();
    let ids: Vec<i64> = store
        .list_water(a, range, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, [second.id, third.id, first.id]);
    assert_eq!(store.list_water(a, range, 2).await.unwrap().len(), 2);
    let only_7th = DateRange::day(day("2026-12-07"));
    assert_eq!(store.list_water(a, only_7th, 10).await.unwrap(), [second]);
    let theirs = store.list_water(b, range, 10).await.unwrap();
    assert_eq!(theirs.iter().map(|e| e.ml).collect::<Vec<_>>(), [999]);
}

#[tokio::test]
async fn each_write_records_its_change_in_its_transaction_and_announces_it_after() {
    let (t, store, a, _) = setup().await;
    let e = store
        .add_water(a, &water("2026-12-07", 250), write(events::WATER_ADDED))
        .await
        .unwrap();
    assert_eq!(
        t.log(a).await,
        [(
            1,
            "water:added".to_owned(),
            json!({"id": e.id, "ml": 250, "date": "2026-12-07"})
        )]
    );
    assert_eq!(t.announced.events(a), [(1, "water:added".to_owned())]);
    store
        .delete_entry(a, e.id, events::WATER_DELETED, now())
        .await
        .unwrap();
    assert_eq!(
        t.log(a).await[1],
        (2, "water:deleted".to_owned(), json!({"id": e.id}))
    );
    assert_eq!(t.announced.events(a).len(), 2);
}

#[tokio::test]
async fn a_write_that_fails_before_commit_leaves_no_row_no_change_and_no_gap() {
    // No representation of Goals here: rendering the change fails after the row was
    // written, inside the transaction.
    let t = TestDb::new(Representations::new().with(|w: &WaterEntry| json!(w.ml))).await;
    let store = SqlSportStore::new(t.db.clone());
    let a = t.user("a@example.com").await;
    let goals = Goals::new(2000, 1800).unwrap();
    let err = store
        .set_goals(a, &goals, write(events::GOALS_UPDATED))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert_eq!(store.goals(a).await.unwrap(), Goals::DEFAULT, "no row");
    assert!(t.log(a).await.is_empty(), "no change");
    assert!(t.announced.events(a).is_empty(), "nothing announced");
    store
        .add_water(a, &water("2026-12-07", 250), write(events::WATER_ADDED))
        .await
        .unwrap();
    assert_eq!(t.log(a).await[0].0, 1, "the failed write used no seq");
}

#[tokio::test]
async fn deleting_another_users_entry_is_not_found_and_records_nothing() {
    let (t, store, a, b) = setup().await;
    let e = store
        .add_water(a, &water("2026-12-07", 250), write(events::WATER_ADDED))
        .await
        .unwrap();
    let err = store
        .delete_entry(b, e.id, events::WATER_DELETED, now())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    assert!(t.log(b).await.is_empty());
    assert_eq!(
        t.log(a).await.len(),
        1,
        "the entry and its log are untouched"
    );
    let range = DateRange::day(day("2026-12-07"));
    assert_eq!(store.list_water(a, range, 10).await.unwrap(), [e]);
}

fn request(user: UserId, key: &str) -> IdempotentRequest {
    IdempotentRequest {
        user,
        key: key.to_owned(),
        fingerprint: b"POST /sport/water {ml:250}".to_vec(),
        now: now(),
        expired_before: now() - chrono::Duration::hours(24),
        render: Box::new(|written: &dyn std::any::Any| {
            let w = written.downcast_ref::<WaterEntry>()?;
            Some(SavedResponse {
                status: 201,
                body: format!("water {}", w.id).into_bytes(),
            })
        }),
    }
}

#[tokio::test]
async fn an_idempotent_write_saves_its_response_with_its_rows_and_a_second_one_races() {
    let (t, store, a, _) = setup().await;
    let saved = SqlIdempotencyStore::new(t.db.clone());
    let new = water("2026-12-07", 250);
    let e = within(
        request(a, "k1"),
        store.add_water(a, &new, write(events::WATER_ADDED)),
    )
    .await
    .unwrap();
    let found = saved
        .find(a, "k1", now() - chrono::Duration::hours(24))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.response.status, 201);
    assert_eq!(found.response.body, format!("water {}", e.id).into_bytes());
    assert_eq!(found.fingerprint, b"POST /sport/water {ml:250}");
    // Keys are per user: another user's lookup finds nothing.
    let other = UserId::new(a.get() + 1);
    assert!(saved.find(other, "k1", now()).await.unwrap().is_none());

    // The same key again (a concurrent retry that missed the lookup): nothing written.
    let err = within(
        request(a, "k1"),
        store.add_water(a, &new, write(events::WATER_ADDED)),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::IdempotencyRace), "{err:?}");
    let range = DateRange::day(day("2026-12-07"));
    assert_eq!(store.list_water(a, range, 10).await.unwrap().len(), 1);
    assert_eq!(t.log(a).await.len(), 1);
}

#[tokio::test]
async fn a_response_made_from_another_type_fails_the_write() {
    let (t, store, a, _) = setup().await;
    let mut req = request(a, "k2");
    req.render = Box::new(|written: &dyn std::any::Any| {
        written.downcast_ref::<Goals>().map(|_| SavedResponse {
            status: 200,
            body: Vec::new(),
        })
    });
    let err = within(
        req,
        store.add_water(a, &water("2026-12-07", 250), write(events::WATER_ADDED)),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(t.log(a).await.is_empty());
}

#[tokio::test]
async fn day_totals_sum_each_day_with_entries_and_bring_the_goals() {
    let (_t, store, a, b) = setup().await;
    let w = || write(events::WATER_ADDED);
    store
        .add_water(a, &water("2026-12-05", 100), w())
        .await
        .unwrap();
    store
        .add_water(a, &water("2026-12-05", 150), w())
        .await
        .unwrap();
    store
        .add_water(a, &water("2026-12-07", 300), w())
        .await
        .unwrap();
    store
        .add_water(b, &water("2026-12-05", 999), w())
        .await
        .unwrap();
    store
        .set_goals(
            a,
            &Goals::new(2500, 2000).unwrap(),
            write(events::GOALS_UPDATED),
        )
        .await
        .unwrap();
    let range = DateRange::new(day("2026-12-04"), day("2026-12-07")).unwrap();
    let (days, goals) = store.day_totals(a, range).await.unwrap();
    let water: Vec<(NaiveDate, i64)> = days.iter().map(|(d, t)| (*d, t.water_ml)).collect();
    assert_eq!(water, [(day("2026-12-05"), 250), (day("2026-12-07"), 300)]);
    assert_eq!((goals.water_ml_per_day, goals.kcal_per_day), (2500, 2000));
}

#[tokio::test]
async fn a_list_written_as_json_by_the_store_is_the_entries_serde_form() {
    let (t, store, a, b) = setup().await;
    // Instants of every precision chrono writes (none, milli, micro, nano seconds).
    for (i, at) in [
        "2026-12-07T10:00:00Z",
        "2026-12-07T10:00:00.5Z",
        "2026-12-07T10:00:00.123456Z",
        "2026-12-07T10:00:00.123456789Z",
    ]
    .into_iter()
    .enumerate()
    {
        let w = ayubi_kernel::Write::new(events::WATER_ADDED, at.parse().unwrap());
        let date = if i % 2 == 0 {
            "2026-12-05"
        } else {
            "2026-12-07"
        };
        store
            .add_water(a, &water(date, 100 + i as i64), w)
            .await
            .unwrap();
    }
    // A month of entries in no order of date, as a list of 90 has.
    for i in 0..90_i64 {
        let date = format!("2026-12-{:02}", 1 + (i * 7) % 28);
        store
            .add_water(a, &water(&date, 200 + i), write(events::WATER_ADDED))
            .await
            .unwrap();
    }
    store
        .add_water(b, &water("2026-12-06", 999), write(events::WATER_ADDED))
        .await
        .unwrap();
    let range = DateRange::new(day("2026-12-01"), day("2026-12-31")).unwrap();
    for limit in [100, 90, 3] {
        let entries = store.list_water(a, range, limit).await.unwrap();
        match store.list_water_json(a, range, limit).await.unwrap() {
            Some(json) => assert_eq!(
                String::from_utf8(json).unwrap(),
                serde_json::to_string(&entries).unwrap(),
                "limit {limit}"
            ),
            // PostgreSQL leaves it to the entries.
            None => assert_eq!(t.db.backend(), ayubi_db::Backend::Postgres),
        }
    }
    let empty = DateRange::day(day("2027-01-01"));
    if let Some(json) = store.list_water_json(a, empty, 10).await.unwrap() {
        assert_eq!(json, b"[]");
    }
}
