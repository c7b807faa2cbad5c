//! Finance use cases.

use crate::error::{FinanceError, Result, invalid};
use crate::events;
use crate::model::*;
use crate::ports::FinanceStore;
use ayubi_kernel::{Clock, Limit, StoreError, UserId, UserTimeZones, Write, YearMonth};
use chrono::NaiveDate;
use std::sync::Arc;

/// An entry to create or replace: parsed by [`EntryInput::new`], so a service never sees
/// an invalid one. The currency and the day may be left out (the user's `currency`
/// setting; today in the user's zone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInput {
    kind: Kind,
    amount: Money,
    currency: Option<Currency>,
    category_id: Option<i64>,
    date: Option<NaiveDate>,
    note: Option<String>,
}

impl EntryInput {
    /// `kind` `income` or `expense`; `amount` in major units (positive, two decimals at
    /// most); `currency` ISO 4217; `note` at most 1000 characters.
    ///
    /// # Errors
    /// `Invalid` naming the first field at fault, in that order.
    pub fn new(
        kind: &str,
        amount: f64,
        currency: Option<&str>,
        category_id: Option<i64>,
        date: Option<NaiveDate>,
        note: Option<String>,
    ) -> Result<Self> {
        let kind = Kind::parse("kind", kind)?;
        let amount = Money::parse(amount)?;
        let currency = currency.map(Currency::parse).transpose()?;
        if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
            return Err(invalid("note", "must be at most 1000 characters"));
        }
        Ok(Self {
            kind,
            amount,
            currency,
            category_id,
            date,
            note,
        })
    }
}

/// The finance use cases.
#[derive(Debug, Clone)]
pub struct FinanceService {
    store: Arc<dyn FinanceStore>,
    zones: Arc<dyn UserTimeZones>,
    clock: Arc<dyn Clock>,
}

fn category_ref(e: StoreError) -> FinanceError {
    match e {
        StoreError::Conflict(what) if what == "category_id" => invalid(
            "category_id",
            "must be one of your categories of the same kind",
        ),
        other => other.into(),
    }
}

