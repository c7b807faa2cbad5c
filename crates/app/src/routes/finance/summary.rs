//! `/finance/summary`.

use crate::error::{ApiError, Problem};
use crate::http::AuthUser;
use crate::state::AppState;
use crate::views::ViewsJson;
use actix_web::{HttpResponse, get, web};
use ayubi_finance::{Summary, minor_to_major};
use ayubi_kernel::YearMonth;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A category's total.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryTotalDto {
    /// Null for uncategorised entries.
    pub category_id: Option<i64>,
    /// Null for uncategorised entries.
    pub name: Option<String>,
    /// `income` / `expense`.
    pub kind: &'static str,
    /// Exact sum.
    pub total: f64,
}

/// A month in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryDto {
    /// `YYYY-MM`.
    pub month: String,
    /// The currency summed (entries in others are not included).
    pub currency: String,
    /// Income.
    pub income: f64,
    /// Expense.
    pub expense: f64,
    /// income − expense.
    pub balance: f64,
    /// Largest first.
    pub by_category: Vec<CategoryTotalDto>,
}

impl From<&Summary> for SummaryDto {
    fn from(s: &Summary) -> Self {
        Self {
            month: s.month.format("%Y-%m").to_string(),
            currency: s.currency.as_str().to_owned(),
            income: minor_to_major(s.income),
            expense: minor_to_major(s.expense),
            balance: minor_to_major(s.income - s.expense),
            by_category: s
                .by_category
                .iter()
                .map(|t| CategoryTotalDto {
                    category_id: t.category_id,
                    name: t.name.clone(),
                    kind: t.kind.as_str(),
                    total: minor_to_major(t.total),
                })
                .collect(),
        }
    }
}

/// `?month=YYYY-MM&currency=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SummaryParams {
    /// `YYYY-MM` (text that is not a month: 400).
    #[param(value_type = String, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: YearMonth,
    /// ISO 4217 (default: the `currency` setting).
    #[param(schema_with = crate::openapi::values::currency)]
    pub currency: Option<String>,
}

/// A month's income, expense and balance, by category.
#[utoipa::path(tag = "finance", security(("bearer" = [])), params(SummaryParams),
    responses((status = 200, body = SummaryDto), (status = 400, body = Problem), (status = 422, body = Problem)))]
#[get("/summary")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<SummaryParams>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    // The default currency is a setting: a settings change is a commit, so it
    // invalidates this view like any other write.
    let key = format!("finance:summary:{}:{:?}", q.month, q.currency);
    state
        .views
        .json(user, &key, async {
            let s = state
                .finance
                .summary(user, q.month, q.currency.as_deref())
                .await?;
            Ok(SummaryDto::from(&s))
        })
        .await
}
