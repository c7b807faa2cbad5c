//! `/habits/stats`.

use crate::error::ApiError;
use crate::http::AuthUser;
use crate::state::AppState;
use crate::views::ViewsJson;
use actix_web::{HttpResponse, get, web};
use ayubi_habits::service::HabitStats;
use serde::Serialize;
use utoipa::ToSchema;

/// One habit's streaks.
#[derive(Debug, Serialize, ToSchema)]
pub struct HabitStatsDto {
    /// The habit.
    pub habit_id: i64,
    /// Its name.
    pub name: String,
    /// Kept periods up to now (the running one breaks nothing yet).
    pub current_streak: u32,
    /// The best run.
    pub longest_streak: u32,
    /// Whether today is completed.
    pub completed_today: bool,
    /// 0–1 over the last 30 days.
    pub completion_rate_30d: f64,
}

impl From<&HabitStats> for HabitStatsDto {
    fn from(s: &HabitStats) -> Self {
        Self {
            habit_id: s.habit_id,
            name: s.name.clone(),
            current_streak: s.current_streak,
            longest_streak: s.longest_streak,
            completed_today: s.completed_today,
            completion_rate_30d: s.completion_rate_30d,
        }
    }
}

/// Streaks of every habit that is not archived.
#[utoipa::path(tag = "habits", security(("bearer" = [])), responses((status = 200, body = Vec<HabitStatsDto>)))]
#[get("/stats")]
pub async fn get(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    // Streaks and "completed today" move at midnight: today is part of the key.
    let today = ayubi_kernel::today(state.zones.as_ref(), state.clock.as_ref(), user).await?;
    state
        .views
        .json(user, &format!("habits:stats:{today}"), async {
            let stats = state.habits.stats(user).await?;
            Ok(stats.iter().map(HabitStatsDto::from).collect::<Vec<_>>())
        })
        .await
}
