//! Routes, one module per context. Each exposes `config`, registering its handlers
//! through utoipa-actix-web so the OpenAPI document lists exactly the routes served.

pub mod auth;
pub mod backup;
pub mod finance;
pub mod games;
pub mod habits;
pub mod journal;
pub mod ops;
pub mod settings;
pub mod sport;
pub mod sync;
pub mod travel;

use crate::http::rest;
use ayubi_db::Representations;

/// How every written resource appears in the change log: its REST body, so a change
/// delivered by the sync stream carries exactly what the REST API returns. Given to the
/// storage adapter once at start-up; a write of a type missing here fails.
#[must_use]
pub fn representations() -> Representations {
    Representations::new()
        .with(rest::<ayubi_sport::WaterEntry, sport::water::WaterDto>)
        .with(rest::<ayubi_sport::FoodEntry, sport::food::FoodDto>)
        .with(rest::<ayubi_sport::WorkoutEntry, sport::workout::WorkoutDto>)
        .with(rest::<ayubi_sport::Goals, sport::goals::GoalsDto>)
        .with(rest::<ayubi_travel::WishlistItem, travel::wishlist::WishlistDto>)
        .with(rest::<ayubi_travel::Visit, travel::visited::VisitDto>)
        .with(rest::<ayubi_habits::Habit, habits::habit::HabitDto>)
        .with(rest::<ayubi_habits::HabitDay, habits::days::HabitDayDto>)
        .with(rest::<ayubi_finance::Category, finance::categories::CategoryDto>)
        .with(rest::<ayubi_finance::Entry, finance::entries::EntryDto>)
        .with(rest::<ayubi_journal::Entry, journal::JournalDto>)
        .with(rest::<ayubi_settings::Profile, settings::profile::ProfileDto>)
        .with(|s: &ayubi_settings::Settings| {
            serde_json::to_value(s.effective()).unwrap_or_default()
        })
}
