//! `/travel/wishlist`.

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser, CreateRequest, IdempotencyKey, ListParams};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use ayubi_travel::{NewWish, WishlistItem};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// A country on the wishlist.
#[derive(Debug, Serialize, ToSchema)]
pub struct WishlistDto {
    /// Alpha-3 code, upper case.
    pub country_iso3: String,
    /// English short name.
    pub country_name: &'static str,
    /// Continent.
    pub continent: &'static str,
    /// When it was added.
    pub added_date: DateTime<Utc>,
}

impl From<&WishlistItem> for WishlistDto {
    fn from(w: &WishlistItem) -> Self {
        Self {
            country_iso3: w.country.iso3.clone(),
            country_name: w.country.name,
            continent: w.country.continent.name(),
            added_date: w.added_at,
        }
    }
}

/// `POST /travel/wishlist`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddWish {
    /// ISO 3166-1 alpha-3, any case.
    #[schema(schema_with = crate::openapi::values::country)]
    pub country_iso3: String,
}

/// The wishlist, newest first.
#[utoipa::path(tag = "travel", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Vec<WishlistDto>), (status = 422, body = Problem)))]
#[get("/wishlist")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let items = state.travel.wishlist(auth.id(), q.limit()?).await?;
    Ok(HttpResponse::Ok().json(items.iter().map(WishlistDto::from).collect::<Vec<_>>()))
}

/// Put a country on the wishlist: unknown code → 422; listed or visited → 409.
#[utoipa::path(tag = "travel", security(("bearer" = [])), request_body = AddWish,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for 24 h")),
    responses((status = 201, body = WishlistDto), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/wishlist")]
pub async fn add(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
    body: ApiJson<AddWish>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    let wish = NewWish::new(&body.country_iso3)?;
    let req = CreateRequest {
        user,
        key,
        route: "POST /travel/wishlist",
        body: &body.canonical,
        status: StatusCode::CREATED,
    };
    state
        .idempotency
        .create(req, |w: &WishlistItem| WishlistDto::from(w), async {
            Ok(state.travel.add_wish(user, wish).await?)
        })
        .await
}

/// Take a country off the wishlist.
#[utoipa::path(tag = "travel", security(("bearer" = [])), params(("iso3" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
#[delete("/wishlist/{iso3}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    iso3: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.travel.remove_wish(auth.id(), &iso3).await?;
    Ok(HttpResponse::NoContent().finish())
}
