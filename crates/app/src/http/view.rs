//! The REST representation of a resource as a change-log [`View`]: the sync stream
//! carries exactly what the REST API returns, because both come from the same DTO.

use ayubi_kernel::View;
use serde::Serialize;
use std::sync::Arc;

/// A [`View`] of `T` through its response DTO `D`.
#[must_use]
pub fn view<T, D>() -> View<T>
where
    D: Serialize + for<'a> From<&'a T>,
{
    Arc::new(|t: &T| serde_json::to_value(D::from(t)).unwrap_or(serde_json::Value::Null))
}
