//! The messages a client receives, as text: a change (`{"type":"change",…}`, the same
//! object `GET /sync/changes` lists), `resync_required`, and the answer to a ping.

use crate::log::Change;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Arc;

/// One change as clients get it, on every transport.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeMessage<'a> {
    /// Always `change`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Per-user sequence number.
    pub seq: i64,
    /// `<entity>:<verb>`, e.g. `water:added`.
    pub event: &'a str,
    /// The table, e.g. `sport_water`.
    pub entity: &'a str,
    /// The resource's id: a number, or a key (an ISO 3166 code, a date).
    pub id: &'a serde_json::Value,
    /// The resource as the REST API returns it; `{"id": …}` for a delete.
    pub data: &'a serde_json::Value,
    /// When it happened.
    pub at: DateTime<Utc>,
}

impl<'a> From<&'a Change> for ChangeMessage<'a> {
    fn from(c: &'a Change) -> Self {
        Self {
            kind: "change",
            seq: c.seq,
            event: &c.event,
            entity: &c.entity,
            id: &c.id,
            data: &c.data,
            at: c.at,
        }
    }
}

/// The text of a change message.
///
/// # Errors
/// Never for values that came from JSON; serde's error otherwise.
pub fn change_text(change: &Change) -> Result<Arc<str>, serde_json::Error> {
    serde_json::to_string(&ChangeMessage::from(change)).map(Arc::from)
}

/// `{"type":"resync_required","seq":latest}`: refetch, then continue from `latest`.
#[must_use]
pub fn resync_text(latest: i64) -> String {
    format!(r#"{{"type":"resync_required","seq":{latest}}}"#)
}

/// The answer to a client's `{"type":"ping"}`.
pub const PONG: &str = r#"{"type":"pong"}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_message_carries_every_field_of_the_change() {
        let change = Change {
            seq: 7,
            event: "water:added".into(),
            entity: "sport_water".into(),
            id: serde_json::json!(3),
            data: serde_json::json!({"id": 3, "ml": 250}),
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
        };
        let Ok(text) = change_text(&change) else {
            panic!("serialises")
        };
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(
            value,
            serde_json::json!({"type": "change", "seq": 7, "event": "water:added",
                "entity": "sport_water", "id": 3, "data": {"id": 3, "ml": 250},
                "at": "2023-11-14T22:13:20Z"})
        );
        assert_eq!(resync_text(12), r#"{"type":"resync_required","seq":12}"#);
    }
}
