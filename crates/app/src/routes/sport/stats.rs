//! `/sport/stats`.

use crate::error::{ApiError, Problem};
use crate::http::AuthUser;
use crate::state::AppState;
use crate::views::ViewsJson;
use actix_web::{HttpResponse, get, web};
use ayubi_sport::service::{Stats, StatsQuery};
use ayubi_sport::{DayStats, tenths_to_grams};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One day against the goals.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayStatsDto {
    /// The day.
    pub date: NaiveDate,
    /// Water drunk (ml).
    pub water_ml: i64,
    /// Water goal (ml).
    pub water_goal_ml: i32,
    /// Energy eaten (kcal).
    pub kcal_in: i64,
    /// Energy burned (kcal).
    pub kcal_burned: i64,
    /// Energy goal (kcal).
    pub kcal_goal: i32,
    /// Protein (g).
    pub protein: f64,
    /// Carbohydrates (g).
    pub carbs: f64,
    /// Fat (g).
    pub fat: f64,
}

impl From<&DayStats> for DayStatsDto {
    fn from(d: &DayStats) -> Self {
        Self {
            date: d.date,
            water_ml: d.totals.water_ml,
            water_goal_ml: d.goals.water_ml_per_day,
            kcal_in: d.totals.kcal_in,
            kcal_burned: d.totals.kcal_burned,
            kcal_goal: d.goals.kcal_per_day,
            protein: tenths_to_grams(d.totals.protein_tenths),
            carbs: tenths_to_grams(d.totals.carbs_tenths),
            fat: tenths_to_grams(d.totals.fat_tenths),
        }
    }
}

/// `?date=` or `?from=&to=` (≤ 366 days).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// One day (default today in the user's time zone).
    pub date: Option<NaiveDate>,
    /// Range start (with `to`).
    pub from: Option<NaiveDate>,
    /// Range end (with `from`).
    pub to: Option<NaiveDate>,
}

/// One day's object (for `date`) or a range's array (for `from` + `to`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum StatsBody {
    /// `?date=` (or nothing): the day.
    Day(DayStatsDto),
    /// `?from=&to=`: each day, oldest first.
    Range(Vec<DayStatsDto>),
}

/// Per-day totals against the goals: one object for a day, an array (oldest first, every
/// day of the range, empty days at zero) for a range.
#[utoipa::path(tag = "sport", security(("bearer" = [])), params(StatsParams),
    responses((status = 200, body = StatsBody, description = "an object for `date`, an array for `from`+`to`"),
              (status = 422, body = Problem)))]
#[get("/stats")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<StatsParams>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    // "Today" is part of the key: the same request means another day after midnight.
    let day = match (q.date, q.from, q.to) {
        (None, None, None) => Some(
            ayubi_kernel::today(state.zones.as_ref(), state.clock.as_ref(), user)
                .await
                .map_err(ApiError::from)?,
        ),
        (date, _, _) => date,
    };
    let key = format!("sport:stats:{day:?}:{:?}:{:?}", q.from, q.to);
    let query = StatsQuery {
        date: day,
        from: q.from,
        to: q.to,
    };
    state
        .views
        .json(user, &key, async {
            Ok(match state.sport.stats(user, query).await? {
                Stats::Day(day) => StatsBody::Day(DayStatsDto::from(&day)),
                Stats::Range(days) => {
                    StatsBody::Range(days.iter().map(DayStatsDto::from).collect())
                }
            })
        })
        .await
}
