//! `/sport/workout`.

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser, CreateRequest, DateQuery, IdempotencyKey};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use ayubi_sport::service::ListQuery;
use ayubi_sport::{AddWorkout, WorkoutEntry};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// A workout.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkoutDto {
    /// Id.
    pub id: i64,
    /// The day.
    pub date: NaiveDate,
    /// What it was.
    pub name: String,
    /// Minutes.
    pub duration_min: i32,
    /// Energy burned (kcal).
    pub kcal_burned: i32,
    /// When it was logged.
    pub created_at: DateTime<Utc>,
}

impl From<&WorkoutEntry> for WorkoutDto {
    fn from(w: &WorkoutEntry) -> Self {
        Self {
            id: w.id,
            date: w.date,
            name: w.name.clone(),
            duration_min: w.duration_min,
            kcal_burned: w.kcal_burned,
            created_at: w.created_at,
        }
    }
}

/// `POST /sport/workout`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkout {
    /// 1–255 characters.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub name: String,
    /// 1–1440.
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_min: i64,
    /// 0–20000.
    #[schema(minimum = 0, maximum = 20000)]
    pub kcal_burned: i64,
    /// Default: today in the user's time zone.
    pub date: Option<NaiveDate>,
}

/// Log a workout.
#[utoipa::path(tag = "sport", security(("bearer" = [])), request_body = CreateWorkout,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for 24 h")),
    responses((status = 201, body = WorkoutDto), (status = 422, body = Problem)))]
#[post("/workout")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
    body: ApiJson<CreateWorkout>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    let req = CreateRequest {
        user,
        key,
        route: "POST /sport/workout",
        body: &body.canonical,
        status: StatusCode::CREATED,
    };
    let b = &body.value;
    let cmd = AddWorkout::new(b.date, &b.name, b.duration_min, b.kcal_burned)?;
    state
        .idempotency
        .create(req, |w: &WorkoutEntry| WorkoutDto::from(w), async {
            Ok(state.sport.add_workout(user, cmd).await?)
        })
        .await
}

/// Workouts from `from` to `to` (default today), newest first.
#[utoipa::path(tag = "sport", security(("bearer" = [])), params(DateQuery),
    responses((status = 200, body = Vec<WorkoutDto>), (status = 422, body = Problem)))]
#[get("/workout")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<DateQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery {
        from: q.from,
        to: q.to,
        limit: q.limit()?,
    };
    let rows = state.sport.list_workouts(auth.id(), query).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(WorkoutDto::from).collect::<Vec<_>>()))
}

/// Delete a workout.
#[utoipa::path(tag = "sport", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
#[delete("/workout/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state
        .sport
        .delete_workout(auth.id(), id.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
