//! Wishlist entries, visits and stats.

use crate::catalog::{self, Continent, Country};
use crate::error::{Result, TravelError};
use chrono::{DateTime, NaiveDate, Utc};

/// Parses a client's country code.
///
/// # Errors
/// `Invalid` on `country_iso3` when it is not a code of the catalogue.
pub fn parse_country(code: &str) -> Result<&'static Country> {
    catalog::country(code.trim()).ok_or_else(|| TravelError::Invalid {
        field: "country_iso3",
        message: "must be an ISO 3166-1 alpha-3 country code".into(),
    })
}

/// A country on the wishlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WishlistItem {
    /// The country.
    pub country: &'static Country,
    /// When it was added.
    pub added_at: DateTime<Utc>,
}

/// A visited country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    /// The country.
    pub country: &'static Country,
    /// When (optional).
    pub visit_date: Option<NaiveDate>,
    /// Free text, ≤ 10000 characters.
    pub notes: Option<String>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// A visit to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisit {
    country: &'static Country,
    visit_date: Option<NaiveDate>,
    notes: Option<String>,
}

impl NewVisit {
    /// Parses a visit.
    ///
    /// # Errors
    /// `Invalid` on `country_iso3` or `notes` (over 10000 characters).
    pub fn new(code: &str, visit_date: Option<NaiveDate>, notes: Option<String>) -> Result<Self> {
        let country = parse_country(code)?;
        if notes.as_ref().is_some_and(|n| n.chars().count() > 10_000) {
            return Err(TravelError::Invalid {
                field: "notes",
                message: "must be at most 10000 characters".into(),
            });
        }
        Ok(Self {
            country,
            visit_date,
            notes,
        })
    }

    /// The country.
    #[must_use]
    pub fn country(&self) -> &'static Country {
        self.country
    }

    /// When (optional).
    #[must_use]
    pub fn visit_date(&self) -> Option<NaiveDate> {
        self.visit_date
    }

    /// Notes.
    #[must_use]
    pub fn notes(&self) -> Option<&str> {
        self.notes.as_deref()
    }

    /// The visit as stored at `now`.
    #[must_use]
    pub fn at(self, now: DateTime<Utc>) -> Visit {
        Visit {
            country: self.country,
            visit_date: self.visit_date,
            notes: self.notes,
            created_at: now,
        }
    }
}

/// A country to put on the wishlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewWish {
    country: &'static Country,
}

impl NewWish {
    /// Parses the country code (ISO 3166-1 alpha-3, any case).
    ///
    /// # Errors
    /// `Invalid` on `country_iso3` for an unknown code.
    pub fn new(code: &str) -> Result<Self> {
        Ok(Self {
            country: parse_country(code)?,
        })
    }

    /// The country.
    #[must_use]
    pub fn country(&self) -> &'static Country {
        self.country
    }
}

/// Counts for one continent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContinentStats {
    /// The continent.
    pub continent: Continent,
    /// Visited countries on it.
    pub visited: usize,
    /// Wishlisted countries on it.
    pub wishlist: usize,
    /// Countries on it in the catalogue.
    pub total: usize,
}

/// Stats over both lists.
#[derive(Debug, Clone, PartialEq)]
pub struct TravelStats {
    /// Visited countries.
    pub visited_count: usize,
    /// Wishlisted countries.
    pub wishlist_count: usize,
    /// Every code the catalogue accepts.
    pub total_countries: usize,
    /// All seven continents, zeros included.
    pub continents: Vec<ContinentStats>,
}

impl TravelStats {
    /// Computes the stats from the two lists' codes (read together), so the counts agree
    /// with the lists by construction.
    #[must_use]
    pub fn from_codes(visited: &[String], wishlist: &[String]) -> Self {
        let on = |codes: &[String], continent| {
            codes
                .iter()
                .filter_map(|c| catalog::country(c))
                .filter(|c| c.continent == continent)
                .count()
        };
        let continents = Continent::ALL
            .iter()
            .map(|&continent| ContinentStats {
                continent,
                visited: on(visited, continent),
                wishlist: on(wishlist, continent),
                total: catalog::all().filter(|c| c.continent == continent).count(),
            })
            .collect();
        Self {
            visited_count: visited.len(),
            wishlist_count: wishlist.len(),
            total_countries: catalog::total(),
            continents,
        }
    }
}

/// `part / whole` as a percentage with one decimal.
#[must_use]
pub fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    (part as f64 * 1000.0 / whole as f64).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_sum_to_the_lists() {
        let visited = vec!["JPN".to_owned(), "FRA".to_owned(), "BRA".to_owned()];
        let wish = vec!["AUS".to_owned()];
        let s = TravelStats::from_codes(&visited, &wish);
        assert_eq!(s.visited_count, 3);
        assert_eq!(s.continents.len(), 7);
        assert_eq!(s.continents.iter().map(|c| c.visited).sum::<usize>(), 3);
        assert_eq!(s.continents.iter().map(|c| c.wishlist).sum::<usize>(), 1);
        assert_eq!(s.continents.iter().map(|c| c.total).sum::<usize>(), 249);
        assert_eq!(percent(1, 3), 33.3);
        assert_eq!(percent(0, 0), 0.0);
    }

    #[test]
    fn notes_are_bounded() {
        assert!(NewVisit::new("jpn", None, Some("x".repeat(10_000))).is_ok());
        assert!(NewVisit::new("jpn", None, Some("x".repeat(10_001))).is_err());
        assert!(NewVisit::new("ZZZ", None, None).is_err());
    }
}
