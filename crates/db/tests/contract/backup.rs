//! `BackupRecords` (`SqlBackupStore`): records are per user and newest first, pruning
//! keeps the newest scheduled ones and never a manual one, a due run is leased to exactly
//! one instance at a time.

use crate::harness::{TestDb, now};
use ayubi_backup::ports::{BackupRecords, NewBackup, Trigger};
use ayubi_backup::{Interval, Keep, Schedule};
use ayubi_db::{Representations, SqlBackupStore};
use ayubi_kernel::StoreError;
use chrono::Duration;

fn backup(minutes: i64, trigger: Trigger) -> NewBackup {
    NewBackup {
        created_at: now() + Duration::minutes(minutes),
        trigger,
        size_bytes: 100,
        sha256: "00".repeat(32),
        object_key: format!("backups/x/{minutes}.json"),
    }
}

#[tokio::test]
async fn pruning_keeps_the_newest_scheduled_and_every_manual_backup() {
    let t = TestDb::new(Representations::new()).await;
    let store = SqlBackupStore::new(t.db.clone());
    let (a, b) = (t.user("a@example.com").await, t.user("b@example.com").await);
    for (m, trigger) in [
        (1, Trigger::Scheduled),
        (2, Trigger::Manual),
        (3, Trigger::Scheduled),
        (4, Trigger::Scheduled),
    ] {
        store.record(a, backup(m, trigger)).await.unwrap();
    }
    let theirs = store
        .record(b, backup(5, Trigger::Scheduled))
        .await
        .unwrap();
    let listed: Vec<String> = store
        .list(a, 100)
        .await
        .unwrap()
        .iter()
        .map(|x| x.object_key.clone())
        .collect();
    assert_eq!(
        listed,
        [
            "backups/x/4.json",
            "backups/x/3.json",
            "backups/x/2.json",
            "backups/x/1.json"
        ]
    );
    let gone = store.prune(a, 1).await.unwrap();
    let mut keys: Vec<String> = gone.into_iter().map(|x| x.object_key).collect();
    keys.sort();
    assert_eq!(keys, ["backups/x/1.json", "backups/x/3.json"]);
    assert_eq!(store.list(a, 100).await.unwrap().len(), 2);
    for err in [
        store.get(a, theirs.id).await.unwrap_err(),
        store.remove(a, theirs.id).await.unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
    }
    assert_eq!(store.list(b, 100).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_due_run_is_leased_to_one_instance_until_released() {
    let t = TestDb::new(Representations::new()).await;
    let store = SqlBackupStore::new(t.db.clone());
    let a = t.user("a@example.com").await;
    let daily = Schedule::OFF.set(Interval::Daily, Keep::default(), now() - Duration::days(2));
    store.set_schedule(a, daily).await.unwrap();
    assert_eq!(store.due(now(), 10).await.unwrap(), [a]);
    let until = now() + Duration::minutes(10);
    let (first, second) = tokio::join!(
        store.claim(a, "one", now(), until),
        store.claim(a, "two", now(), until)
    );
    let won = [first.unwrap(), second.unwrap()];
    assert_eq!(
        won.iter().filter(|c| c.is_some()).count(),
        1,
        "exactly one lease"
    );
    assert!(
        store.due(now(), 10).await.unwrap().is_empty(),
        "leased: not due"
    );
    let winner = if won[0].is_some() { "one" } else { "two" };
    let next = now() + Duration::days(1);
    store.release(a, winner, Some(next)).await.unwrap();
    assert!(store.due(now(), 10).await.unwrap().is_empty());
    assert_eq!(store.due(next, 10).await.unwrap(), [a]);
    // A lease that ran out may be taken over.
    let taken = store
        .claim(a, "one", next, next + Duration::minutes(10))
        .await
        .unwrap();
    assert!(taken.is_some());
    let later = next + Duration::minutes(11);
    assert!(
        store
            .claim(a, "two", later, later + Duration::minutes(10))
            .await
            .unwrap()
            .is_some()
    );
}

/// Collects an export into a document in memory.
struct Collect {
    encoder: ayubi_backup::encode::Encoder,
    out: Vec<u8>,
}

#[async_trait::async_trait]
impl ayubi_backup::ports::RowSink for Collect {
    async fn row(&mut self, row: ayubi_backup::document::Row) -> Result<(), StoreError> {
        self.encoder
            .push(&row, &mut self.out)
            .map_err(|e| StoreError::Unavailable(Box::new(e)))
    }
}

#[tokio::test]
async fn an_export_imports_into_another_account_once_and_a_dry_run_writes_nothing() {
    use ayubi_backup::ports::{ExportSource, ImportOptions, ImportStore};
    use ayubi_backup::{Document, Import, Mode};
    use ayubi_sport::ports::SportStore;
    let t = TestDb::new(
        Representations::new().with(|w: &ayubi_sport::WaterEntry| serde_json::json!(w.ml)),
    )
    .await;
    let store = SqlBackupStore::new(t.db.clone());
    let sport = ayubi_db::SqlSportStore::new(t.db.clone());
    let (a, b) = (t.user("a@example.com").await, t.user("b@example.com").await);
    for ml in [100, 200, 300] {
        let new = ayubi_sport::NewWater::new("2026-12-01".parse().unwrap(), ml).unwrap();
        sport
            .add_water(
                a,
                &new,
                crate::harness::write(ayubi_sport::events::WATER_ADDED),
            )
            .await
            .unwrap();
    }
    let mut out = Vec::new();
    let encoder = ayubi_backup::encode::Encoder::start(now(), &mut out);
    let mut sink = Collect { encoder, out };
    store.export(a, &mut sink).await.unwrap();
    sink.encoder.finish(&mut sink.out);
    let doc: Document = serde_json::from_slice(&sink.out).unwrap();
    let import = Import::parse(doc).unwrap();
    let options = |dry_run| ImportOptions {
        mode: Mode::Merge,
        dry_run,
        now: now(),
    };
    let water = |o: &ayubi_backup::Outcome| o.created.get("water").copied().unwrap_or(0);
    let counted = store.import(b, &import, options(true)).await.unwrap();
    assert_eq!(water(&counted), 3);
    let range = ayubi_kernel::DateRange::day("2026-12-01".parse().unwrap());
    assert!(
        sport.list_water(b, range, 10).await.unwrap().is_empty(),
        "dry run"
    );
    assert!(t.log(b).await.is_empty());
    let done = store.import(b, &import, options(false)).await.unwrap();
    assert_eq!(
        done,
        ayubi_backup::Outcome {
            dry_run: false,
            ..counted
        }
    );
    assert_eq!(sport.list_water(b, range, 10).await.unwrap().len(), 3);
    let again = store.import(b, &import, options(false)).await.unwrap();
    assert_eq!(water(&again), 0, "the same document twice creates nothing");
    let log = t.log(b).await;
    assert_eq!(
        log.len(),
        2,
        "one backup:imported change per import that wrote"
    );
    assert_eq!(log[0].1, "backup:imported");
}
