//! The backup document, version 1.
//!
//! ```json
//! {"format": "ayubi-backup", "version": 1, "exported_at": "2026-11-26T08:30:00Z",
//!  "profile": {...}, "settings": {"currency": "USD"},
//!  "sport": {"goals": {...}|null, "water": [...], "food": [...], "workouts": [...]},
//!  "travel": {"visited": [...], "wishlist": [...]},
//!  "habits": [{..., "completions": ["2026-11-01"], "skips": []}],
//!  "finance": {"categories": [{"id": 3, ...}], "entries": [{"category_id": 3, ...}]},
//!  "journal": [...]}
//! ```
//!
//! Every section, and every list inside one, is optional on import: a document holding
//! only `sport.water` imports water. Fields are the REST API's (amounts in major units,
//! macros in grams). Row `id`s are informational, except that finance entries point at
//! categories by the `id` the category has in the same document. Unknown fields are
//! refused, so a typo cannot silently drop data.
//!
//! Versioning: `version` names the shape. A later version adds an upgrade step that turns
//! a parsed older document into the current one; a document newer than the server is
//! refused. `tests/fixtures/backup-v1.json` is imported by the test suite forever.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The `format` of every backup document.
pub const FORMAT: &str = "ayubi-backup";
/// The version this server writes (and the newest it reads).
pub const VERSION: u32 = 1;

/// A whole (or partial) backup document as uploaded.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Must be [`FORMAT`].
    pub format: String,
    /// 1…[`VERSION`].
    pub version: u32,
    /// When it was exported (informational).
    #[serde(default)]
    pub exported_at: Option<DateTime<Utc>>,
    /// Profile fields.
    #[serde(default)]
    pub profile: Option<ProfileRow>,
    /// Stored settings (not the defaults).
    #[serde(default)]
    pub settings: Option<BTreeMap<String, Value>>,
    /// Sport.
    #[serde(default)]
    pub sport: Option<SportSection>,
    /// Travel.
    #[serde(default)]
    pub travel: Option<TravelSection>,
    /// Habits, each with its completed and skipped days.
    #[serde(default)]
    pub habits: Option<Vec<HabitRow>>,
    /// Finance.
    #[serde(default)]
    pub finance: Option<FinanceSection>,
    /// Journal entries.
    #[serde(default)]
    pub journal: Option<Vec<JournalRow>>,
}

/// `null` and a value both count as present (`Some`); only a missing key is `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The profile (email is exported for the reader's benefit and never imported).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileRow {
    /// Login email (ignored on import).
    #[serde(default)]
    pub email: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// IANA time zone.
    #[serde(default)]
    pub timezone: Option<String>,
    /// SteamID64.
    #[serde(default)]
    pub steam_id: Option<String>,
    /// FACEIT nickname.
    #[serde(default)]
    pub faceit_nickname: Option<String>,
}

/// `sport`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SportSection {
    /// Daily goals; `null` means "the defaults".
    #[serde(default, deserialize_with = "present")]
    pub goals: Option<Option<GoalsRow>>,
    /// Water logs.
    #[serde(default)]
    pub water: Option<Vec<WaterRow>>,
    /// Meals.
    #[serde(default)]
    pub food: Option<Vec<FoodRow>>,
    /// Workouts.
    #[serde(default)]
    pub workouts: Option<Vec<WorkoutRow>>,
}

/// Daily goals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalsRow {
    /// Water a day.
    pub water_ml_per_day: i64,
    /// Energy a day.
    pub kcal_per_day: i64,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// A water log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaterRow {
    /// Id at export (informational).
    #[serde(default)]
    pub id: Option<i64>,
    /// The day.
    pub date: NaiveDate,
    /// Millilitres.
    pub ml: i64,
    /// When it was logged.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// A meal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoodRow {
    /// Id at export (informational).
    #[serde(default)]
    pub id: Option<i64>,
    /// The day.
    pub date: NaiveDate,
    /// What it was.
    pub name: String,
    /// Energy.
    pub kcal: i64,
    /// Grams of protein.
    #[serde(default)]
    pub protein: Option<f64>,
    /// Grams of carbohydrates.
    #[serde(default)]
    pub carbs: Option<f64>,
    /// Grams of fat.
    #[serde(default)]
    pub fat: Option<f64>,
    /// When it was logged.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// A workout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkoutRow {
    /// Id at export (informational).
    #[serde(default)]
    pub id: Option<i64>,
    /// The day.
    pub date: NaiveDate,
    /// What it was.
    pub name: String,
    /// Minutes.
    pub duration_min: i64,
    /// Energy burned.
    pub kcal_burned: i64,
    /// When it was logged.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// `travel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TravelSection {
    /// Visited countries.
    #[serde(default)]
    pub visited: Option<Vec<VisitRow>>,
    /// Wishlist.
    #[serde(default)]
    pub wishlist: Option<Vec<WishRow>>,
}

