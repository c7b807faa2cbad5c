//! `JournalStore` (`SqlJournalStore`): the search index follows every write in its
//! transaction (an update replaces what is found, a delete removes it), filters, ranking,
//! ownership.

use crate::harness::{TestDb, now, write};
use ayubi_db::{Representations, SqlJournalStore};
use ayubi_journal::ports::JournalStore;
use ayubi_journal::{Entry, EntryFields, Filter, SearchTerms, events};
use ayubi_kernel::{StoreError, UserId};
use serde_json::json;

fn fields(date: &str, title: &str, content: &str, tags: &[&str]) -> EntryFields {
    EntryFields::new(
        Some(title.to_owned()),
        content.to_owned(),
        date.parse().unwrap(),
        None,
        tags.iter().map(|t| (*t).to_owned()).collect(),
    )
    .unwrap()
}

fn search(q: &str) -> Filter {
    Filter {
        terms: SearchTerms::parse(q),
        ..Filter::default()
    }
}

async fn titles(store: &SqlJournalStore, user: UserId, filter: &Filter) -> Vec<String> {
    store
        .list(user, filter, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.title.unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn search_follows_every_write_and_never_crosses_users() {
    let t = TestDb::new(Representations::new().with(|e: &Entry| json!(e.id))).await;
    let store = SqlJournalStore::new(t.db.clone());
    let (a, b) = (t.user("a@example.com").await, t.user("b@example.com").await);
    let w = || write(events::CREATED);
    let walk = store
        .create(
            a,
            &fields("2026-12-01", "walk", "quince trees by the river", &["out"]),
            w(),
        )
        .await
        .unwrap();
    store
        .create(
            a,
            &fields("2026-12-03", "cook", "quince jam, twice", &["home"]),
            w(),
        )
        .await
        .unwrap();
    store
        .create(
            b,
            &fields("2026-12-02", "theirs", "quince everywhere", &[]),
            w(),
        )
        .await
        .unwrap();
    let mut found = titles(&store, a, &search("quince")).await;
    found.sort();
    assert_eq!(found, ["cook", "walk"]);
    assert_eq!(titles(&store, b, &search("quince")).await, ["theirs"]);

    // An update replaces what is indexed; a delete removes it.
    store
        .update(
            a,
            walk.id,
            &fields("2026-12-01", "walk", "fog on the hills", &["out"]),
            write(events::UPDATED),
        )
        .await
        .unwrap();
    assert_eq!(titles(&store, a, &search("quince")).await, ["cook"]);
    assert_eq!(titles(&store, a, &search("fog")).await, ["walk"]);
    store
        .delete(a, walk.id, events::DELETED, now())
        .await
        .unwrap();
    assert!(titles(&store, a, &search("fog")).await.is_empty());
    let events: Vec<String> = t.log(a).await.into_iter().map(|(_, e, _)| e).collect();
    assert_eq!(
        events,
        [
            "journal:created",
            "journal:created",
            "journal:updated",
            "journal:deleted"
        ]
    );
}

#[tokio::test]
async fn lists_are_newest_first_filtered_by_day_and_tag_and_owned() {
    let t = TestDb::new(Representations::new().with(|e: &Entry| json!(e.id))).await;
    let store = SqlJournalStore::new(t.db.clone());
    let (a, b) = (t.user("a@example.com").await, t.user("b@example.com").await);
    let w = || write(events::CREATED);
    for (d, title, tag) in [
        ("2026-12-01", "one", "x"),
        ("2026-12-03", "three", "y"),
        ("2026-12-02", "two", "x"),
    ] {
        store
            .create(a, &fields(d, title, "text", &[tag]), w())
            .await
            .unwrap();
    }
    assert_eq!(
        titles(&store, a, &Filter::default()).await,
        ["three", "two", "one"]
    );
    assert_eq!(store.list(a, &Filter::default(), 2).await.unwrap().len(), 2);
    let tagged = Filter {
        tag: Some("x".into()),
        ..Filter::default()
    };
    assert_eq!(titles(&store, a, &tagged).await, ["two", "one"]);
    let days = Filter {
        from: Some("2026-12-02".parse().unwrap()),
        to: Some("2026-12-03".parse().unwrap()),
        ..Filter::default()
    };
    assert_eq!(titles(&store, a, &days).await, ["three", "two"]);
    let first = store
        .list(a, &Filter::default(), 1)
        .await
        .unwrap()
        .remove(0);
    for err in [
        store.get(b, first.id).await.unwrap_err(),
        store
            .update(
                b,
                first.id,
                &fields("2026-12-03", "x", "y", &[]),
                write(events::UPDATED),
            )
            .await
            .unwrap_err(),
        store
            .delete(b, first.id, events::DELETED, now())
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
    }
    assert!(t.log(b).await.is_empty());
}
