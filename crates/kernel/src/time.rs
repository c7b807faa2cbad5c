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
