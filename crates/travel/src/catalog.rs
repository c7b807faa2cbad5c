//! The country catalogue, built once from `keshvar`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// One of the seven continents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Continent {
    /// Africa.
    Africa,
    /// Antarctica.
    Antarctica,
    /// Asia.
    Asia,
    /// Europe.
    Europe,
    /// North America (with Central America and the Caribbean).
    NorthAmerica,
    /// Oceania (Australia, New Zealand, the Pacific islands).
    Oceania,
    /// South America.
    SouthAmerica,
}

impl Continent {
    /// All seven, in the order stats list them.
    pub const ALL: [Self; 7] = [
        Self::Africa,
        Self::Antarctica,
        Self::Asia,
        Self::Europe,
        Self::NorthAmerica,
        Self::Oceania,
        Self::SouthAmerica,
    ];

    /// The English name clients show.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Africa => "Africa",
            Self::Antarctica => "Antarctica",
            Self::Asia => "Asia",
            Self::Europe => "Europe",
            Self::NorthAmerica => "North America",
            Self::Oceania => "Oceania",
            Self::SouthAmerica => "South America",
        }
    }

    fn from_dataset(c: keshvar::Continent) -> Self {
        match c {
            keshvar::Continent::Africa => Self::Africa,
            keshvar::Continent::Antarctica => Self::Antarctica,
            keshvar::Continent::Asia => Self::Asia,
            keshvar::Continent::Europe => Self::Europe,
            keshvar::Continent::NorthAmerica => Self::NorthAmerica,
            keshvar::Continent::Australia => Self::Oceania,
            keshvar::Continent::SouthAmerica => Self::SouthAmerica,
        }
    }
}

/// A country of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-3, upper case (`JPN`).
    pub iso3: String,
    /// English short name (`Japan`).
    pub name: &'static str,
    /// Its continent.
    pub continent: Continent,
}

static CATALOG: LazyLock<BTreeMap<String, Country>> = LazyLock::new(|| {
    keshvar::CountryIterator::new()
        .map(|c| {
            let iso3 = c.alpha3().to_string().to_ascii_uppercase();
            let country = Country {
                iso3: iso3.clone(),
                name: c.iso_short_name(),
                continent: Continent::from_dataset(c.continent()),
            };
            (iso3, country)
        })
        .collect()
});

/// The country with this alpha-3 code, case-insensitive (`jpn`, `JPN`).
#[must_use]
pub fn country(code: &str) -> Option<&'static Country> {
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    CATALOG.get(&code.to_ascii_uppercase())
}

/// Every country, by code.
pub fn all() -> impl Iterator<Item = &'static Country> {
    CATALOG.values()
}

/// How many codes the catalogue accepts.
#[must_use]
pub fn total() -> usize {
    CATALOG.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_is_complete_and_samples_are_right() {
        assert_eq!(total(), 249, "every ISO 3166-1 country");
        let c = |code| country(code).unwrap();
        assert_eq!(
            (c("JPN").name, c("JPN").continent),
            ("Japan", Continent::Asia)
        );
        assert_eq!(c("jpn").iso3, "JPN");
        assert_eq!(c("BRA").continent, Continent::SouthAmerica);
        assert_eq!(c("AUS").continent, Continent::Oceania);
        assert_eq!(c("ATA").continent, Continent::Antarctica);
        assert_eq!(c("DEU").continent, Continent::Europe);
        assert_eq!(c("USA").continent, Continent::NorthAmerica);
        assert_eq!(c("EGY").continent, Continent::Africa);
        for bad in ["", "JP", "JAPN", "XXX", "12A", "ÄÖÜ"] {
            assert!(country(bad).is_none(), "{bad}");
        }
        for continent in Continent::ALL {
            assert!(
                all().any(|c| c.continent == continent),
                "{continent:?} has countries"
            );
        }
    }
}