/// A visited country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitRow {
    /// Id at export (informational).
    #[serde(default)]
    pub id: Option<i64>,
    /// ISO 3166-1 alpha-3.
    pub country_iso3: String,
    /// When.
    #[serde(default)]
    pub visit_date: Option<NaiveDate>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// When it was recorded.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// A wishlist entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WishRow {
    /// Id at export (informational).
    #[serde(default)]
    pub id: Option<i64>,
    /// ISO 3166-1 alpha-3.
    pub country_iso3: String,
    /// When it was added.
    #[serde(default)]
    pub added_at: Option<DateTime<Utc>>,
}

/// A habit's schedule, as the REST API writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRow {
    /// `daily`, `weekdays` or `times_per_week`.
    pub kind: String,
    /// For `weekdays`: `mon`…`sun`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<Vec<String>>,
    /// For `times_per_week`: 1–7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<i64>,
}

/// A habit with its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HabitRow {
    /// Id at export (informational).
    #[serde(default)]
    pub id: Option<i64>,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Schedule (default daily).
    #[serde(default)]
    pub schedule: Option<ScheduleRow>,
    /// Archived.
    #[serde(default)]
    pub archived: bool,
    /// Created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// Completed days.
    #[serde(default)]
    pub completions: Vec<NaiveDate>,
    /// Skipped days.
    #[serde(default)]
    pub skips: Vec<NaiveDate>,
}

/// `finance`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinanceSection {
    /// Categories.
    #[serde(default)]
    pub categories: Option<Vec<CategoryRow>>,
    /// Entries.
    #[serde(default)]
    pub entries: Option<Vec<EntryRow>>,
}

/// A finance category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRow {
    /// The id entries of this document use to point at it.
    #[serde(default)]
    pub id: Option<i64>,
    /// Name.
    pub name: String,
    /// `income` or `expense`.
    pub kind: String,
    /// Created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// A finance entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRow {
    /// Id at export (informational).
    #[serde(default)]
    pub id: Option<i64>,
    /// `income` or `expense`.
    pub kind: String,
    /// Amount in major units, at most 2 decimals.
    pub amount: f64,
    /// ISO 4217.
    pub currency: String,
    /// A category `id` of this document.
    #[serde(default)]
    pub category_id: Option<i64>,
    /// The day.
    pub date: NaiveDate,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// A journal entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalRow {
    /// Id at export (informational).
    #[serde(default)]
    pub id: Option<i64>,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Text.
    pub content: String,
    /// The day.
    pub date: NaiveDate,
    /// 1–5.
    #[serde(default)]
    pub mood: Option<i64>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// One row of an export, in document order (see [`crate::encode::Encoder`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// `profile`.
    Profile(ProfileRow),
    /// `settings`.
    Settings(BTreeMap<String, Value>),
    /// `sport.goals` (`None`: the defaults).
    Goals(Option<GoalsRow>),
    /// `sport.water[]`.
    Water(WaterRow),
    /// `sport.food[]`.
    Food(FoodRow),
    /// `sport.workouts[]`.
    Workout(WorkoutRow),
    /// `travel.visited[]`.
    Visit(VisitRow),
    /// `travel.wishlist[]`.
    Wish(WishRow),
    /// `habits[]`.
    Habit(HabitRow),
    /// `finance.categories[]`.
    Category(CategoryRow),
    /// `finance.entries[]`.
    Entry(EntryRow),
    /// `journal[]`.
    Journal(JournalRow),
}
