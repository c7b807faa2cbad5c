//! `GET /settings/theme`: the app is dark-only.

use crate::error::ApiError;
use crate::http::AuthUser;
use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

/// The theme.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThemeDto {
    /// Always `dark`.
    pub theme: &'static str,
}

/// Always dark.
#[utoipa::path(tag = "settings", security(("bearer" = [])), responses((status = 200, body = ThemeDto)))]
#[get("/theme")]
pub async fn get(_auth: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ThemeDto { theme: "dark" }))
}
