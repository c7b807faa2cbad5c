//! Money, categories, entries and summaries.

use crate::error::{Result, invalid};
use chrono::{DateTime, NaiveDate, Utc};

/// Income or expense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Money in.
    Income,
    /// Money out.
    Expense,
}

impl Kind {
    /// Parses `income` / `expense`.
    ///
    /// # Errors
    /// `Invalid` on `field`.
    pub fn parse(field: &'static str, s: &str) -> Result<Self> {
        match s {
            "income" => Ok(Self::Income),
            "expense" => Ok(Self::Expense),
            _ => Err(invalid(field, "must be income or expense")),
        }
    }

    /// `income` / `expense`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Income => "income",
            Self::Expense => "expense",
        }
    }
}

/// An amount in minor units (cents): exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(i64);

impl Money {
    /// The largest amount of one entry (a billion).
    pub const MAX_MAJOR: f64 = 1_000_000_000.0;

    /// Parses a positive JSON number with at most two fraction digits.
    ///
    /// # Errors
    /// `Invalid` on `amount` for zero, negative, too large, or more than two decimals.
    pub fn parse(amount: f64) -> Result<Self> {
        if !amount.is_finite() || amount <= 0.0 {
            return Err(invalid("amount", "must be greater than 0"));
        }
        if amount > Self::MAX_MAJOR {
            return Err(invalid("amount", "must be at most 1000000000"));
        }
        let cents = (amount * 100.0).round();
        // 5e-324 is above zero but no cent: it would be stored as 0.00.
        if cents < 1.0 {
            return Err(invalid("amount", "must be greater than 0"));
        }
        // A binary double is never exactly 12.34; a real third decimal moves it by
        // ≥ 0.001 × 100 = 0.1, far above the representation error at this magnitude.
        if (cents - amount * 100.0).abs() > 1e-4 {
            return Err(invalid("amount", "must have at most 2 fraction digits"));
        }
        // Bounded above: fits i64.
        Ok(Self(cents as i64))
    }

    /// From stored minor units.
    #[must_use]
    pub fn from_minor(minor: i64) -> Self {
        Self(minor)
    }

    /// Minor units.
    #[must_use]
    pub fn minor(self) -> i64 {
        self.0
    }

    /// The JSON number clients see (`1234` → `12.34`).
    #[must_use]
    pub fn major(self) -> f64 {
        minor_to_major(self.0)
    }
}

/// Minor units as the JSON number clients see.
#[must_use]
pub fn minor_to_major(minor: i64) -> f64 {
    minor as f64 / 100.0
}

/// An ISO 4217 currency code, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Currency(String);

impl Currency {
    /// Parses a code, any case.
    ///
    /// # Errors
    /// `Invalid` on `currency`.
    pub fn parse(code: &str) -> Result<Self> {
        iso_currency::Currency::from_code(&code.trim().to_ascii_uppercase())
            .map(|c| Self(c.code().to_owned()))
            .ok_or_else(|| invalid("currency", "must be an ISO 4217 currency code such as EUR"))
    }

    /// Every code [`Currency::parse`] accepts, upper case, sorted (for the API's
    /// document). iso_currency lists them only behind its `iterator` feature (strum), so
    /// the three-letter space is asked instead: 17,576 lookups, once.
    pub fn codes() -> impl Iterator<Item = &'static str> {
        (b'A'..=b'Z').flat_map(|a| {
            (b'A'..=b'Z').flat_map(move |b| {
                (b'A'..=b'Z').filter_map(move |c| {
                    let code = [a, b, c];
                    let code = std::str::from_utf8(&code).ok()?;
                    iso_currency::Currency::from_code(code).map(|c| c.code())
                })
            })
        })
    }

    /// Wraps a stored code.
    #[must_use]
    pub fn from_trusted(code: String) -> Self {
        Self(code)
    }

    /// The code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Id.
    pub id: i64,
    /// Name, unique per user and kind.
    pub name: String,
    /// Income or expense.
    pub kind: Kind,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A category's editable fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryFields {
    name: String,
    kind: Kind,
}

