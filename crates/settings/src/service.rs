//! Settings and profile use cases.

use crate::error::{Result, SettingsError};
use crate::events;
use crate::model::*;
use crate::ports::SettingsStore;
use ayubi_kernel::{Clock, StoreError, UserId, Write};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Settings to merge: every key checked by [`SettingsPatch::parse`] (a `null` removes a
/// key), so a service never sees an invalid one.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsPatch {
    changes: Vec<SettingChange>,
    /// Keys set (not removed), for naming the one past the limit.
    new_keys: Vec<String>,
}

impl SettingsPatch {
    /// Parses what a client sent: known keys against their rules, free-form keys as
    /// JSON, `timezone` as an IANA zone.
    ///
    /// # Errors
    /// `Invalid` naming every bad key.
    pub fn parse(patch: BTreeMap<String, Value>) -> Result<Self> {
        let new_keys = patch
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, _)| k.clone())
            .collect();
        Ok(Self {
            changes: parse_changes(patch)?,
            new_keys,
        })
    }
}

/// The settings use cases.
#[derive(Debug, Clone)]
pub struct SettingsService {
    store: Arc<dyn SettingsStore>,
    clock: Arc<dyn Clock>,
}

impl SettingsService {
    /// Wires the service.
    #[must_use]
    pub fn new(store: Arc<dyn SettingsStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Every setting, defaults filled in.
    ///
    /// # Errors
    /// `Store`.
    pub async fn settings(&self, user: UserId) -> Result<Settings> {
        Ok(self.store.settings(user).await?)
    }

    /// Merges a patch: values set, `null` deletes a free-form key or resets a known one.
    /// All or nothing.
    ///
    /// # Errors
    /// `Invalid` naming every bad key, or the first new key past the 200-key limit;
    /// `Store`.
    pub async fn update(&self, user: UserId, patch: SettingsPatch) -> Result<Settings> {
        let SettingsPatch { changes, new_keys } = patch;
        let write = Write::new(events::SETTINGS_UPDATED, self.clock.now());
        match self.store.apply(user, &changes, MAX_KEYS, write).await {
            Ok(s) => Ok(s),
            Err(StoreError::Conflict(_)) => Err(SettingsError::Invalid(
                new_keys
                    .into_iter()
                    .take(1)
                    .map(|k| (k, format!("a user may store at most {MAX_KEYS} settings")))
                    .collect(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The profile.
    ///
    /// # Errors
    /// `Store`.
    pub async fn profile(&self, user: UserId) -> Result<Profile> {
        Ok(self.store.profile(user).await?)
    }

    /// Updates the fields sent.
    ///
    /// # Errors
    /// `Invalid` naming each bad field; `Store`.
    pub async fn update_profile(&self, user: UserId, patch: ProfilePatch) -> Result<Profile> {
        let write = Write::new(events::PROFILE_UPDATED, self.clock.now());
        Ok(self.store.update_profile(user, &patch, write).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemorySettingsStore;
    use ayubi_kernel::ManualClock;

    fn patch(v: Value) -> SettingsPatch {
        SettingsPatch::parse(serde_json::from_value(v).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn past_the_key_limit_the_first_new_key_is_named_and_nothing_is_kept() {
        let store = Arc::new(MemorySettingsStore::new());
        let clock = Arc::new(ManualClock::new("2026-12-07T12:00:00Z".parse().unwrap()));
        let s = SettingsService::new(store.clone(), clock);
        let u = UserId::new(1);
        let mut many = serde_json::Map::new();
        for i in 0..MAX_KEYS {
            many.insert(format!("app.k{i:03}"), Value::from(i));
        }
        s.update(u, patch(Value::Object(many))).await.unwrap();
        let over = s.update(u, patch(serde_json::json!({"app.zzz": 1}))).await;
        let Err(SettingsError::Invalid(fields)) = over else {
            panic!("expected the limit, got {over:?}")
        };
        assert_eq!(fields[0].0, "app.zzz");
        assert!(!s.settings(u).await.unwrap().stored.contains_key("app.zzz"));
        // Removing one frees its place.
        s.update(
            u,
            patch(serde_json::json!({"app.k000": null, "app.zzz": 1})),
        )
        .await
        .unwrap();
        assert_eq!(store.events(u).len(), 2);
    }
}
