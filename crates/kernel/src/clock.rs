use chrono::{DateTime, Utc};

/// The time source. Services ask it instead of calling `Utc::now()` so tests can pin time
/// (token expiry, "today" in a time zone) without sleeping.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