impl FinanceService {
    /// Wires the service.
    #[must_use]
    pub fn new(
        store: Arc<dyn FinanceStore>,
        zones: Arc<dyn UserTimeZones>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            zones,
            clock,
        }
    }

    fn write(&self, event: ayubi_kernel::Event) -> Write {
        Write::new(event, self.clock.now())
    }

    async fn fields(&self, user: UserId, input: EntryInput) -> Result<EntryFields> {
        let EntryInput {
            kind,
            amount,
            currency,
            ..
        } = input;
        let currency = match currency {
            Some(c) => c,
            None => self.store.default_currency(user).await?,
        };
        let date = match input.date {
            Some(d) => d,
            None => ayubi_kernel::today(&*self.zones, &*self.clock, user).await?,
        };
        EntryFields::new(kind, amount, currency, input.category_id, date, input.note)
    }

    /// Creates a category.
    ///
    /// # Errors
    /// `Invalid`; `Conflict` on a duplicate; `Store`.
    pub async fn create_category(&self, user: UserId, f: CategoryFields) -> Result<Category> {
        Ok(self
            .store
            .create_category(user, &f, self.write(events::CATEGORY_CREATED))
            .await?)
    }

    /// Categories.
    ///
    /// # Errors
    /// `Store`.
    pub async fn categories(&self, user: UserId, limit: Limit) -> Result<Vec<Category>> {
        Ok(self.store.categories(user, limit.get()).await?)
    }

    /// Replaces a category.
    ///
    /// # Errors
    /// `NotFound`; `Conflict`; `Store`.
    pub async fn update_category(
        &self,
        user: UserId,
        id: i64,
        f: CategoryFields,
    ) -> Result<Category> {
        Ok(self
            .store
            .update_category(user, id, &f, self.write(events::CATEGORY_UPDATED))
            .await?)
    }

    /// Deletes a category (409 while entries use it).
    ///
    /// # Errors
    /// `NotFound`; `Conflict`; `Store`.
    pub async fn delete_category(&self, user: UserId, id: i64) -> Result<()> {
        Ok(self
            .store
            .delete_category(user, id, events::CATEGORY_DELETED, self.clock.now())
            .await?)
    }

    /// Creates an entry.
    ///
    /// # Errors
    /// `Invalid` naming the field (an unknown `category_id` included); `Store`.
    pub async fn create_entry(&self, user: UserId, input: EntryInput) -> Result<Entry> {
        let f = self.fields(user, input).await?;
        self.store
            .create_entry(user, &f, self.write(events::CREATED))
            .await
            .map_err(category_ref)
    }

    /// Entries.
    ///
    /// # Errors
    /// `Invalid` on a reversed range; `Store`.
    pub async fn entries(
        &self,
        user: UserId,
        filter: EntryFilter,
        limit: Limit,
    ) -> Result<Vec<Entry>> {
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            return Err(invalid("from", "must not be after `to`"));
        }
        Ok(self.store.entries(user, filter, limit.get()).await?)
    }

    /// One entry.
    ///
    /// # Errors
    /// `NotFound`; `Store`.
    pub async fn entry(&self, user: UserId, id: i64) -> Result<Entry> {
        Ok(self.store.entry(user, id).await?)
    }

    /// Replaces an entry.
    ///
    /// # Errors
    /// As [`FinanceService::create_entry`], and `NotFound`.
    pub async fn update_entry(&self, user: UserId, id: i64, input: EntryInput) -> Result<Entry> {
        let f = self.fields(user, input).await?;
        self.store
            .update_entry(user, id, &f, self.write(events::UPDATED))
            .await
            .map_err(category_ref)
    }

    /// Deletes an entry.
    ///
    /// # Errors
    /// `NotFound`; `Store`.
    pub async fn delete_entry(&self, user: UserId, id: i64) -> Result<()> {
        Ok(self
            .store
            .delete_entry(user, id, events::DELETED, self.clock.now())
            .await?)
    }

    /// A month's summary in one currency (default: the user's).
    ///
    /// # Errors
    /// `Invalid` on `currency`; `Store`.
    pub async fn summary(
        &self,
        user: UserId,
        month: YearMonth,
        currency: Option<&str>,
    ) -> Result<Summary> {
        let range = month.days();
        let first = month.first_day();
        let currency = match currency {
            Some(c) => Currency::parse(c)?,
            None => self.store.default_currency(user).await?,
        };
        let mut by_category = self.store.totals(user, range, &currency).await?;
        by_category.sort_by(|a, b| {
            b.total
                .cmp(&a.total)
                .then(a.category_id.cmp(&b.category_id))
        });
        let sum = |k: Kind| {
            by_category
                .iter()
                .filter(|t| t.kind == k)
                .map(|t| t.total)
                .sum::<i64>()
        };
        Ok(Summary {
            month: first,
            income: sum(Kind::Income),
            expense: sum(Kind::Expense),
            currency,
            by_category,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryFinanceStore;
    use ayubi_kernel::{FixedZone, ManualClock, TimeZone};

    #[tokio::test]
    async fn entries_default_to_the_users_currency_and_day_and_the_summary_sums_one_currency() {
        let store = Arc::new(MemoryFinanceStore::new(Currency::parse("USD").unwrap()));
        let clock = Arc::new(ManualClock::new("2026-12-31T23:30:00Z".parse().unwrap()));
        let zone = Arc::new(FixedZone(TimeZone::parse("Asia/Tokyo").unwrap()));
        let s = FinanceService::new(store.clone(), zone, clock);
        let u = UserId::new(1);
        let food = s
            .create_category(u, CategoryFields::new("food", "expense").unwrap())
            .await
            .unwrap();
        let input =
            |kind, amount, cur, cat| EntryInput::new(kind, amount, cur, cat, None, None).unwrap();
        let e = s
            .create_entry(u, input("expense", 12.5, None, Some(food.id)))
            .await
            .unwrap();
        // The user's currency, and the user's day (already 2027 in Tokyo).
        assert_eq!(
            (e.currency.as_str(), e.date.to_string()),
            ("USD", "2027-01-01".to_owned())
        );
        s.create_entry(u, input("expense", 7.5, None, Some(food.id)))
            .await
            .unwrap();
        s.create_entry(u, input("income", 100.0, None, None))
            .await
            .unwrap();
        s.create_entry(u, input("expense", 50.0, Some("EUR"), None))
            .await
            .unwrap();
        let wrong_kind = s
            .create_entry(u, input("income", 1.0, None, Some(food.id)))
            .await;
        assert!(
            wrong_kind.is_err(),
            "an income cannot use an expense category"
        );

        let jan = YearMonth::parse("2027-01").unwrap();
        let sum = s.summary(u, jan, None).await.unwrap();
        assert_eq!((sum.income, sum.expense), (10_000, 2_000));
        assert_eq!(sum.by_category[0].total, 10_000, "largest first");
        let eur = s.summary(u, jan, Some("EUR")).await.unwrap();
        assert_eq!((eur.income, eur.expense), (0, 5_000));
        assert_eq!(store.events(u).len(), 5);
    }
}
