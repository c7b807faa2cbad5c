//! `ChangeLog` (`SqlChangeLog`): paging by cursor, the resync rule's inputs, many users'
//! latest `seq` in one call, retention.

use crate::harness::{TestDb, now, write};
use ayubi_db::{Representations, SqlChangeLog, SqlSportStore};
use ayubi_kernel::UserId;
use ayubi_sport::ports::SportStore;
use ayubi_sport::{NewWater, WaterEntry, events};
use ayubi_sync::ChangeLog;
use serde_json::json;

async fn log_with(t: &TestDb, user: UserId, n: i64) {
    let store = SqlSportStore::new(t.db.clone());
    for i in 0..n {
        let new = NewWater::new("2026-12-07".parse().unwrap(), 100 + i).unwrap();
        store
            .add_water(user, &new, write(events::WATER_ADDED))
            .await
            .unwrap();
    }
}

fn reps() -> Representations {
    Representations::new().with(|w: &WaterEntry| json!(w.ml))
}

#[tokio::test]
async fn pages_follow_the_cursor_oldest_first_without_gaps() {
    let t = TestDb::new(reps()).await;
    let (a, b) = (t.user("a@example.com").await, t.user("b@example.com").await);
    log_with(&t, a, 5).await;
    log_with(&t, b, 2).await;
    let log = SqlChangeLog::new(t.db.clone());
    let page = log.since(a, 0, 2).await.unwrap();
    let seqs: Vec<i64> = page.changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [1, 2]);
    assert_eq!((page.oldest_kept, page.latest), (Some(1), 5));
    let rest = log.since(a, 2, 100).await.unwrap();
    assert_eq!(
        rest.changes.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [3, 4, 5]
    );
    assert_eq!(rest.changes[0].data, json!(102));
    assert!(!rest.resync_required(2));
    assert!(log.since(a, 5, 100).await.unwrap().changes.is_empty());
    // Each user has a log of their own.
    assert_eq!(log.since(b, 0, 100).await.unwrap().latest, 2);
    let mut latest = log.latest(&[a, b, UserId::new(999)]).await.unwrap();
    latest.sort();
    assert_eq!(latest, [(a, 5), (b, 2)]);
}

#[tokio::test]
async fn purging_keeps_each_users_newest_and_makes_old_cursors_resync() {
    let t = TestDb::new(reps()).await;
    let (a, b) = (t.user("a@example.com").await, t.user("b@example.com").await);
    log_with(&t, a, 5).await;
    log_with(&t, b, 1).await;
    let log = SqlChangeLog::new(t.db.clone());
    // Everything is older than the horizon; each user keeps their newest 2.
    let gone = log
        .purge(now() + chrono::Duration::days(1), 2)
        .await
        .unwrap();
    assert_eq!(gone, 3);
    let page = log.since(a, 0, 100).await.unwrap();
    assert_eq!(
        page.changes.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [4, 5]
    );
    assert_eq!((page.oldest_kept, page.latest), (Some(4), 5));
    assert!(page.resync_required(0), "changes 1-3 are gone");
    assert!(!log.since(a, 3, 100).await.unwrap().resync_required(3));
    assert_eq!(log.since(b, 0, 100).await.unwrap().changes.len(), 1);
    // Nothing older than the horizon: nothing goes.
    assert_eq!(
        log.purge(now() - chrono::Duration::days(1), 0)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn time_zones_are_the_users_own_and_a_missing_user_is_not_found() {
    use ayubi_kernel::{StoreError, TimeZone, UserTimeZones};
    let t = TestDb::new(reps()).await;
    let tokyo = ayubi_db::SqlAccounts::new(t.db.clone())
        .create(
            "t@example.com",
            TimeZone::parse("Asia/Tokyo").unwrap(),
            now(),
        )
        .await
        .unwrap();
    let utc = t.user("u@example.com").await;
    let zones = ayubi_db::SqlTimeZones::new(t.db.clone());
    assert_eq!(zones.time_zone(tokyo).await.unwrap().name(), "Asia/Tokyo");
    assert_eq!(zones.time_zone(utc).await.unwrap().name(), "UTC");
    let gone = zones.time_zone(UserId::new(9999)).await.unwrap_err();
    assert!(matches!(gone, StoreError::NotFound), "{gone:?}");
}
