use chrono::{DateTime, NaiveDate, Utc};
use std::fmt;

/// A user's IANA time zone (`Europe/Berlin`), default UTC. "Today" for a user is today in
/// this zone, for every module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

/// A name that is not in the IANA time zone database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an IANA time zone name such as Europe/Berlin")]
pub struct UnknownTimeZone;

impl TimeZone {
    /// UTC.
    pub const UTC: Self = Self(chrono_tz::UTC);

    /// Parses an IANA name (case-sensitive, as the database spells it).
    ///
    /// # Errors
    /// [`UnknownTimeZone`].
    pub fn parse(name: &str) -> Result<Self, UnknownTimeZone> {
        name.parse::<chrono_tz::Tz>()
            .map(Self)
            .map_err(|_| UnknownTimeZone)
    }

    /// The calendar date at `now` in this zone.
    #[must_use]
    pub fn today(self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.0).date_naive()
    }

    /// The IANA name.
    #[must_use]
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// Every name [`TimeZone::parse`] accepts.
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self::UTC
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An inclusive range of calendar dates, `from <= to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    from: NaiveDate,
    to: NaiveDate,
}

/// Why a date range was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateRangeError {
    /// `from` is after `to`.
    #[error("must not be after `to`")]
    Reversed,
    /// The range covers more days than allowed.
    #[error("the range may cover at most {0} days")]
    TooLong(i64),
}

impl DateRange {
    /// A range of one day.
    #[must_use]
    pub fn day(date: NaiveDate) -> Self {
        Self {
            from: date,
            to: date,
        }
    }

    /// `from..=to`.
    ///
    /// # Errors
    /// [`DateRangeError::Reversed`] when `from > to`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, DateRangeError> {
        if from > to {
            return Err(DateRangeError::Reversed);
        }
        Ok(Self { from, to })
    }

    /// Refuses ranges longer than `max_days` days.
    ///
    /// # Errors
    /// [`DateRangeError::TooLong`].
    pub fn at_most(self, max_days: i64) -> Result<Self, DateRangeError> {
        if self.days() > max_days {
            return Err(DateRangeError::TooLong(max_days));
        }
        Ok(self)
    }

    /// First day.
    #[must_use]
    pub fn from(self) -> NaiveDate {
        self.from
    }

    /// Last day.
    #[must_use]
    pub fn to(self) -> NaiveDate {
        self.to
    }

    /// Whether `day` is in the range (both ends included).
    #[must_use]
    pub fn contains(self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }

    /// How many days the range covers.
    #[must_use]
    pub fn days(self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// Every day, oldest first.
    pub fn iter(self) -> impl Iterator<Item = NaiveDate> {
        self.from.iter_days().take_while(move |d| *d <= self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    #[test]
    fn today_depends_on_the_zone() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let kiritimati = TimeZone::parse("Pacific/Kiritimati").unwrap();
        let pago = TimeZone::parse("Pacific/Pago_Pago").unwrap();
        assert_eq!(kiritimati.today(now).to_string(), "2026-11-27");
        assert_eq!(pago.today(now).to_string(), "2026-11-26");
        assert_eq!(TimeZone::UTC.today(now).to_string(), "2026-11-26");
        assert!(TimeZone::parse("Mars/Olympus").is_err());
        assert!(TimeZone::parse("").is_err());
    }

    #[test]
    fn ranges() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let r = DateRange::new(d("2024-01-01"), d("2024-12-31")).unwrap();
        assert_eq!(r.days(), 366);
        assert!(r.at_most(366).is_ok());
        assert_eq!(
            DateRange::new(d("2024-01-01"), d("2025-01-01"))
                .unwrap()
                .at_most(366),
            Err(DateRangeError::TooLong(366))
        );
        assert_eq!(
            DateRange::new(d("2024-01-02"), d("2024-01-01")),
            Err(DateRangeError::Reversed)
        );
        assert_eq!(DateRange::day(d("2024-02-28")).iter().count(), 1);
        assert_eq!(r.iter().last(), Some(d("2024-12-31")));
    }
}

/// A calendar month, written `YYYY-MM` (years 0000–9999, as the pattern the API document
/// states allows; chrono's proleptic calendar has a year 0).
///
/// It deserializes from that text, so a query such as `?month=June` fails to parse (the
/// app's 400) rather than reaching a rule (422).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct YearMonth {
    first: NaiveDate,
}

/// Text that is not a `YYYY-MM` month.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a month written YYYY-MM, such as 2026-06")]
pub struct YearMonthError;

impl YearMonth {
    /// Parses `YYYY-MM` exactly (four-digit year, two-digit month 01–12).
    ///
    /// # Errors
    /// [`YearMonthError`] for anything else.
    pub fn parse(text: &str) -> Result<Self, YearMonthError> {
        let bytes = text.as_bytes();
        let digits = |r: std::ops::Range<usize>| bytes[r].iter().all(u8::is_ascii_digit);
        if bytes.len() != 7 || bytes[4] != b'-' || !digits(0..4) || !digits(5..7) {
            return Err(YearMonthError);
        }
        let year: i32 = text[..4].parse().map_err(|_| YearMonthError)?;
        let month: u32 = text[5..].parse().map_err(|_| YearMonthError)?;
        NaiveDate::from_ymd_opt(year, month, 1)
            .map(|first| Self { first })
            .ok_or(YearMonthError)
    }

    /// Its first day.
    #[must_use]
    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    /// Its last day.
    #[must_use]
    pub fn last_day(self) -> NaiveDate {
        self.first
            .checked_add_months(chrono::Months::new(1))
            .and_then(|next| next.pred_opt())
            .unwrap_or(NaiveDate::MAX)
    }

    /// Its days as an inclusive range.
    #[must_use]
    pub fn days(self) -> DateRange {
        DateRange {
            from: self.first_day(),
            to: self.last_day(),
        }
    }
}

impl TryFrom<String> for YearMonth {
    type Error = YearMonthError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first.format("%Y-%m"))
    }
}

#[cfg(test)]
mod year_month_tests {
    use super::*;

    #[test]
    fn parses_only_yyyy_mm() {
        let m = YearMonth::parse("2026-02").unwrap();
        assert_eq!(m.to_string(), "2026-02");
        assert_eq!(m.first_day(), NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
        assert_eq!(m.last_day(), NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
        assert_eq!(
            YearMonth::parse("9999-12").unwrap().last_day(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap()
        );
        // The document's pattern allows year 0000; chrono's calendar has it.
        assert_eq!(YearMonth::parse("0000-01").unwrap().to_string(), "0000-01");
        for bad in [
            "June",
            "2026-13",
            "2026-00",
            "2026-1",
            "26-01",
            "2026-01-01",
            "+202-01",
            "２０２６-01",
        ] {
            assert_eq!(YearMonth::parse(bad), Err(YearMonthError), "{bad}");
        }
    }
}
