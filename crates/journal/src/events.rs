//! The change-log events the journal records.

use ayubi_kernel::Event;

/// An entry was written.
pub const CREATED: Event = Event {
    name: "journal:created",
    entity: "journal_entries",
};
/// An entry was replaced.
pub const UPDATED: Event = Event {
    name: "journal:updated",
    entity: "journal_entries",
};
/// An entry was deleted.
pub const DELETED: Event = Event {
    name: "journal:deleted",
    entity: "journal_entries",
};
