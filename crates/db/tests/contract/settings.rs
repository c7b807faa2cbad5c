//! `SettingsStore` (`SqlSettingsStore`): all of a patch or none of it (the key limit is
//! checked in the transaction), one change per patch, per user.

use crate::harness::{TestDb, write};
use ayubi_db::{Representations, SqlSettingsStore};
use ayubi_kernel::StoreError;
use ayubi_settings::ports::SettingsStore;
use ayubi_settings::{Settings, events, parse_changes};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn patch(v: Value) -> Vec<ayubi_settings::SettingChange> {
    let map: BTreeMap<String, Value> = serde_json::from_value(v).unwrap();
    parse_changes(map).unwrap()
}

#[tokio::test]
async fn a_patch_applies_whole_or_not_at_all_and_is_one_change() {
    let t = TestDb::new(Representations::new().with(|s: &Settings| json!(s.stored))).await;
    let store = SqlSettingsStore::new(t.db.clone());
    let (a, b) = (t.user("a@example.com").await, t.user("b@example.com").await);
    let w = || write(events::SETTINGS_UPDATED);
    let s = store
        .apply(
            a,
            &patch(json!({"theme": "dark", "x.one": 1, "timezone": "Asia/Tokyo"})),
            3,
            w(),
        )
        .await
        .unwrap();
    assert_eq!(s.timezone.name(), "Asia/Tokyo");
    assert_eq!(s.stored.get("x.one"), Some(&json!(1)));
    // Two more keys would make four: refused, and nothing of the patch is kept.
    let err = store
        .apply(
            a,
            &patch(json!({"x.two": 2, "x.three": 3, "theme": "light"})),
            3,
            w(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let now = store.settings(a).await.unwrap();
    assert_eq!(now.stored.get("theme"), Some(&json!("dark")));
    assert!(!now.stored.contains_key("x.two"));
    let log = t.log(a).await;
    assert_eq!(log.len(), 1, "the refused patch recorded nothing");
    assert_eq!(
        log[0].2["x.one"], 1,
        "the change carries the resulting settings"
    );
    // Removing a key frees its place; another user's settings are their own.
    store
        .apply(a, &patch(json!({"x.one": null, "x.two": 2})), 3, w())
        .await
        .unwrap();
    assert!(store.settings(b).await.unwrap().stored.is_empty());
}
