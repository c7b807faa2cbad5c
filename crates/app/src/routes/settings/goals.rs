//! `PUT /settings/goals`: the same goals as `/sport/goals`, one store.

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser};
use crate::routes::sport::goals::{GoalsDto, PutGoals, set};
use crate::state::AppState;
use actix_web::{HttpResponse, put, web};

/// Replace the goals (as `PUT /sport/goals`).
#[utoipa::path(tag = "settings", security(("bearer" = [])), request_body = PutGoals,
    responses((status = 200, body = GoalsDto), (status = 422, body = Problem)))]
#[put("/goals")]
pub async fn put(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: ApiJson<PutGoals>,
) -> Result<HttpResponse, ApiError> {
    set(&state, auth, &body).await
}
