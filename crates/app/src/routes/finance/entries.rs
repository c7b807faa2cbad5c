//! `/finance/entries`.

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser, CreateRequest, IdempotencyKey};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, put, web};
use ayubi_finance::service::EntryInput;
use ayubi_finance::{Entry, EntryFilter, Kind};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// An entry. `amount` is exact to the cent.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryDto {
    /// Id.
    pub id: i64,
    /// `income` / `expense`.
    pub kind: &'static str,
    /// > 0, two fraction digits at most.
    pub amount: f64,
    /// ISO 4217.
    pub currency: String,
    /// Category.
    pub category_id: Option<i64>,
    /// The day.
    pub date: NaiveDate,
    /// Note.
    pub note: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&Entry> for EntryDto {
    fn from(e: &Entry) -> Self {
        Self {
            id: e.id,
            kind: e.kind.as_str(),
            amount: e.amount.major(),
            currency: e.currency.as_str().to_owned(),
            category_id: e.category_id,
            date: e.date,
            note: e.note.clone(),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// `POST` / `PUT` body (PUT replaces every field; absent optional ones take defaults).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    /// `income` / `expense`.
    #[schema(pattern = "^(income|expense)$")]
    pub kind: String,
    /// > 0, at most two fraction digits.
    #[schema(exclusive_minimum = 0, maximum = 1_000_000_000, multiple_of = 0.01)]
    pub amount: f64,
    /// ISO 4217 (default: the `currency` setting).
    #[schema(schema_with = crate::openapi::values::currency_or_null)]
    pub currency: Option<String>,
    /// One of the user's categories of the same kind.
    pub category_id: Option<i64>,
    /// Default: today in the user's time zone.
    pub date: Option<NaiveDate>,
    /// ≤ 1000 characters.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

impl EntryBody {
    fn input(&self) -> Result<EntryInput, ApiError> {
        Ok(EntryInput::new(
            &self.kind,
            self.amount,
            self.currency.as_deref(),
            self.category_id,
            self.date,
            self.note.clone(),
        )?)
    }
}

/// `?from=&to=&category_id=&kind=&limit=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EntryParams {
    /// First day.
    pub from: Option<NaiveDate>,
    /// Last day.
    pub to: Option<NaiveDate>,
    /// Only this category.
    pub category_id: Option<i64>,
    /// `income` / `expense`.
    #[param(pattern = "^(income|expense)$")]
    pub kind: Option<String>,
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Entries, newest date first.
#[utoipa::path(tag = "finance", security(("bearer" = [])), params(EntryParams),
    responses((status = 200, body = Vec<EntryDto>), (status = 422, body = Problem)))]
#[get("/entries")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<EntryParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = crate::http::parse_limit(q.limit)?;
    let kind = q
        .kind
        .as_deref()
        .map(|k| Kind::parse("kind", k))
        .transpose()?;
    let filter = EntryFilter {
        from: q.from,
        to: q.to,
        category_id: q.category_id,
        kind,
    };
    let rows = state.finance.entries(auth.id(), filter, limit).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(EntryDto::from).collect::<Vec<_>>()))
}

/// Create an entry.
#[utoipa::path(tag = "finance", security(("bearer" = [])), request_body = EntryBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for 24 h")),
    responses((status = 201, body = EntryDto), (status = 422, body = Problem)))]
#[post("/entries")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
    body: ApiJson<EntryBody>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    let input = body.input()?;
    let req = CreateRequest {
        user,
        key,
        route: "POST /finance/entries",
        body: &body.canonical,
        status: StatusCode::CREATED,
    };
    state
        .idempotency
        .create(req, |e: &Entry| EntryDto::from(e), async {
            Ok(state.finance.create_entry(user, input).await?)
        })
        .await
}

/// One entry.
#[utoipa::path(tag = "finance", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = EntryDto), (status = 404, body = Problem)))]
#[get("/entries/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let e = state.finance.entry(auth.id(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(EntryDto::from(&e)))
}

/// Replace an entry.
#[utoipa::path(tag = "finance", security(("bearer" = [])), params(("id" = i64, Path)), request_body = EntryBody,
    responses((status = 200, body = EntryDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[put("/entries/{id}")]
pub async fn put(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: ApiJson<EntryBody>,
) -> Result<HttpResponse, ApiError> {
    let e = state
        .finance
        .update_entry(auth.id(), id.into_inner(), body.input()?)
        .await?;
    Ok(HttpResponse::Ok().json(EntryDto::from(&e)))
}

/// Delete an entry.
#[utoipa::path(tag = "finance", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
#[delete("/entries/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state
        .finance
        .delete_entry(auth.id(), id.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
