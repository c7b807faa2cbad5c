//! `/travel/visited`.

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser, CreateRequest, IdempotencyKey, ListParams};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use ayubi_travel::{NewVisit, Visit};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// A visited country.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitDto {
    /// Alpha-3 code, upper case.
    pub country_iso3: String,
    /// English short name.
    pub country_name: &'static str,
    /// Continent.
    pub continent: &'static str,
    /// When (may be null).
    pub visit_date: Option<NaiveDate>,
    /// Notes.
    pub notes: Option<String>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

impl From<&Visit> for VisitDto {
    fn from(v: &Visit) -> Self {
        Self {
            country_iso3: v.country.iso3.clone(),
            country_name: v.country.name,
            continent: v.country.continent.name(),
            visit_date: v.visit_date,
            notes: v.notes.clone(),
            created_at: v.created_at,
        }
    }
}

/// `POST /travel/visited`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddVisit {
    /// ISO 3166-1 alpha-3, any case.
    #[schema(schema_with = crate::openapi::values::country)]
    pub country_iso3: String,
    /// When (optional).
    pub visit_date: Option<NaiveDate>,
    /// ≤ 10000 characters.
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
}

/// Visited countries, newest visit first (undated last).
#[utoipa::path(tag = "travel", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Vec<VisitDto>), (status = 422, body = Problem)))]
#[get("/visited")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let items = state.travel.visits(auth.id(), q.limit()?).await?;
    Ok(HttpResponse::Ok().json(items.iter().map(VisitDto::from).collect::<Vec<_>>()))
}

/// Mark a country visited; it leaves the wishlist in the same transaction.
#[utoipa::path(tag = "travel", security(("bearer" = [])), request_body = AddVisit,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for 24 h")),
    responses((status = 201, body = VisitDto), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/visited")]
pub async fn add(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
    body: ApiJson<AddVisit>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    let req = CreateRequest {
        user,
        key,
        route: "POST /travel/visited",
        body: &body.canonical,
        status: StatusCode::CREATED,
    };
    let b = &body.value;
    let visit = NewVisit::new(&b.country_iso3, b.visit_date, b.notes.clone())?;
    state
        .idempotency
        .create(req, |v: &Visit| VisitDto::from(v), async {
            Ok(state.travel.add_visit(user, visit).await?)
        })
        .await
}

/// Remove a visit.
#[utoipa::path(tag = "travel", security(("bearer" = [])), params(("iso3" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
#[delete("/visited/{iso3}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    iso3: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.travel.remove_visit(auth.id(), &iso3).await?;
    Ok(HttpResponse::NoContent().finish())
}
