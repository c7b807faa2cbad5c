//! `/sport/food`.

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser, CreateRequest, DateQuery, IdempotencyKey};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use ayubi_sport::service::ListQuery;
use ayubi_sport::{AddFood, FoodEntry, Grams, Macros};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// A meal. Macros are grams with one decimal place.
#[derive(Debug, Serialize, ToSchema)]
pub struct FoodDto {
    /// Id.
    pub id: i64,
    /// The day.
    pub date: NaiveDate,
    /// What it was.
    pub name: String,
    /// Energy (kcal).
    pub kcal: i32,
    /// Protein (g).
    pub protein: Option<f64>,
    /// Carbohydrates (g).
    pub carbs: Option<f64>,
    /// Fat (g).
    pub fat: Option<f64>,
    /// When it was logged.
    pub created_at: DateTime<Utc>,
}

impl From<&FoodEntry> for FoodDto {
    fn from(f: &FoodEntry) -> Self {
        Self {
            id: f.id,
            date: f.date,
            name: f.name.clone(),
            kcal: f.kcal,
            protein: f.protein.map(Grams::grams),
            carbs: f.carbs.map(Grams::grams),
            fat: f.fat.map(Grams::grams),
            created_at: f.created_at,
        }
    }
}

/// `POST /sport/food`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFood {
    /// 1–255 characters.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub name: String,
    /// 0–20000.
    #[schema(minimum = 0, maximum = 20000)]
    pub kcal: i64,
    /// 0–2000 g, one decimal place.
    #[schema(minimum = 0, maximum = 2000, multiple_of = 0.1)]
    pub protein: Option<f64>,
    /// 0–2000 g, one decimal place.
    #[schema(minimum = 0, maximum = 2000, multiple_of = 0.1)]
    pub carbs: Option<f64>,
    /// 0–2000 g, one decimal place.
    #[schema(minimum = 0, maximum = 2000, multiple_of = 0.1)]
    pub fat: Option<f64>,
    /// Default: today in the user's time zone.
    pub date: Option<NaiveDate>,
}

/// Log a meal.
#[utoipa::path(tag = "sport", security(("bearer" = [])), request_body = CreateFood,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for 24 h")),
    responses((status = 201, body = FoodDto), (status = 422, body = Problem)))]
#[post("/food")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
    body: ApiJson<CreateFood>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    let req = CreateRequest {
        user,
        key,
        route: "POST /sport/food",
        body: &body.canonical,
        status: StatusCode::CREATED,
    };
    let b = &body.value;
    let macros = Macros {
        protein: b.protein,
        carbs: b.carbs,
        fat: b.fat,
    };
    let cmd = AddFood::new(b.date, &b.name, b.kcal, macros)?;
    state
        .idempotency
        .create(req, |f: &FoodEntry| FoodDto::from(f), async {
            Ok(state.sport.add_food(user, cmd).await?)
        })
        .await
}

/// Meals from `from` to `to` (default today), newest first.
#[utoipa::path(tag = "sport", security(("bearer" = [])), params(DateQuery),
    responses((status = 200, body = Vec<FoodDto>), (status = 422, body = Problem)))]
#[get("/food")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<DateQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery {
        from: q.from,
        to: q.to,
        limit: q.limit()?,
    };
    let rows = state.sport.list_food(auth.id(), query).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(FoodDto::from).collect::<Vec<_>>()))
}

/// Delete a meal.
#[utoipa::path(tag = "sport", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
#[delete("/food/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state.sport.delete_food(auth.id(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
