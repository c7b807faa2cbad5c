//! `HabitStore` (`SqlHabitStore`): marking a day is once (a repeat writes nothing and uses
//! no `seq`), completions newest first within bounds, archived filter, ownership.

use crate::harness::{TestDb, now, write};
use ayubi_db::{Representations, SqlHabitStore};
use ayubi_habits::ports::HabitStore;
use ayubi_habits::{Habit, HabitDay, HabitFields, Schedule, events};
use ayubi_kernel::{Limit, StoreError};
use serde_json::json;

fn reps() -> Representations {
    Representations::new()
        .with(|h: &Habit| json!({"id": h.id, "name": h.name}))
        .with(|d: &HabitDay| json!({"habit_id": d.habit_id, "date": d.date}))
}

fn habit(name: &str, archived: bool) -> HabitFields {
    HabitFields::new(name, None, Schedule::Daily, archived).unwrap()
}

#[tokio::test]
async fn a_day_is_marked_once_and_completions_come_newest_first() {
    let t = TestDb::new(reps()).await;
    let store = SqlHabitStore::new(t.db.clone());
    let a = t.user("a@example.com").await;
    let h = store
        .create(a, &habit("read", false), write(events::CREATED))
        .await
        .unwrap();
    for d in ["2026-12-01", "2026-12-03", "2026-12-02"] {
        let day = HabitDay {
            habit_id: h.id,
            date: d.parse().unwrap(),
        };
        let (_, created) = store
            .mark(a, day, false, write(events::COMPLETED))
            .await
            .unwrap();
        assert!(created);
    }
    let again = HabitDay {
        habit_id: h.id,
        date: "2026-12-02".parse().unwrap(),
    };
    let (_, created) = store
        .mark(a, again, false, write(events::COMPLETED))
        .await
        .unwrap();
    assert!(!created, "already there");
    let seqs: Vec<i64> = t.log(a).await.into_iter().map(|(s, ..)| s).collect();
    assert_eq!(seqs, [1, 2, 3, 4], "the repeat used no seq");

    let all = store
        .completions(a, h.id, None, None, Limit::default())
        .await
        .unwrap();
    let dates: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(dates, ["2026-12-03", "2026-12-02", "2026-12-01"]);
    let bounded = store
        .completions(
            a,
            h.id,
            Some("2026-12-02".parse().unwrap()),
            None,
            Limit::new(Some(1)).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(bounded.len(), 1);
    assert_eq!(bounded[0].to_string(), "2026-12-03");

    store
        .unmark(a, again, false, events::UNCOMPLETED, now())
        .await
        .unwrap();
    let err = store
        .unmark(a, again, false, events::UNCOMPLETED, now())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

#[tokio::test]
async fn another_users_habit_cannot_be_read_marked_or_deleted() {
    let t = TestDb::new(reps()).await;
    let store = SqlHabitStore::new(t.db.clone());
    let (a, b) = (t.user("a@example.com").await, t.user("b@example.com").await);
    let h = store
        .create(a, &habit("run", false), write(events::CREATED))
        .await
        .unwrap();
    store
        .create(a, &habit("old", true), write(events::CREATED))
        .await
        .unwrap();
    let day = HabitDay {
        habit_id: h.id,
        date: "2026-12-07".parse().unwrap(),
    };
    for err in [
        store.get(b, h.id).await.unwrap_err(),
        store
            .mark(b, day, false, write(events::COMPLETED))
            .await
            .unwrap_err(),
        store
            .delete(b, h.id, events::DELETED, now())
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
    }
    assert!(t.log(b).await.is_empty());
    let names = |hs: Vec<Habit>| hs.into_iter().map(|h| h.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.list(a, Some(false), 100).await.unwrap()),
        ["run"]
    );
    assert_eq!(
        names(store.list(a, Some(true), 100).await.unwrap()),
        ["old"]
    );
    assert_eq!(store.list(a, None, 100).await.unwrap().len(), 2);
    assert!(store.list(b, None, 100).await.unwrap().is_empty());
}
