//! `/api/v1/games`: the linked Steam and FACEIT accounts' stats, cached.

use crate::error::{ApiError, Problem};
use crate::http::AuthUser;
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use ayubi_games::{GameStats, Platform};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// `GET /games/stats` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StatsParams {
    /// `steam` or `faceit`.
    #[param(required = true, value_type = String, pattern = "^(steam|faceit)$")]
    pub platform: Option<String>,
}

/// A platform's stats for the linked account.
#[derive(Debug, Serialize, ToSchema)]
pub struct GameStatsDto {
    /// `steam` or `faceit`.
    pub platform: &'static str,
    /// When the platform gave these numbers.
    pub fetched_at: DateTime<Utc>,
    /// True when the platform could not give newer numbers (down, rate limited, or it
    /// answered empty or private) and the last good copy is served.
    pub stale: bool,
    /// Steam: `steam_id, persona_name, profile_url, avatar_url, country, visibility,
    /// online, playing, account_created_at, library {game_count, total_playtime_minutes,
    /// playtime_2weeks_minutes, most_played[], recently_played[]}`. FACEIT: `player_id,
    /// nickname, avatar_url, country, profile_url, cs2 {skill_level, elo, region, matches,
    /// wins, win_rate_percent, kd_ratio, headshots_percent, longest_win_streak,
    /// current_win_streak, recent_results[]}`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<GameStats> for GameStatsDto {
    fn from(s: GameStats) -> Self {
        Self {
            platform: s.platform.as_str(),
            fetched_at: s.fetched_at,
            stale: s.stale,
            data: serde_json::to_value(&s.data).unwrap_or_default(),
        }
    }
}

/// The linked account's stats on a platform.
#[utoipa::path(tag = "games", security(("bearer" = [])), params(StatsParams),
    responses((status = 200, body = GameStatsDto),
        (status = 422, description = "no account linked, or the platform knows none by it", body = Problem),
        (status = 503, description = "no API key configured, or the platform is down with nothing cached", body = Problem)))]
#[get("/stats")]
pub async fn stats(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<StatsParams>,
) -> Result<HttpResponse, ApiError> {
    let platform = q
        .platform
        .as_deref()
        .and_then(Platform::parse)
        .ok_or_else(|| ApiError::invalid("platform", "must be steam or faceit"))?;
    let stats = state.games.stats(auth.id(), platform).await?;
    Ok(HttpResponse::Ok().json(GameStatsDto::from(stats)))
}

/// Registers the routes.
pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(scope::scope("/games").service(stats));
}
