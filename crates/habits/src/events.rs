//! The change-log events habits records.

use ayubi_kernel::Event;

/// A habit was created.
pub const CREATED: Event = Event {
    name: "habit:created",
    entity: "habits",
};
/// A habit was replaced.
pub const UPDATED: Event = Event {
    name: "habit:updated",
    entity: "habits",
};
/// A habit was deleted (with its completions and skips).
pub const DELETED: Event = Event {
    name: "habit:deleted",
    entity: "habits",
};
/// A day was completed.
pub const COMPLETED: Event = Event {
    name: "habit:completed",
    entity: "habit_completions",
};
/// A completion was removed.
pub const UNCOMPLETED: Event = Event {
    name: "habit:uncompleted",
    entity: "habit_completions",
};
/// A day was skipped.
pub const SKIPPED: Event = Event {
    name: "habit:skipped",
    entity: "habit_skips",
};
/// A skip was removed.
pub const UNSKIPPED: Event = Event {
    name: "habit:unskipped",
    entity: "habit_skips",
};
