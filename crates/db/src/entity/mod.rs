//! sea-orm entities. Crate-private: rows are mapped to domain types at the repository
//! boundary and never leave this crate.

pub(crate) mod backup;
pub(crate) mod backup_schedule;
pub(crate) mod change_log;
pub(crate) mod finance_category;
pub(crate) mod finance_entry;
pub(crate) mod game_stats_cache;
pub(crate) mod habit;
pub(crate) mod habit_completion;
pub(crate) mod habit_skip;
pub(crate) mod idempotency_key;
pub(crate) mod invite;
pub(crate) mod journal_entry;
pub(crate) mod personal_access_token;
pub(crate) mod refresh_token;
pub(crate) mod session;
pub(crate) mod sport_food;
pub(crate) mod sport_goals;
pub(crate) mod sport_water;
pub(crate) mod sport_workout;
pub(crate) mod travel_visited;
pub(crate) mod travel_wishlist;
pub(crate) mod user;
pub(crate) mod user_setting;
