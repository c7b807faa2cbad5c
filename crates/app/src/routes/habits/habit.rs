//! `/habits` and `/habits/{id}`.

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser, CreateRequest, IdempotencyKey};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, put, web};
use ayubi_habits::{Habit, HabitFields, Schedule};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// `{"kind": "daily"}`, `{"kind": "weekdays", "days": ["mon", "thu"]}` or
/// `{"kind": "times_per_week", "times": 3}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[schema(as = HabitScheduleDto)]
pub enum ScheduleDto {
    /// Every day. (A struct variant: serde lets a unit variant of a tagged enum ignore
    /// unknown fields, `deny_unknown_fields` or not.)
    Daily {},
    /// On these days (`mon`…`sun`).
    Weekdays {
        /// At least one day.
        #[schema(schema_with = crate::openapi::values::weekdays)]
        days: Vec<String>,
    },
    /// This many days a week.
    TimesPerWeek {
        /// 1–7.
        #[schema(minimum = 1, maximum = 7)]
        times: i64,
    },
}

impl From<&Schedule> for ScheduleDto {
    fn from(s: &Schedule) -> Self {
        match s {
            Schedule::Daily => Self::Daily {},
            Schedule::Weekdays(days) => Self::Weekdays {
                days: days.iter().map(|d| d.name().to_owned()).collect(),
            },
            Schedule::TimesPerWeek(t) => Self::TimesPerWeek {
                times: i64::from(*t),
            },
        }
    }
}

impl ScheduleDto {
    fn parse(&self) -> Result<Schedule, ApiError> {
        Ok(match self {
            Self::Daily {} => Schedule::parse("daily", None, None),
            Self::Weekdays { days } => Schedule::parse("weekdays", Some(days), None),
            Self::TimesPerWeek { times } => Schedule::parse("times_per_week", None, Some(*times)),
        }?)
    }
}

/// A habit.
#[derive(Debug, Serialize, ToSchema)]
pub struct HabitDto {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Schedule.
    pub schedule: ScheduleDto,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Archived habits are not in the stats.
    pub archived: bool,
}

impl From<&Habit> for HabitDto {
    fn from(h: &Habit) -> Self {
        Self {
            id: h.id,
            name: h.name.clone(),
            description: h.description.clone(),
            schedule: ScheduleDto::from(&h.schedule),
            created_at: h.created_at,
            updated_at: h.updated_at,
            archived: h.archived,
        }
    }
}

/// `POST /habits` and `PUT /habits/{id}` (PUT replaces every field: absent optional
/// fields reset to their defaults).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HabitBody {
    /// 1–100 characters, trimmed, not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub name: String,
    /// ≤ 2000 characters.
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// Default daily.
    pub schedule: Option<ScheduleDto>,
    /// Default false.
    pub archived: Option<bool>,
}

impl HabitBody {
    fn fields(&self) -> Result<HabitFields, ApiError> {
        let schedule = self
            .schedule
            .as_ref()
            .map_or(Ok(Schedule::Daily), ScheduleDto::parse)?;
        Ok(HabitFields::new(
            &self.name,
            self.description.clone(),
            schedule,
            self.archived.unwrap_or(false),
        )?)
    }
}

/// `?archived=&limit=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HabitListParams {
    /// Only archived (`true`) or active (`false`) habits.
    pub archived: Option<bool>,
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Habits, newest first.
#[utoipa::path(tag = "habits", security(("bearer" = [])), params(HabitListParams),
    responses((status = 200, body = Vec<HabitDto>), (status = 422, body = Problem)))]
#[get("")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<HabitListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = crate::http::parse_limit(q.limit)?;
    let habits = state.habits.list(auth.id(), q.archived, limit).await?;
    Ok(HttpResponse::Ok().json(habits.iter().map(HabitDto::from).collect::<Vec<_>>()))
}

/// Create a habit.
#[utoipa::path(tag = "habits", security(("bearer" = [])), request_body = HabitBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for 24 h")),
    responses((status = 201, body = HabitDto), (status = 422, body = Problem)))]
#[post("")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
    body: ApiJson<HabitBody>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    let fields = body.fields()?;
    let req = CreateRequest {
        user,
        key,
        route: "POST /habits",
        body: &body.canonical,
        status: StatusCode::CREATED,
    };
    state
        .idempotency
        .create(req, |h: &Habit| HabitDto::from(h), async {
            Ok(state.habits.create(user, fields).await?)
        })
        .await
}

/// One habit.
#[utoipa::path(tag = "habits", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = HabitDto), (status = 404, body = Problem)))]
#[get("/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let habit = state.habits.get(auth.id(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(HabitDto::from(&habit)))
}

/// Replace a habit.
#[utoipa::path(tag = "habits", security(("bearer" = [])), params(("id" = i64, Path)), request_body = HabitBody,
    responses((status = 200, body = HabitDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[put("/{id}")]
pub async fn put(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: ApiJson<HabitBody>,
) -> Result<HttpResponse, ApiError> {
    let habit = state
        .habits
        .update(auth.id(), id.into_inner(), body.fields()?)
        .await?;
    Ok(HttpResponse::Ok().json(HabitDto::from(&habit)))
}

/// Delete a habit with its completions and skips.
#[utoipa::path(tag = "habits", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
#[delete("/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state.habits.delete(auth.id(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
