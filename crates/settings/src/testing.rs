//! In-memory fakes of the settings port (feature `testing`): for the service's rules and
//! for trying the API. Nothing persists; every user exists.

use crate::model::{Profile, ProfilePatch, SettingChange, Settings};
use crate::ports::SettingsStore;
use ayubi_kernel::{StoreError, TimeZone, UserId, Write};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
struct State {
    settings: HashMap<UserId, Settings>,
    profiles: HashMap<UserId, Profile>,
    events: Vec<(UserId, &'static str)>,
}

/// Settings and profiles in memory; the events of its writes, in order.
#[derive(Debug, Default)]
pub struct MemorySettingsStore {
    state: Mutex<State>,
}

impl MemorySettingsStore {
    /// Empty.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The events recorded for `user`, oldest first.
    #[must_use]
    pub fn events(&self, user: UserId) -> Vec<&'static str> {
        let s = self.lock();
        s.events
            .iter()
            .filter(|(u, _)| *u == user)
            .map(|(_, e)| *e)
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn blank(user: UserId) -> Profile {
    Profile {
        email: format!("user{}@example.com", user.get()),
        display_name: None,
        timezone: TimeZone::UTC,
        steam_id: None,
        faceit_nickname: None,
    }
}

#[async_trait::async_trait]
impl SettingsStore for MemorySettingsStore {
    async fn settings(&self, user: UserId) -> Result<Settings, StoreError> {
        let s = self.lock();
        Ok(s.settings.get(&user).cloned().unwrap_or(Settings {
            timezone: TimeZone::UTC,
            stored: Default::default(),
        }))
    }

    async fn apply(
        &self,
        user: UserId,
        changes: &[SettingChange],
        max_keys: usize,
        write: Write,
    ) -> Result<Settings, StoreError> {
        let mut s = self.lock();
        let mut next = s.settings.get(&user).cloned().unwrap_or(Settings {
            timezone: TimeZone::UTC,
            stored: Default::default(),
        });
        for c in changes {
            match c {
                SettingChange::Timezone(tz) => next.timezone = tz.unwrap_or(TimeZone::UTC),
                SettingChange::Set { key, value } => {
                    next.stored.insert(key.clone(), value.clone());
                }
                SettingChange::Remove { key } => {
                    next.stored.remove(key);
                }
            }
        }
        if next.stored.len() > max_keys {
            return Err(StoreError::Conflict("too many settings".into()));
        }
        s.settings.insert(user, next.clone());
        s.events.push((user, write.event.name));
        Ok(next)
    }

    async fn profile(&self, user: UserId) -> Result<Profile, StoreError> {
        let s = self.lock();
        Ok(s.profiles
            .get(&user)
            .cloned()
            .unwrap_or_else(|| blank(user)))
    }

    async fn update_profile(
        &self,
        user: UserId,
        patch: &ProfilePatch,
        write: Write,
    ) -> Result<Profile, StoreError> {
        let mut s = self.lock();
        let mut p = s
            .profiles
            .get(&user)
            .cloned()
            .unwrap_or_else(|| blank(user));
        if let Some(v) = patch.display_name() {
            p.display_name = v.map(str::to_owned);
        }
        if let Some(tz) = patch.timezone() {
            p.timezone = tz;
        }
        if let Some(v) = patch.steam_id() {
            p.steam_id = v.map(str::to_owned);
        }
        if let Some(v) = patch.faceit_nickname() {
            p.faceit_nickname = v.map(str::to_owned);
        }
        s.profiles.insert(user, p.clone());
        s.events.push((user, write.event.name));
        Ok(p)
    }
}
