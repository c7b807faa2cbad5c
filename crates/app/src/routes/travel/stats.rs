//! `/travel/stats`.

use crate::error::ApiError;
use crate::http::AuthUser;
use crate::state::AppState;
use crate::views::ViewsJson;
use actix_web::{HttpResponse, get, web};
use ayubi_travel::{TravelStats, percent};
use serde::Serialize;
use utoipa::ToSchema;

/// One continent.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContinentStatsDto {
    /// Name.
    pub continent: &'static str,
    /// Visited countries on it.
    pub visited: usize,
    /// Wishlisted countries on it.
    pub wishlist: usize,
    /// Countries on it.
    pub total: usize,
    /// visited / total × 100, one decimal.
    pub visited_percent: f64,
}

/// Stats over both lists.
#[derive(Debug, Serialize, ToSchema)]
pub struct TravelStatsDto {
    /// Visited countries (the visited list's length).
    pub visited_count: usize,
    /// Wishlisted countries.
    pub wishlist_count: usize,
    /// Every code the server accepts.
    pub total_countries: usize,
    /// visited / total × 100, one decimal.
    pub visited_percent: f64,
    /// All seven continents, also at zero.
    pub continents: Vec<ContinentStatsDto>,
}

impl From<&TravelStats> for TravelStatsDto {
    fn from(s: &TravelStats) -> Self {
        Self {
            visited_count: s.visited_count,
            wishlist_count: s.wishlist_count,
            total_countries: s.total_countries,
            visited_percent: percent(s.visited_count, s.total_countries),
            continents: s
                .continents
                .iter()
                .map(|c| ContinentStatsDto {
                    continent: c.continent.name(),
                    visited: c.visited,
                    wishlist: c.wishlist,
                    total: c.total,
                    visited_percent: percent(c.visited, c.total),
                })
                .collect(),
        }
    }
}

/// Counts that agree with the lists, per continent too.
#[utoipa::path(tag = "travel", security(("bearer" = [])), responses((status = 200, body = TravelStatsDto)))]
#[get("/stats")]
pub async fn get(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    state
        .views
        .json(user, "travel:stats", async {
            Ok(TravelStatsDto::from(&state.travel.stats(user).await?))
        })
        .await
}
