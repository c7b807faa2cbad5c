//! The change-log events finance records.

use ayubi_kernel::Event;

/// An entry was created.
pub const CREATED: Event = Event {
    name: "finance:created",
    entity: "finance_entries",
};
/// An entry was replaced.
pub const UPDATED: Event = Event {
    name: "finance:updated",
    entity: "finance_entries",
};
/// An entry was deleted.
pub const DELETED: Event = Event {
    name: "finance:deleted",
    entity: "finance_entries",
};
/// A category was created.
pub const CATEGORY_CREATED: Event = Event {
    name: "finance_category:created",
    entity: "finance_categories",
};
/// A category was replaced.
pub const CATEGORY_UPDATED: Event = Event {
    name: "finance_category:updated",
    entity: "finance_categories",
};
/// A category was deleted.
pub const CATEGORY_DELETED: Event = Event {
    name: "finance_category:deleted",
    entity: "finance_categories",
};
