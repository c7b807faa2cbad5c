//! The change-log events settings records.

use ayubi_kernel::Event;

/// Settings changed; data is the whole settings object.
pub const SETTINGS_UPDATED: Event = Event {
    name: "settings:updated",
    entity: "user_settings",
};
/// The profile changed; data is the whole profile.
pub const PROFILE_UPDATED: Event = Event {
    name: "profile:updated",
    entity: "profile",
};
