//! `GET/PUT /settings/profile`.

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser};
use crate::state::AppState;
use actix_web::{HttpResponse, get, put, web};
use ayubi_settings::{Profile, ProfilePatch};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// The profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileDto {
    /// Login email.
    pub email: String,
    /// Name to show.
    pub display_name: Option<String>,
    /// IANA time zone ("today" for every module).
    pub timezone: &'static str,
    /// SteamID64.
    pub steam_id: Option<String>,
    /// FACEIT nickname.
    pub faceit_nickname: Option<String>,
}

impl From<&Profile> for ProfileDto {
    fn from(p: &Profile) -> Self {
        Self {
            email: p.email.clone(),
            display_name: p.display_name.clone(),
            timezone: p.timezone.name(),
            steam_id: p.steam_id.clone(),
            faceit_nickname: p.faceit_nickname.clone(),
        }
    }
}

/// A field that was sent, possibly as `null`.
fn sent<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `PUT /settings/profile`: any of the fields; `null` clears one (the time zone returns to
/// UTC); absent fields stay.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutProfile {
    /// 1–100 characters.
    #[serde(default, deserialize_with = "sent")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]")]
    pub display_name: Option<Option<String>>,
    /// IANA name.
    #[serde(default, deserialize_with = "sent")]
    #[schema(schema_with = crate::openapi::values::timezone_or_null)]
    pub timezone: Option<Option<String>>,
    /// SteamID64 (17 digits).
    #[serde(default, deserialize_with = "sent")]
    #[schema(value_type = Option<String>, pattern = "^[0-9]{17}$")]
    pub steam_id: Option<Option<String>>,
    /// 2–32 letters, digits, `_` or `-`.
    #[serde(default, deserialize_with = "sent")]
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z0-9_-]{2,32}$")]
    pub faceit_nickname: Option<Option<String>>,
}

/// The profile.
#[utoipa::path(tag = "settings", security(("bearer" = [])), responses((status = 200, body = ProfileDto)))]
#[get("/profile")]
pub async fn get(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let profile = state.settings.profile(auth.id()).await?;
    Ok(HttpResponse::Ok().json(ProfileDto::from(&profile)))
}

/// Update the fields sent.
#[utoipa::path(tag = "settings", security(("bearer" = [])), request_body = PutProfile,
    responses((status = 200, body = ProfileDto), (status = 422, body = Problem)))]
#[put("/profile")]
pub async fn put(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: ApiJson<PutProfile>,
) -> Result<HttpResponse, ApiError> {
    let b = body.value;
    let patch = ProfilePatch::parse(b.display_name, b.timezone, b.steam_id, b.faceit_nickname)?;
    let profile = state.settings.update_profile(auth.id(), patch).await?;
    Ok(HttpResponse::Ok().json(ProfileDto::from(&profile)))
}
