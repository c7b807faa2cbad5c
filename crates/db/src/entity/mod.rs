//! sea-orm entities. Crate-private: rows are mapped to domain types at the repository
//! boundary and never leave this crate.

#[cfg(feature = "backup")]
pub(crate) mod backup;
#[cfg(feature = "backup")]
pub(crate) mod backup_schedule;
pub(crate) mod change_log;
#[cfg(feature = "finance")]
pub(crate) mod finance_category;
#[cfg(feature = "finance")]
pub(crate) mod finance_entry;
#[cfg(feature = "games")]
pub(crate) mod game_stats_cache;
#[cfg(feature = "habits")]
pub(crate) mod habit;
#[cfg(feature = "habits")]
pub(crate) mod habit_completion;
#[cfg(feature = "habits")]
pub(crate) mod habit_skip;
pub(crate) mod idempotency_key;
#[cfg(feature = "identity")]
pub(crate) mod invite;
#[cfg(feature = "journal")]
pub(crate) mod journal_entry;
#[cfg(feature = "identity")]
pub(crate) mod personal_access_token;
#[cfg(feature = "identity")]
pub(crate) mod refresh_token;
#[cfg(feature = "identity")]
pub(crate) mod session;
#[cfg(feature = "sport")]
pub(crate) mod sport_food;
#[cfg(feature = "sport")]
pub(crate) mod sport_goals;
#[cfg(feature = "sport")]
pub(crate) mod sport_water;
#[cfg(feature = "sport")]
pub(crate) mod sport_workout;
#[cfg(feature = "travel")]
pub(crate) mod travel_visited;
#[cfg(feature = "travel")]
pub(crate) mod travel_wishlist;
pub(crate) mod user;
// Habits and finance read settings (week start, default currency).
#[cfg(any(feature = "settings", feature = "habits", feature = "finance"))]
pub(crate) mod user_setting;
