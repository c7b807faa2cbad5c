//! The REST representation of a resource as its change-log entry: the sync stream carries
//! exactly what the REST API returns, because both come from the same DTO.

use serde::Serialize;

/// `T` through its response DTO `D`, as JSON: what `ayubi_db::Representations` records.
pub fn rest<T, D>(t: &T) -> serde_json::Value
where
    D: Serialize + for<'a> From<&'a T>,
{
    serde_json::to_value(D::from(t)).unwrap_or(serde_json::Value::Null)
}
