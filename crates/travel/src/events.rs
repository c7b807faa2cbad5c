//! The change-log events travel records. Their id is the country's alpha-3 code.

use ayubi_kernel::Event;

/// A country was put on the wishlist.
pub const WISHLIST_ADDED: Event = Event {
    name: "travel:wishlist_added",
    entity: "travel_wishlist",
};
/// A country left the wishlist (removed, or visited).
pub const WISHLIST_REMOVED: Event = Event {
    name: "travel:wishlist_removed",
    entity: "travel_wishlist",
};
/// A country was marked visited.
pub const VISITED: Event = Event {
    name: "travel:visited",
    entity: "travel_visited",
};
/// A visit was removed.
pub const VISIT_REMOVED: Event = Event {
    name: "travel:visit_removed",
    entity: "travel_visited",
};
