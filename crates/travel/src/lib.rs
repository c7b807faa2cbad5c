//! Ayubi travel: where a person has been and wants to go.
//!
//! Owns the country catalogue (every ISO 3166-1 country: alpha-3 code, English short name,
//! continent — from the `keshvar` crate's dataset, not a hand-typed list), a user's
//! wishlist and visited countries (one entry per country each; visiting a country takes it
//! off the wishlist), and the stats over both. Every write is recorded in the change log
//! (`travel:wishlist_added|wishlist_removed|visited|visit_removed`).
//!
//! ## The continent model
//!
//! Seven continents: Africa, Antarctica, Asia, Europe, North America, Oceania, South
//! America. Each country sits on exactly one, as the dataset places it: transcontinental
//! countries are counted once (Russia and Türkiye in Europe, Egypt in Africa), Central
//! America and the Caribbean belong to North America, and the dataset's "Australia"
//! continent is called Oceania (Australia, New Zealand and the Pacific islands). Dependent
//! territories with their own ISO code (Greenland, Guam, …) count as countries.
//!
//! # Example
//!
//! ```
//! use ayubi_travel::{Continent, NewVisit, NewWish, catalog};
//!
//! let japan = catalog::country("jpn").unwrap();
//! assert_eq!((japan.name, japan.continent), ("Japan", Continent::Asia));
//! assert!(NewWish::new("XYZ").is_err()); // not a country
//! let visit = NewVisit::new("JPN", None, Some("cherry blossoms".into())).unwrap();
//! assert_eq!(visit.country().iso3, "JPN");
//! ```

#![warn(missing_docs)]

pub mod catalog;
pub mod error;
pub mod events;
pub mod model;
pub mod ports;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use catalog::{Continent, Country};
pub use error::{Result, TravelError};
pub use model::*;
pub use service::TravelService;
