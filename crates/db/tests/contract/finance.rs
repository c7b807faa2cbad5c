//! `FinanceStore` (`SqlFinanceStore`): a category is the user's own and of the entry's
//! kind (checked in the transaction), a used category cannot go, totals per category in
//! one currency, filters, ownership.

use crate::harness::{TestDb, now, write};
use ayubi_db::{Representations, SqlFinanceStore};
use ayubi_finance::ports::FinanceStore;
use ayubi_finance::{
    Category, CategoryFields, Currency, Entry, EntryFields, EntryFilter, Kind, Money, events,
};
use ayubi_kernel::{DateRange, StoreError};
use serde_json::json;

fn reps() -> Representations {
    Representations::new()
        .with(|c: &Category| json!({"id": c.id}))
        .with(|e: &Entry| json!({"id": e.id}))
}

fn entry(kind: Kind, amount: f64, cur: &str, cat: Option<i64>, date: &str) -> EntryFields {
    EntryFields::new(
        kind,
        Money::parse(amount).unwrap(),
        Currency::parse(cur).unwrap(),
        cat,
        date.parse().unwrap(),
        None,
    )
    .unwrap()
}

#[tokio::test]
async fn entries_use_only_the_users_categories_of_their_kind_and_hold_them() {
    let t = TestDb::new(reps()).await;
    let store = SqlFinanceStore::new(t.db.clone());
    let (a, b) = (t.user("a@example.com").await, t.user("b@example.com").await);
    let food = store
        .create_category(
            a,
            &CategoryFields::new("food", "expense").unwrap(),
            write(events::CATEGORY_CREATED),
        )
        .await
        .unwrap();
    let err = store
        .create_category(
            a,
            &CategoryFields::new("food", "expense").unwrap(),
            write(events::CATEGORY_CREATED),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // Another user's category, or this one for income: refused, nothing written.
    for (user, kind) in [(b, Kind::Expense), (a, Kind::Income)] {
        let err = store
            .create_entry(
                user,
                &entry(kind, 5.0, "EUR", Some(food.id), "2026-12-01"),
                write(events::CREATED),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    }
    assert!(t.log(b).await.is_empty());
    let e = store
        .create_entry(
            a,
            &entry(Kind::Expense, 12.34, "EUR", Some(food.id), "2026-12-01"),
            write(events::CREATED),
        )
        .await
        .unwrap();
    assert_eq!(e.amount, Money::parse(12.34).unwrap());
    let err = store
        .delete_category(a, food.id, events::CATEGORY_DELETED, now())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "used: {err:?}");
    assert_eq!(store.categories(a, 100).await.unwrap().len(), 1);
    store
        .delete_entry(a, e.id, events::DELETED, now())
        .await
        .unwrap();
    store
        .delete_category(a, food.id, events::CATEGORY_DELETED, now())
        .await
        .unwrap();
    let events: Vec<String> = t.log(a).await.into_iter().map(|(_, e, _)| e).collect();
    assert_eq!(events.len(), 4, "{events:?}");
}

#[tokio::test]
async fn totals_are_per_category_in_one_currency_and_lists_filter() {
    let t = TestDb::new(reps()).await;
    let store = SqlFinanceStore::new(t.db.clone());
    let (a, b) = (t.user("a@example.com").await, t.user("b@example.com").await);
    let cat = |name: &'static str, kind: &'static str| {
        let store = &store;
        async move {
            store
                .create_category(
                    a,
                    &CategoryFields::new(name, kind).unwrap(),
                    write(events::CATEGORY_CREATED),
                )
                .await
                .unwrap()
        }
    };
    let (food, pay) = (cat("food", "expense").await, cat("pay", "income").await);
    let w = || write(events::CREATED);
    for f in [
        entry(Kind::Expense, 10.0, "EUR", Some(food.id), "2026-12-01"),
        entry(Kind::Expense, 2.5, "EUR", Some(food.id), "2026-12-02"),
        entry(Kind::Expense, 7.0, "USD", Some(food.id), "2026-12-02"),
        entry(Kind::Income, 100.0, "EUR", Some(pay.id), "2026-12-03"),
        entry(Kind::Expense, 1.0, "EUR", None, "2026-11-30"),
    ] {
        store.create_entry(a, &f, w()).await.unwrap();
    }
    store
        .create_entry(
            b,
            &entry(Kind::Expense, 50.0, "EUR", None, "2026-12-01"),
            w(),
        )
        .await
        .unwrap();
    let december =
        DateRange::new("2026-12-01".parse().unwrap(), "2026-12-31".parse().unwrap()).unwrap();
    let mut totals: Vec<(Option<i64>, i64)> = store
        .totals(a, december, &Currency::parse("EUR").unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.category_id, t.total))
        .collect();
    totals.sort();
    assert_eq!(totals, [(Some(food.id), 1250), (Some(pay.id), 10_000)]);

    let dates = |es: Vec<Entry>| {
        es.into_iter()
            .map(|e| e.date.to_string())
            .collect::<Vec<_>>()
    };
    let all = store.entries(a, EntryFilter::default(), 100).await.unwrap();
    assert_eq!(
        dates(all),
        [
            "2026-12-03",
            "2026-12-02",
            "2026-12-02",
            "2026-12-01",
            "2026-11-30"
        ]
    );
    let incomes = EntryFilter {
        kind: Some(Kind::Income),
        ..EntryFilter::default()
    };
    assert_eq!(store.entries(a, incomes, 100).await.unwrap().len(), 1);
    let food_in_dec = EntryFilter {
        from: Some("2026-12-02".parse().unwrap()),
        category_id: Some(food.id),
        ..EntryFilter::default()
    };
    assert_eq!(store.entries(a, food_in_dec, 100).await.unwrap().len(), 2);
    assert_eq!(
        store
            .entries(a, EntryFilter::default(), 2)
            .await
            .unwrap()
            .len(),
        2
    );
    let theirs = store.entries(b, EntryFilter::default(), 100).await.unwrap();
    assert_eq!(theirs.len(), 1);
    let err = store.entry(a, theirs[0].id).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}
