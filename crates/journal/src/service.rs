//! Journal use cases.

use crate::error::{Result, invalid};
use crate::events;
use crate::model::*;
use crate::ports::JournalStore;
use ayubi_kernel::{Clock, Limit, UserId, UserTimeZones, Write};
use chrono::NaiveDate;
use std::sync::Arc;

/// An entry to write: parsed by [`EntryInput::new`], so a service never sees an invalid
/// one. The day may be left out (today in the user's zone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInput {
    date: Option<NaiveDate>,
    fields: EntryFields,
}

impl EntryInput {
    /// `title` at most 200 characters (blank: none), `content` 1–100000 characters and
    /// not blank, `mood` 1–5, at most 20 `tags` of 1–50 characters.
    ///
    /// # Errors
    /// `Invalid` naming the first field at fault.
    pub fn new(
        title: Option<String>,
        content: String,
        date: Option<NaiveDate>,
        mood: Option<i64>,
        tags: Vec<String>,
    ) -> Result<Self> {
        Ok(Self {
            date,
            fields: EntryFields::new(title, content, date.unwrap_or_default(), mood, tags)?,
        })
    }
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
        Ok(i.fields.on(date))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::JournalError;
    use crate::testing::MemoryJournalStore;
    use ayubi_kernel::{FixedZone, ManualClock, TimeZone};

    fn input(content: &str) -> EntryInput {
        EntryInput::new(None, content.into(), None, None, vec![]).unwrap()
    }

    #[tokio::test]
    async fn an_undated_entry_is_about_the_users_today_and_searches_need_a_word() {
        let store = Arc::new(MemoryJournalStore::new());
        let clock = Arc::new(ManualClock::new("2026-12-07T23:30:00Z".parse().unwrap()));
        let zone = Arc::new(FixedZone(TimeZone::parse("Asia/Tokyo").unwrap()));
        let s = JournalService::new(store.clone(), zone, clock);
        let u = UserId::new(1);
        let e = s.create(u, input("quince jam")).await.unwrap();
        assert_eq!(e.date.to_string(), "2026-12-08");
        let all = Limit::default();
        let found = s
            .list(u, None, None, Some("Quince!"), None, all)
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        // No word in it: nothing, rather than everything.
        assert!(
            s.list(u, None, None, Some("?!"), None, all)
                .await
                .unwrap()
                .is_empty()
        );
        // Blank: no search at all.
        assert_eq!(
            s.list(u, None, None, Some("  "), None, all)
                .await
                .unwrap()
                .len(),
            1
        );
        let (later, earlier) = ("2026-12-09".parse().ok(), "2026-12-01".parse().ok());
        let reversed = s.list(u, later, earlier, None, None, all).await;
        assert!(
            matches!(reversed, Err(JournalError::Invalid { field: "from", .. })),
            "{reversed:?}"
        );
        assert!(matches!(
            s.get(UserId::new(2), e.id).await,
            Err(JournalError::NotFound)
        ));
        assert_eq!(store.events(u), ["journal:created"]);
    }
}
