//! `/habits/{id}/completions` and `/habits/{id}/skips`.

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser, CreateRequest, IdempotencyKey};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use ayubi_habits::HabitDay;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// A completed or skipped day.
#[derive(Debug, Serialize, ToSchema)]
pub struct HabitDayDto {
    /// The habit.
    pub habit_id: i64,
    /// The day.
    pub date: NaiveDate,
}

impl From<&HabitDay> for HabitDayDto {
    fn from(d: &HabitDay) -> Self {
        Self {
            habit_id: d.habit_id,
            date: d.date,
        }
    }
}

/// `POST /habits/{id}/completions` (an empty body means today).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// Default: today in the user's time zone; not in the future.
    pub date: Option<NaiveDate>,
}

/// `POST /habits/{id}/skips`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkipBody {
    /// The day to skip; not in the future.
    pub date: NaiveDate,
}

/// `?from=&to=&limit=` (no date window unless given).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DaysParams {
    /// First day (inclusive).
    pub from: Option<NaiveDate>,
    /// Last day (inclusive).
    pub to: Option<NaiveDate>,
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

fn render(day: &(HabitDay, bool)) -> (StatusCode, HabitDayDto) {
    let status = if day.1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, HabitDayDto::from(&day.0))
}

/// Complete a day: 201, or 200 when it already was (no second row).
#[utoipa::path(tag = "habits", security(("bearer" = [])), params(("id" = i64, Path)), request_body = CompleteBody,
    responses((status = 201, body = HabitDayDto), (status = 200, body = HabitDayDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/{id}/completions")]
pub async fn complete(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    key: IdempotencyKey,
    body: ApiJson<CompleteBody>,
) -> Result<HttpResponse, ApiError> {
    let (user, habit_id) = (auth.id(), id.into_inner());
    let req = CreateRequest {
        user,
        key,
        route: "POST /habits/{id}/completions",
        body: &body.canonical,
        status: StatusCode::CREATED,
    };
    state
        .idempotency
        .create_with_status(req, render, async {
            Ok(state.habits.complete(user, habit_id, body.date).await?)
        })
        .await
}

/// Remove a completion.
#[utoipa::path(tag = "habits", security(("bearer" = [])), params(("id" = i64, Path), ("date" = NaiveDate, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
#[delete("/{id}/completions/{date}")]
pub async fn uncomplete(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(i64, NaiveDate)>,
) -> Result<HttpResponse, ApiError> {
    let (id, date) = path.into_inner();
    state.habits.uncomplete(auth.id(), id, date).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Completed days, newest first.
#[utoipa::path(tag = "habits", security(("bearer" = [])), params(("id" = i64, Path), DaysParams),
    responses((status = 200, body = Vec<NaiveDate>), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[get("/{id}/completions")]
pub async fn completions(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    q: web::Query<DaysParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = crate::http::parse_limit(q.limit)?;
    let days = state
        .habits
        .completions(auth.id(), id.into_inner(), q.from, q.to, limit)
        .await?;
    Ok(HttpResponse::Ok().json(days))
}

/// Skip a day: it neither breaks nor extends a streak.
#[utoipa::path(tag = "habits", security(("bearer" = [])), params(("id" = i64, Path)), request_body = SkipBody,
    responses((status = 201, body = HabitDayDto), (status = 200, body = HabitDayDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/{id}/skips")]
pub async fn skip(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    key: IdempotencyKey,
    body: ApiJson<SkipBody>,
) -> Result<HttpResponse, ApiError> {
    let (user, habit_id) = (auth.id(), id.into_inner());
    let req = CreateRequest {
        user,
        key,
        route: "POST /habits/{id}/skips",
        body: &body.canonical,
        status: StatusCode::CREATED,
    };
    state
        .idempotency
        .create_with_status(req, render, async {
            Ok(state.habits.skip(user, habit_id, body.date).await?)
        })
        .await
}

/// Remove a skip.
#[utoipa::path(tag = "habits", security(("bearer" = [])), params(("id" = i64, Path), ("date" = NaiveDate, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
#[delete("/{id}/skips/{date}")]
pub async fn unskip(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(i64, NaiveDate)>,
) -> Result<HttpResponse, ApiError> {
    let (id, date) = path.into_inner();
    state.habits.unskip(auth.id(), id, date).await?;
    Ok(HttpResponse::NoContent().finish())
}
