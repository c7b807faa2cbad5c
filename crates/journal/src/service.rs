//! Journal use cases.

use crate::error::{Result, invalid};
use crate::events;
use crate::model::*;
use crate::ports::JournalStore;
use ayubi_kernel::{Clock, Limit, UserId, UserTimeZones, Write};
use chrono::NaiveDate;
use std::sync::Arc;

/// What a client sends, before parsing.
#[derive(Debug, Clone)]
pub struct EntryInput {
    /// Title.
    pub title: Option<String>,
    /// Content.
    pub content: String,
    /// Day (default today in the user's zone).
    pub date: Option<NaiveDate>,
    /// Mood.
    pub mood: Option<i64>,
    /// Tags.
    pub tags: Vec<String>,
}

/// The journal use cases.
#[derive(Debug, Clone)]
pub struct JournalService {
    store: Arc<dyn JournalStore>,
    zones: Arc<dyn UserTimeZones>,
    clock: Arc<dyn Clock>,
}

impl JournalService {
    /// Wires the service.
    #[must_use]
    pub fn new(
        store: Arc<dyn JournalStore>,
        zones: Arc<dyn UserTimeZones>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            zones,
            clock,
        }
    }

    async fn fields(&self, user: UserId, i: EntryInput) -> Result<EntryFields> {
        let date = match i.date {
            Some(d) => d,
            None => ayubi_kernel::today(&*self.zones, &*self.clock, user).await?,
        };
        EntryFields::new(i.title, i.content, date, i.mood, i.tags)
    }

    fn write(&self, event: ayubi_kernel::Event) -> Write {
        Write::new(event, self.clock.now())
    }

    /// Writes an entry.
    ///
    /// # Errors
    /// `Invalid` naming the field; `Store`.
    pub async fn create(&self, user: UserId, input: EntryInput) -> Result<Entry> {
        let f = self.fields(user, input).await?;
        Ok(self
            .store
            .create(user, &f, self.write(events::CREATED))
            .await?)
    }

    /// Lists or searches entries.
    ///
    /// # Errors
    /// `Invalid` on a reversed range; `Store`. A `q` with no word in it finds nothing;
    /// a blank one is no search.
    pub async fn list(
        &self,
        user: UserId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        q: Option<&str>,
        tag: Option<String>,
        limit: Limit,
    ) -> Result<Vec<Entry>> {
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(invalid("from", "must not be after `to`"));
        }
        let terms = match q.map(str::trim).filter(|q| !q.is_empty()) {
            None => None,
            Some(q) => match SearchTerms::parse(q) {
                Some(terms) => Some(terms),
                None => return Ok(Vec::new()),
            },
        };
        let filter = Filter {
            from,
            to,
            terms,
            tag,
        };
        Ok(self.store.list(user, &filter, limit.get()).await?)
    }

    /// One entry.
    ///
    /// # Errors
    /// `NotFound`; `Store`.
    pub async fn get(&self, user: UserId, id: i64) -> Result<Entry> {
        Ok(self.store.get(user, id).await?)
    }

    /// Replaces an entry.
    ///
    /// # Errors
    /// `Invalid`; `NotFound`; `Store`.
    pub async fn update(&self, user: UserId, id: i64, input: EntryInput) -> Result<Entry> {
        let f = self.fields(user, input).await?;
        Ok(self
            .store
            .update(user, id, &f, self.write(events::UPDATED))
            .await?)
    }

    /// Deletes an entry.
    ///
    /// # Errors
    /// `NotFound`; `Store`.
    pub async fn delete(&self, user: UserId, id: i64) -> Result<()> {
        Ok(self
            .store
            .delete(user, id, events::DELETED, self.clock.now())
            .await?)
    }
}
