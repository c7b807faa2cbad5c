//! `/sport/water` (and the legacy `/water`, same store, same shapes).

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser, CreateRequest, DateQuery, IdempotencyKey};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, delete, get, post, web};
use ayubi_sport::service::ListQuery;
use ayubi_sport::{AddWater, Listed, WaterEntry};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// A water entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaterDto {
    /// Id.
    pub id: i64,
    /// The day it counts for.
    pub date: NaiveDate,
    /// Millilitres.
    pub ml: i32,
    /// When it was logged.
    pub created_at: DateTime<Utc>,
}

impl From<&WaterEntry> for WaterDto {
    fn from(w: &WaterEntry) -> Self {
        Self {
            id: w.id,
            date: w.date,
            ml: w.ml,
            created_at: w.created_at,
        }
    }
}

/// `POST /sport/water`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWater {
    /// 1–10000.
    #[schema(minimum = 1, maximum = 10000)]
    pub ml: i64,
    /// Default: today in the user's time zone.
    pub date: Option<NaiveDate>,
}

async fn create_in(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
    body: ApiJson<CreateWater>,
    route: &'static str,
) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    let cmd = AddWater::new(body.date, body.ml)?;
    let req = CreateRequest {
        user,
        key,
        route,
        body: &body.canonical,
        status: StatusCode::CREATED,
    };
    state
        .idempotency
        .create(req, |w: &WaterEntry| WaterDto::from(w), async {
            Ok(state.sport.add_water(user, cmd).await?)
        })
        .await
}

async fn list_in(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<DateQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery {
        from: q.from,
        to: q.to,
        limit: q.limit()?,
    };
    Ok(match state.sport.water_listing(auth.id(), query).await? {
        Listed::Json(body) => HttpResponse::Ok()
            .content_type(ContentType::json())
            .body(body),
        Listed::Entries(rows) => {
            HttpResponse::Ok().json(rows.iter().map(WaterDto::from).collect::<Vec<_>>())
        }
    })
}

async fn delete_in(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state.sport.delete_water(auth.id(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Log water.
#[utoipa::path(tag = "sport", security(("bearer" = [])), request_body = CreateWater,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for 24 h")),
    responses((status = 201, body = WaterDto), (status = 422, body = Problem)))]
#[post("/water")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
    body: ApiJson<CreateWater>,
) -> Result<HttpResponse, ApiError> {
    create_in(state, auth, key, body, "POST /sport/water").await
}

/// Water entries from `from` to `to` (default today), newest first.
#[utoipa::path(tag = "sport", security(("bearer" = [])), params(DateQuery),
    responses((status = 200, body = Vec<WaterDto>), (status = 422, body = Problem)))]
#[get("/water")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<DateQuery>,
) -> Result<HttpResponse, ApiError> {
    list_in(state, auth, q).await
}

/// Delete a water entry.
#[utoipa::path(tag = "sport", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
#[delete("/water/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    delete_in(state, auth, id).await
}

/// Legacy: log water (same store as `/sport/water`).
#[utoipa::path(tag = "sport", security(("bearer" = [])), request_body = CreateWater,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for 24 h")),
    responses((status = 201, body = WaterDto), (status = 422, body = Problem)))]
#[post("/water")]
pub async fn legacy_create(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
    body: ApiJson<CreateWater>,
) -> Result<HttpResponse, ApiError> {
    create_in(state, auth, key, body, "POST /water").await
}

/// Legacy: water entries (same store as `/sport/water`).
#[utoipa::path(tag = "sport", security(("bearer" = [])), params(DateQuery),
    responses((status = 200, body = Vec<WaterDto>), (status = 422, body = Problem)))]
#[get("/water")]
pub async fn legacy_list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<DateQuery>,
) -> Result<HttpResponse, ApiError> {
    list_in(state, auth, q).await
}

/// Legacy: delete a water entry.
#[utoipa::path(tag = "sport", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
#[delete("/water/{id}")]
pub async fn legacy_delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    delete_in(state, auth, id).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A store may answer the list as `WaterEntry`'s own serde form (SQLite writes it in
    /// the query): it must be this DTO's, field for field and byte for byte.
    #[test]
    fn the_entry_serialises_as_the_dto() {
        for at in [
            "2026-12-07T10:00:00Z",
            "2026-12-07T10:00:00.5Z",
            "2026-12-07T10:00:00.123456Z",
            "2026-12-07T10:00:00.123456789Z",
        ] {
            let e = WaterEntry {
                id: 7,
                date: "2026-12-07".parse().unwrap(),
                ml: 250,
                created_at: at.parse().unwrap(),
            };
            assert_eq!(
                serde_json::to_string(&e).unwrap(),
                serde_json::to_string(&WaterDto::from(&e)).unwrap()
            );
        }
    }
}
