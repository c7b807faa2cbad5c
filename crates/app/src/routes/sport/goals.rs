//! `/sport/goals` (also `PUT /settings/goals`: one store).

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser};
use crate::state::AppState;
use actix_web::{HttpResponse, get, put, web};
use ayubi_sport::{Goals, SetGoals};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Daily goals.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoalsDto {
    /// Water a day (ml).
    pub water_ml_per_day: i32,
    /// Energy a day (kcal).
    pub kcal_per_day: i32,
    /// Last change (null while the defaults apply).
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<&Goals> for GoalsDto {
    fn from(g: &Goals) -> Self {
        Self {
            water_ml_per_day: g.water_ml_per_day,
            kcal_per_day: g.kcal_per_day,
            updated_at: g.updated_at,
        }
    }
}

/// `PUT /sport/goals`: both fields required.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutGoals {
    /// 250–20000.
    #[schema(minimum = 250, maximum = 20000)]
    pub water_ml_per_day: i64,
    /// 500–10000.
    #[schema(minimum = 500, maximum = 10000)]
    pub kcal_per_day: i64,
}

/// The goals (defaults 3000 ml and 2200 kcal).
#[utoipa::path(tag = "sport", security(("bearer" = [])), responses((status = 200, body = GoalsDto)))]
#[get("/goals")]
pub async fn get(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let goals = state.sport.goals(auth.id()).await?;
    Ok(HttpResponse::Ok().json(GoalsDto::from(&goals)))
}

/// Replace the goals.
#[utoipa::path(tag = "sport", security(("bearer" = [])), request_body = PutGoals,
    responses((status = 200, body = GoalsDto), (status = 422, body = Problem)))]
#[put("/goals")]
pub async fn put(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: ApiJson<PutGoals>,
) -> Result<HttpResponse, ApiError> {
    set(&state, auth, &body).await
}

/// Sets the goals; shared by `PUT /sport/goals` and `PUT /settings/goals` (one store).
pub(crate) async fn set(
    state: &AppState,
    auth: AuthUser,
    body: &PutGoals,
) -> Result<HttpResponse, ApiError> {
    let cmd = SetGoals::new(body.water_ml_per_day, body.kcal_per_day)?;
    let goals = state.sport.set_goals(auth.id(), cmd).await?;
    Ok(HttpResponse::Ok().json(GoalsDto::from(&goals)))
}
