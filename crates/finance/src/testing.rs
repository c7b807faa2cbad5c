//! In-memory fakes of the finance port (feature `testing`): for the service's rules and
//! for trying the API. Nothing persists.

use crate::model::{
    Category, CategoryFields, CategoryTotal, Currency, Entry, EntryFields, EntryFilter,
};
use crate::ports::FinanceStore;
use ayubi_kernel::{DateRange, Event, StoreError, UserId, Write};
use chrono::{DateTime, Utc};
use std::sync::Mutex;

#[derive(Debug)]
struct State {
    last_id: i64,
    categories: Vec<(UserId, Category)>,
    entries: Vec<(UserId, Entry)>,
    currency: Currency,
    events: Vec<(UserId, &'static str)>,
}

/// Categories and entries in memory; the events of its writes, in order.
#[derive(Debug)]
pub struct MemoryFinanceStore {
    state: Mutex<State>,
}

impl MemoryFinanceStore {
    /// Empty; `currency` is every user's `currency` setting.
    #[must_use]
    pub fn new(currency: Currency) -> Self {
        Self {
            state: Mutex::new(State {
                last_id: 0,
                categories: Vec::new(),
                entries: Vec::new(),
                currency,
                events: Vec::new(),
            }),
        }
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

impl State {
    fn id(&mut self) -> i64 {
        self.last_id += 1;
        self.last_id
    }

    /// The port's rule: the category must be the user's own and of the entry's kind.
    fn check_category(&self, user: UserId, f: &EntryFields) -> Result<(), StoreError> {
        match f.category_id() {
            None => Ok(()),
            Some(id)
                if self
                    .categories
                    .iter()
                    .any(|(u, c)| *u == user && c.id == id && c.kind == f.kind()) =>
            {
                Ok(())
            }
            Some(_) => Err(StoreError::Conflict("category_id".into())),
        }
    }

    fn entry(
        &self,
        id: i64,
        f: &EntryFields,
        created_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Entry {
        Entry {
            id,
            kind: f.kind(),
            amount: f.amount(),
            currency: f.currency().clone(),
            category_id: f.category_id(),
            date: f.date(),
            note: f.note().map(str::to_owned),
            created_at,
            updated_at: now,
        }
    }
}

#[async_trait::async_trait]
impl FinanceStore for MemoryFinanceStore {
    async fn create_category(
        &self,
        user: UserId,
        f: &CategoryFields,
        write: Write,
    ) -> Result<Category, StoreError> {
        let mut s = self.lock();
        if s.categories
            .iter()
            .any(|(u, c)| *u == user && c.name == f.name() && c.kind == f.kind())
        {
            return Err(StoreError::Conflict("name".into()));
        }
        let c = Category {
            id: s.id(),
            name: f.name().to_owned(),
            kind: f.kind(),
            created_at: write.now,
            updated_at: write.now,
        };
        s.categories.push((user, c.clone()));
        s.events.push((user, write.event.name));
        Ok(c)
    }

    async fn categories(&self, user: UserId, limit: u32) -> Result<Vec<Category>, StoreError> {
        let s = self.lock();
        let mut out: Vec<Category> = s
            .categories
            .iter()
            .filter(|(u, _)| *u == user)
            .map(|(_, c)| c.clone())
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out.truncate(limit as usize);
        Ok(out)
    }

    async fn update_category(
        &self,
        user: UserId,
        id: i64,
        f: &CategoryFields,
        write: Write,
    ) -> Result<Category, StoreError> {
        let mut s = self.lock();
        let Some((_, c)) = s
            .categories
            .iter_mut()
            .find(|(u, c)| *u == user && c.id == id)
        else {
            return Err(StoreError::NotFound);
        };
        c.name = f.name().to_owned();
        c.kind = f.kind();
        c.updated_at = write.now;
        let c = c.clone();
        s.events.push((user, write.event.name));
        Ok(c)
    }

    async fn delete_category(
        &self,
        user: UserId,
        id: i64,
        event: Event,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.categories.iter().any(|(u, c)| *u == user && c.id == id) {
            return Err(StoreError::NotFound);
        }
        if s.entries
            .iter()
            .any(|(u, e)| *u == user && e.category_id == Some(id))
        {
            return Err(StoreError::Conflict("the category has entries".into()));
        }
        s.categories.retain(|(u, c)| !(*u == user && c.id == id));
        s.events.push((user, event.name));
        Ok(())
    }

    async fn create_entry(
        &self,
        user: UserId,
        f: &EntryFields,
        write: Write,
    ) -> Result<Entry, StoreError> {
        let mut s = self.lock();
        s.check_category(user, f)?;
        let id = s.id();
        let e = s.entry(id, f, write.now, write.now);
        s.entries.push((user, e.clone()));
        s.events.push((user, write.event.name));
        Ok(e)
    }

    async fn entries(
        &self,
        user: UserId,
        filter: EntryFilter,
        limit: u32,
    ) -> Result<Vec<Entry>, StoreError> {
        let s = self.lock();
        let mut out: Vec<Entry> = s
            .entries
            .iter()
            .filter(|(u, e)| {
                *u == user
                    && filter.from.is_none_or(|d| e.date >= d)
                    && filter.to.is_none_or(|d| e.date <= d)
                    && filter.category_id.is_none_or(|c| e.category_id == Some(c))
                    && filter.kind.is_none_or(|k| e.kind == k)
            })
            .map(|(_, e)| e.clone())
            .collect();
        out.sort_by_key(|e| std::cmp::Reverse((e.date, e.id)));
        out.truncate(limit as usize);
        Ok(out)
    }

    async fn entry(&self, user: UserId, id: i64) -> Result<Entry, StoreError> {
        let s = self.lock();
        s.entries
            .iter()
            .find(|(u, e)| *u == user && e.id == id)
            .map(|(_, e)| e.clone())
            .ok_or(StoreError::NotFound)
    }

    async fn update_entry(
        &self,
        user: UserId,
        id: i64,
        f: &EntryFields,
        write: Write,
    ) -> Result<Entry, StoreError> {
        let mut s = self.lock();
        s.check_category(user, f)?;
        let Some(created) = s
            .entries
            .iter()
            .find(|(u, e)| *u == user && e.id == id)
            .map(|(_, e)| e.created_at)
        else {
            return Err(StoreError::NotFound);
        };
        let e = s.entry(id, f, created, write.now);
        if let Some((_, old)) = s.entries.iter_mut().find(|(u, e)| *u == user && e.id == id) {
            *old = e.clone();
        }
        s.events.push((user, write.event.name));
        Ok(e)
    }

    async fn delete_entry(
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

    async fn totals(
        &self,
        user: UserId,
        range: DateRange,
        currency: &Currency,
    ) -> Result<Vec<CategoryTotal>, StoreError> {
        let s = self.lock();
        let mut out: Vec<CategoryTotal> = Vec::new();
        for (_, e) in s
            .entries
            .iter()
            .filter(|(u, e)| *u == user && range.contains(e.date) && &e.currency == currency)
        {
            match out
                .iter_mut()
                .find(|t| t.category_id == e.category_id && t.kind == e.kind)
            {
                Some(t) => t.total += e.amount.minor(),
                None => out.push(CategoryTotal {
                    category_id: e.category_id,
                    name: e.category_id.and_then(|id| {
                        s.categories
                            .iter()
                            .find(|(_, c)| c.id == id)
                            .map(|(_, c)| c.name.clone())
                    }),
                    kind: e.kind,
                    total: e.amount.minor(),
                }),
            }
        }
        Ok(out)
    }

    async fn default_currency(&self, _user: UserId) -> Result<Currency, StoreError> {
        Ok(self.lock().currency.clone())
    }
}