impl CategoryFields {
    /// Parses a category.
    ///
    /// # Errors
    /// `Invalid` on `name` or `kind`.
    pub fn new(name: &str, kind: &str) -> Result<Self> {
        // The length as sent (the API document can state that one), emptiness once trimmed.
        let sent = name.chars().count();
        let name = name.trim();
        if name.is_empty() || sent > 100 {
            return Err(invalid("name", "must be between 1 and 100 characters"));
        }
        Ok(Self {
            name: name.to_owned(),
            kind: Kind::parse("kind", kind)?,
        })
    }

    /// 1–100 characters, trimmed.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Kind.
    #[must_use]
    pub fn kind(&self) -> Kind {
        self.kind
    }
}

/// An entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Id.
    pub id: i64,
    /// Income or expense.
    pub kind: Kind,
    /// Amount.
    pub amount: Money,
    /// Currency.
    pub currency: Currency,
    /// Category, if any.
    pub category_id: Option<i64>,
    /// The day.
    pub date: NaiveDate,
    /// Note.
    pub note: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// An entry's editable fields, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFields {
    kind: Kind,
    amount: Money,
    currency: Currency,
    category_id: Option<i64>,
    date: NaiveDate,
    note: Option<String>,
}

impl EntryFields {
    /// Assembles an entry's fields: `note` at most 1000 characters.
    ///
    /// # Errors
    /// `Invalid` on `note`.
    pub fn new(
        kind: Kind,
        amount: Money,
        currency: Currency,
        category_id: Option<i64>,
        date: NaiveDate,
        note: Option<String>,
    ) -> Result<Self> {
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

    /// Kind.
    #[must_use]
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Amount.
    #[must_use]
    pub fn amount(&self) -> Money {
        self.amount
    }

    /// Currency.
    #[must_use]
    pub fn currency(&self) -> &Currency {
        &self.currency
    }

    /// Category.
    #[must_use]
    pub fn category_id(&self) -> Option<i64> {
        self.category_id
    }

    /// The day.
    #[must_use]
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// ≤ 1000 characters.
    #[must_use]
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
}

/// List filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntryFilter {
    /// First day.
    pub from: Option<NaiveDate>,
    /// Last day.
    pub to: Option<NaiveDate>,
    /// Only this category.
    pub category_id: Option<i64>,
    /// Only this kind.
    pub kind: Option<Kind>,
}

/// A category's total in a summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryTotal {
    /// The category (`None`: uncategorised).
    pub category_id: Option<i64>,
    /// Its name.
    pub name: Option<String>,
    /// Kind.
    pub kind: Kind,
    /// Sum in minor units.
    pub total: i64,
}

/// A month's totals in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// First day of the month.
    pub month: NaiveDate,
    /// The currency summed.
    pub currency: Currency,
    /// Income (minor units).
    pub income: i64,
    /// Expense (minor units).
    pub expense: i64,
    /// Per category, largest first.
    pub by_category: Vec<CategoryTotal>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact_to_the_cent() {
        assert_eq!(Money::parse(12.34).unwrap().minor(), 1234);
        assert_eq!(Money::parse(0.01).unwrap().minor(), 1);
        assert_eq!(
            Money::parse(0.1).unwrap().minor() + Money::parse(0.2).unwrap().minor(),
            30
        );
        assert_eq!(
            Money::parse(999_999_999.99).unwrap().minor(),
            99_999_999_999
        );
        assert_eq!(Money::parse(5.0).unwrap().major(), 5.0);
        for bad in [0.0, -1.0, 12.345, 0.001, 1e10, f64::NAN] {
            assert!(Money::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn currencies_and_kinds() {
        assert_eq!(Currency::parse("usd").unwrap().as_str(), "USD");
        assert!(Currency::parse("EURO").is_err());
        assert!(Kind::parse("kind", "income").is_ok());
        assert!(Kind::parse("kind", "gift").is_err());
    }
}
