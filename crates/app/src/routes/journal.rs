//! `/api/v1/journal`: entries, filtered by date and tag, searched by relevance.

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser, CreateRequest, IdempotencyKey};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, put, web};
use ayubi_journal::Entry;
use ayubi_journal::service::EntryInput;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

/// A journal entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct JournalDto {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: Option<String>,
    /// Text.
    pub content: String,
    /// The day.
    pub date: NaiveDate,
    /// 1–5.
    pub mood: Option<u8>,
    /// Tags.
    pub tags: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&Entry> for JournalDto {
    fn from(e: &Entry) -> Self {
        Self {
            id: e.id,
            title: e.title.clone(),
            content: e.content.clone(),
            date: e.date,
            mood: e.mood,
            tags: e.tags.clone(),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// `POST` / `PUT` body (PUT replaces every field).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JournalBody {
    /// ≤ 200 characters.
    #[schema(max_length = 200)]
    pub title: Option<String>,
    /// 1–100000 characters, not blank. (The upper bound is not a `maxLength`: with it and
    /// the pattern, Schemathesis could not draw a valid body and sent `0` for one.)
    #[schema(
        min_length = 1,
        pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub content: String,
    /// Default today in the user's time zone.
    pub date: Option<NaiveDate>,
    /// 1–5.
    #[schema(minimum = 1, maximum = 5)]
    pub mood: Option<i64>,
    /// ≤ 20 tags of 1–50 characters.
    #[schema(schema_with = crate::openapi::values::tags)]
    pub tags: Option<Vec<String>>,
}

impl JournalBody {
    fn input(&self) -> Result<EntryInput, ApiError> {
        Ok(EntryInput::new(
            self.title.clone(),
            self.content.clone(),
            self.date,
            self.mood,
            self.tags.clone().unwrap_or_default(),
        )?)
    }
}

/// `?from=&to=&q=&tag=&limit=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JournalParams {
    /// First day.
    pub from: Option<NaiveDate>,
    /// Last day.
    pub to: Option<NaiveDate>,
    /// Full-text search: every word must match as a prefix, case-insensitively; results
    /// by relevance.
    pub q: Option<String>,
    /// Only entries with this tag.
    pub tag: Option<String>,
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Entries: by relevance with `q`, else newest first.
#[utoipa::path(tag = "journal", security(("bearer" = [])), params(JournalParams),
    responses((status = 200, body = Vec<JournalDto>), (status = 422, body = Problem)))]
#[get("")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<JournalParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = crate::http::parse_limit(q.limit)?;
    let rows = state
        .journal
        .list(
            auth.id(),
            q.from,
            q.to,
            q.q.as_deref(),
            q.tag.clone(),
            limit,
        )
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(JournalDto::from).collect::<Vec<_>>()))
}

/// Write an entry.
#[utoipa::path(tag = "journal", security(("bearer" = [])), request_body = JournalBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for 24 h")),
    responses((status = 201, body = JournalDto), (status = 422, body = Problem)))]
#[post("")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
    body: ApiJson<JournalBody>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    let input = body.input()?;
    let req = CreateRequest {
        user,
        key,
        route: "POST /journal",
        body: &body.canonical,
        status: StatusCode::CREATED,
    };
    state
        .idempotency
        .create(req, |e: &Entry| JournalDto::from(e), async {
            Ok(state.journal.create(user, input).await?)
        })
        .await
}

/// One entry.
#[utoipa::path(tag = "journal", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = JournalDto), (status = 404, body = Problem)))]
#[get("/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let e = state.journal.get(auth.id(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(JournalDto::from(&e)))
}

/// Replace an entry.
#[utoipa::path(tag = "journal", security(("bearer" = [])), params(("id" = i64, Path)), request_body = JournalBody,
    responses((status = 200, body = JournalDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[put("/{id}")]
pub async fn put(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: ApiJson<JournalBody>,
) -> Result<HttpResponse, ApiError> {
    let e = state
        .journal
        .update(auth.id(), id.into_inner(), body.input()?)
        .await?;
    Ok(HttpResponse::Ok().json(JournalDto::from(&e)))
}

/// Delete an entry.
#[utoipa::path(tag = "journal", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
#[delete("/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state.journal.delete(auth.id(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the journal routes.
pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/journal")
            .service(list)
            .service(create)
            .service(get)
            .service(put)
            .service(delete),
    );
}
