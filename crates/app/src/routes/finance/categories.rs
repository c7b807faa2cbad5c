//! `/finance/categories`.

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser, CreateRequest, IdempotencyKey, ListParams};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, put, web};
use ayubi_finance::{Category, CategoryFields};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// A category.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryDto {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// `income` / `expense`.
    pub kind: &'static str,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&Category> for CategoryDto {
    fn from(c: &Category) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
            kind: c.kind.as_str(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// `POST` / `PUT` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryBody {
    /// 1–100 characters; unique per kind.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub name: String,
    /// `income` / `expense`.
    #[schema(pattern = "^(income|expense)$")]
    pub kind: String,
}

/// Categories, by name.
#[utoipa::path(tag = "finance", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Vec<CategoryDto>)))]
#[get("/categories")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let rows = state.finance.categories(auth.id(), q.limit()?).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(CategoryDto::from).collect::<Vec<_>>()))
}

/// Create a category.
#[utoipa::path(tag = "finance", security(("bearer" = [])), request_body = CategoryBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for 24 h")),
    responses((status = 201, body = CategoryDto), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/categories")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
    body: ApiJson<CategoryBody>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    let fields = CategoryFields::new(&body.name, &body.kind)?;
    let req = CreateRequest {
        user,
        key,
        route: "POST /finance/categories",
        body: &body.canonical,
        status: StatusCode::CREATED,
    };
    state
        .idempotency
        .create(req, |c: &Category| CategoryDto::from(c), async {
            Ok(state.finance.create_category(user, fields).await?)
        })
        .await
}

/// Replace a category.
#[utoipa::path(tag = "finance", security(("bearer" = [])), params(("id" = i64, Path)), request_body = CategoryBody,
    responses((status = 200, body = CategoryDto), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[put("/categories/{id}")]
pub async fn put(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: ApiJson<CategoryBody>,
) -> Result<HttpResponse, ApiError> {
    let fields = CategoryFields::new(&body.name, &body.kind)?;
    let c = state
        .finance
        .update_category(auth.id(), id.into_inner(), fields)
        .await?;
    Ok(HttpResponse::Ok().json(CategoryDto::from(&c)))
}

/// Delete a category; 409 while entries use it.
#[utoipa::path(tag = "finance", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[delete("/categories/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state
        .finance
        .delete_category(auth.id(), id.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
