//! In-memory fakes of the journal port (feature `testing`): for the service's rules and
//! for trying the API. Search matches whole words, unranked; nothing persists.

use crate::model::{Entry, EntryFields, Filter};
use crate::ports::JournalStore;
use ayubi_kernel::{Event, StoreError, UserId, Write};
use chrono::{DateTime, Utc};
use std::sync::Mutex;

#[derive(Debug, Default)]
struct State {
    last_id: i64,
    entries: Vec<(UserId, Entry)>,
    events: Vec<(UserId, &'static str)>,
}

/// Entries in memory; the events of its writes, in order.
#[derive(Debug, Default)]
pub struct MemoryJournalStore {
    state: Mutex<State>,
}

impl MemoryJournalStore {
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

fn entry(id: i64, f: &EntryFields, created_at: DateTime<Utc>, now: DateTime<Utc>) -> Entry {
    Entry {
        id,
        title: f.title().map(str::to_owned),
        content: f.content().to_owned(),
        date: f.date(),
        mood: f.mood(),
        tags: f.tags().to_vec(),
        created_at,
        updated_at: now,
    }
}

fn matches(e: &Entry, filter: &Filter) -> bool {
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let text = [e.title.as_deref().unwrap_or_default(), &e.content].join(" ");
    let have = words(&text);
    filter.from.is_none_or(|d| e.date >= d)
        && filter.to.is_none_or(|d| e.date <= d)
        && filter.tag.as_ref().is_none_or(|t| e.tags.contains(t))
        && filter
            .terms
            .as_ref()
            .is_none_or(|t| t.words().iter().all(|w| have.contains(w)))
}

#[async_trait::async_trait]
impl JournalStore for MemoryJournalStore {
    async fn create(
        &self,
        user: UserId,
        f: &EntryFields,
        write: Write,
    ) -> Result<Entry, StoreError> {
        let mut s = self.lock();
        s.last_id += 1;
        let e = entry(s.last_id, f, write.now, write.now);
        s.entries.push((user, e.clone()));
        s.events.push((user, write.event.name));
        Ok(e)
    }

    async fn list(
        &self,
        user: UserId,
        filter: &Filter,
        limit: u32,
    ) -> Result<Vec<Entry>, StoreError> {
        let s = self.lock();
        let mut out: Vec<Entry> = s
            .entries
            .iter()
            .filter(|(u, e)| *u == user && matches(e, filter))
            .map(|(_, e)| e.clone())
            .collect();
        out.sort_by_key(|e| std::cmp::Reverse((e.date, e.id)));
        out.truncate(limit as usize);
        Ok(out)
    }

    async fn get(&self, user: UserId, id: i64) -> Result<Entry, StoreError> {
        let s = self.lock();
        s.entries
            .iter()
            .find(|(u, e)| *u == user && e.id == id)
            .map(|(_, e)| e.clone())
            .ok_or(StoreError::NotFound)
    }

    async fn update(
        &self,
        user: UserId,
        id: i64,
        f: &EntryFields,
        write: Write,
    ) -> Result<Entry, StoreError> {
        let mut s = self.lock();
        let Some((_, e)) = s.entries.iter_mut().find(|(u, e)| *u == user && e.id == id) else {
            return Err(StoreError::NotFound);
        };
        *e = entry(id, f, e.created_at, write.now);
        let e = e.clone();
        s.events.push((user, write.event.name));
        Ok(e)
    }

    async fn delete(
        &self,
        user: UserId,
        id: i64,
        event: Event,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let before = s.entries.len();
        s.entries.retain(|(u, e)| !(*u == user && e.id == id));
        if s.entries.len() == before {
            return Err(StoreError::NotFound);
        }
        s.events.push((user, event.name));
        Ok(())
    }
}
