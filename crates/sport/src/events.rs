//! The change-log events sport records.

use ayubi_kernel::Event;

/// A water entry was logged.
pub const WATER_ADDED: Event = Event {
    name: "water:added",
    entity: "sport_water",
};
/// A water entry was deleted.
pub const WATER_DELETED: Event = Event {
    name: "water:deleted",
    entity: "sport_water",
};
/// A meal was logged.
pub const FOOD_ADDED: Event = Event {
    name: "food:added",
    entity: "sport_food",
};
/// A meal was deleted.
pub const FOOD_DELETED: Event = Event {
    name: "food:deleted",
    entity: "sport_food",
};
/// A workout was logged.
pub const WORKOUT_ADDED: Event = Event {
    name: "workout:added",
    entity: "sport_workout",
};
/// A workout was deleted.
pub const WORKOUT_DELETED: Event = Event {
    name: "workout:deleted",
    entity: "sport_workout",
};
/// The daily goals changed.
pub const GOALS_UPDATED: Event = Event {
    name: "goals:updated",
    entity: "sport_goals",
};
