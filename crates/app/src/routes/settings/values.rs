//! `GET/PUT /settings`: the settings values.

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser};
use crate::state::AppState;

use actix_web::{HttpResponse, get, put, web};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use validator::{Validate, ValidationErrors};

/// Settings to change: each key set to its value; `null` deletes a free-form key and
/// returns a known one to its default.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct SettingsPatch(pub BTreeMap<String, Value>);

impl utoipa::PartialSchema for SettingsPatch {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::openapi::values::settings_patch()
    }
}

impl ToSchema for SettingsPatch {}

impl Validate for SettingsPatch {
    // Keys and values are checked by the settings domain, which names each bad key.
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}

/// Every setting, defaults filled in.
#[utoipa::path(tag = "settings", security(("bearer" = [])),
    responses((status = 200, description = "an object of every setting", body = Object)))]
#[get("")]
pub async fn get(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.settings(auth.id()).await?;
    Ok(HttpResponse::Ok().json(settings.effective()))
}

/// Merge settings; all or nothing; returns every setting.
#[utoipa::path(tag = "settings", security(("bearer" = [])), request_body = SettingsPatch,
    responses((status = 200, description = "an object of every setting", body = Object),
              (status = 422, body = Problem)))]
#[put("")]
pub async fn put(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: ApiJson<SettingsPatch>,
) -> Result<HttpResponse, ApiError> {
    let patch = ayubi_settings::SettingsPatch::parse(body.value.0)?;
    let settings = state.settings.update(auth.id(), patch).await?;
    Ok(HttpResponse::Ok().json(settings.effective()))
}
