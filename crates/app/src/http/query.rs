//! Query strings shared by list endpoints: `limit` (1–1000, default 100) and the
//! inclusive `from`/`to` date filter. A value that does not parse is 400 (by the
//! `QueryConfig` handler); one that parses but breaks a rule is 422.

use crate::error::ApiError;
use ayubi_kernel::Limit;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

/// `?limit=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

impl ListParams {
    /// The validated limit.
    ///
    /// # Errors
    /// 422 on `limit` outside 1–1000.
    pub fn limit(&self) -> Result<Limit, ApiError> {
        parse_limit(self.limit)
    }
}

/// `?from=&to=&limit=` of dated lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DateQuery {
    /// First day, inclusive (default: `to`).
    pub from: Option<NaiveDate>,
    /// Last day, inclusive (default: today in the user's time zone).
    pub to: Option<NaiveDate>,
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

impl DateQuery {
    /// The validated limit.
    ///
    /// # Errors
    /// 422 on `limit` outside 1–1000.
    pub fn limit(&self) -> Result<Limit, ApiError> {
        parse_limit(self.limit)
    }
}

/// A client's `limit` (1–1000, default 100).
///
/// # Errors
/// 422 on `limit` outside 1–1000.
pub fn parse_limit(v: Option<u32>) -> Result<Limit, ApiError> {
    Limit::new(v).map_err(|e| ApiError::invalid("limit", e.to_string()))
}
