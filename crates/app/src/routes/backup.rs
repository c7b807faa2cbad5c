//! `/api/v1/backup`: export, import, stored backups and their schedule.

use crate::error::{ApiError, Problem};
use crate::http::json::{BodyType, body_type, not_json, shape_error};
use crate::http::{AuthUser, CreateRequest, IdempotencyKey};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_ENCODING, CONTENT_LENGTH};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use ayubi_backup::ports::ByteSource;
use ayubi_backup::ports::{ImportOptions, StoredBackup, Trigger};
use ayubi_backup::{Document, ExportDocument, Import, Interval, Keep, Mode, Outcome};
use base64::Engine;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// A stored backup.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredBackupDto {
    /// Id.
    pub id: i64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// `manual` or `scheduled`.
    #[schema(value_type = String)]
    pub trigger: Trigger,
    /// Bytes.
    pub size_bytes: i64,
    /// Hex SHA-256 of the document.
    pub sha256: String,
}

impl From<StoredBackup> for StoredBackupDto {
    fn from(b: StoredBackup) -> Self {
        Self {
            id: b.id,
            created_at: b.created_at,
            trigger: b.trigger,
            size_bytes: b.size_bytes,
            sha256: b.sha256,
        }
    }
}

/// What an import did (or, with `dry_run`, would do), by table.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResultDto {
    /// `merge` or `replace`.
    pub mode: String,
    /// Nothing was written.
    pub dry_run: bool,
    /// Rows created.
    pub created: BTreeMap<String, u64>,
    /// Rows already there (merge).
    pub skipped: BTreeMap<String, u64>,
    /// Rows removed (replace).
    pub deleted: BTreeMap<String, u64>,
}

impl From<Outcome> for ImportResultDto {
    fn from(o: Outcome) -> Self {
        let own = |m: BTreeMap<&'static str, u64>| {
            m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
        };
        Self {
            mode: match o.mode {
                Mode::Replace => "replace".into(),
                Mode::Merge => "merge".into(),
            },
            dry_run: o.dry_run,
            created: own(o.created),
            skipped: own(o.skipped),
            deleted: own(o.deleted),
        }
    }
}

/// Import options.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// `merge` (default) or `replace`.
    #[param(pattern = "^(merge|replace)$")]
    pub mode: Option<String>,
    /// Report the counts, write nothing.
    pub dry_run: Option<bool>,
}

/// A backup schedule.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BackupScheduleDto)]
pub struct ScheduleDto {
    /// `daily`, `weekly` or `off`.
    pub interval: String,
    /// Scheduled backups kept (1–100).
    pub keep: u8,
    /// When the next run is due.
    pub next_run_at: Option<DateTime<Utc>>,
}

impl From<ayubi_backup::Schedule> for ScheduleDto {
    fn from(s: ayubi_backup::Schedule) -> Self {
        Self {
            interval: s.interval.as_str().to_owned(),
            keep: s.keep.get(),
            next_run_at: s.next_run_at,
        }
    }
}

/// `POST /backup/schedule`.
#[derive(Debug, Deserialize, ToSchema, validator::Validate)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// `daily`, `weekly` or `off`.
    #[schema(pattern = "^(daily|weekly|off)$")]
    pub interval: String,
    /// 1–100 (default 7).
    #[schema(minimum = 1, maximum = 100)]
    pub keep: Option<i64>,
}

/// `GET /backup/history` options.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// A document's bytes as a response body.
fn chunks(body: Box<dyn ByteSource>) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::try_unfold(body, |mut b| async move {
        Ok(b.chunk().await?.map(|c| (Bytes::from(c), b)))
    })
}

/// A document response: attachment, length, and its SHA-256 both as RFC 9530
/// `Repr-Digest` and as hex in `X-Content-SHA256` (what `sha256sum` prints).
fn document_response(doc: ExportDocument) -> HttpResponse {
    let ExportDocument {
        size,
        sha256,
        exported_at: at,
        body,
    } = doc;
    let raw: Vec<u8> = (0..sha256.len() / 2)
        .filter_map(|i| u8::from_str_radix(sha256.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    let digest = base64::engine::general_purpose::STANDARD.encode(raw);
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"ayubi-backup-{}.json\"",
                at.format("%Y-%m-%dT%H%M%SZ")
            ),
        ))
        .insert_header(("X-Content-SHA256", sha256))
        .insert_header(("Repr-Digest", format!("sha-256=:{digest}:")))
        // Sent as stored: compressed, the body would no longer match `Content-Length` and
        // `Repr-Digest` (RFC 9530 digests the encoded representation). `identity` keeps
        // `Compress` off; `middleware::security_headers` removes the header again.
        .insert_header((CONTENT_ENCODING, "identity"))
        .no_chunking(size)
        .streaming(chunks(body))
}

/// The whole dashboard as one backup document, streamed.
#[utoipa::path(tag = "backup", security(("bearer" = [])),
    responses((status = 200, description = "the backup document (streamed), `X-Content-SHA256` and `Repr-Digest` carry its SHA-256", content_type = "application/json")))]
#[get("/export")]
pub async fn export(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(document_response(state.backups.export(auth.id()).await?))
}

/// Reads the body up to `limit` bytes; a declared or actual length above it is a 413
/// that names the limit, before the rest is read.
async fn read_limited(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the document is larger than the import limit of {} MiB ({limit} bytes)",
                limit / (1024 * 1024)
            ),
        )
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("could not read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses and checks a document (CPU work: run off the async workers).
fn parse_document(bytes: &[u8]) -> Result<Import, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let doc: Document = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        if e.inner().is_data() {
            shape_error(e)
        } else {
            ApiError::bad_request(format!("body is not valid JSON: {}", e.inner()))
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("body is not valid JSON: {e}")))?;
    Ok(Import::parse(doc)?)
}

/// Imports a backup document (merge or replace); a dry run only counts.
#[utoipa::path(tag = "backup", security(("bearer" = [])),
    params(ImportParams, ("Idempotency-Key" = Option<String>, Header, description = "replays the first response for 24 h")),
    request_body(content = Object, description = "a backup document, whole or partial", content_type = "application/json"),
    responses((status = 200, body = ImportResultDto), (status = 413, body = Problem),
        (status = 422, body = Problem, description = "names the bad path, e.g. `finance.entries[1042].amount`; nothing was written")))]
#[post("/import")]
pub async fn import(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
    q: web::Query<ImportParams>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let mode = match q.mode.as_deref() {
        None => Mode::Merge,
        Some(m) => {
            Mode::parse(m).ok_or_else(|| ApiError::invalid("mode", "must be merge or replace"))?
        }
    };
    // A document without a Content-Type is taken as JSON (curl --data-binary @file).
    if body_type(&req) == BodyType::Other {
        return Err(not_json());
    }
    let _turn = state.backups.turn().await?;
    let body = read_limited(&req, payload, state.backups.max_import_bytes()).await?;
    let dry_run = q.dry_run.unwrap_or(false);
    // A key's request is the document and how it is applied (the same key with another
    // mode is a different request: 422, not a replay). Its digest stands for it, so the
    // document itself is dropped as soon as it is parsed.
    let fingerprint = match &key.0 {
        Some(_) => {
            let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
            ctx.update(format!("{mode:?} {dry_run}\n").as_bytes());
            ctx.update(&body);
            ctx.finish().as_ref().to_vec()
        }
        None => Vec::new(),
    };
    let checked = web::block(move || parse_document(&body))
        .await
        .map_err(ApiError::internal)??;
    let options = ImportOptions {
        mode,
        dry_run,
        now: state.clock.now(),
    };
    let req = CreateRequest {
        user: auth.id(),
        key,
        route: "POST /backup/import",
        body: &fingerprint,
        status: StatusCode::OK,
    };
    let backups = state.backups.clone();
    let user = auth.id();
    state
        .idempotency
        .create(
            req,
            |o: &Outcome| ImportResultDto::from(o.clone()),
            async move { Ok(backups.import(user, &checked, options).await?) },
        )
        .await
}

/// Stores a backup of the dashboard in the object store now.
#[utoipa::path(tag = "backup", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for 24 h")),
    responses((status = 201, body = StoredBackupDto)))]
#[post("/history")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    let req = CreateRequest {
        user,
        key,
        route: "POST /backup/history",
        body: b"",
        status: StatusCode::CREATED,
    };
    let backups = state.backups.clone();
    state
        .idempotency
        .create(
            req,
            |b: &StoredBackup| StoredBackupDto::from(b.clone()),
            async move { Ok(backups.store(user, Trigger::Manual).await?) },
        )
        .await
}

/// The stored backups, newest first.
#[utoipa::path(tag = "backup", security(("bearer" = [])), params(HistoryParams),
    responses((status = 200, body = Vec<StoredBackupDto>, description = "newest first")))]
#[get("/history")]
pub async fn history(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<HistoryParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = crate::http::parse_limit(q.limit)?;
    let rows = state
        .backups
        .history(auth.id(), u64::from(limit.get()))
        .await?;
    Ok(HttpResponse::Ok().json(
        rows.into_iter()
            .map(StoredBackupDto::from)
            .collect::<Vec<_>>(),
    ))
}

/// One stored backup's document.
#[utoipa::path(tag = "backup", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "the stored document", content_type = "application/json"), (status = 404, body = Problem)))]
#[get("/history/{id}")]
pub async fn download(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(document_response(
        state.backups.download(auth.id(), *id).await?,
    ))
}

/// Forgets a stored backup and deletes its document.
#[utoipa::path(tag = "backup", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
#[delete("/history/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state.backups.remove(auth.id(), *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// How often backups are made, and how many are kept.
#[utoipa::path(tag = "backup", security(("bearer" = [])),
    responses((status = 200, body = ScheduleDto)))]
#[get("/schedule")]
pub async fn schedule(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let s = state.backups.schedule(auth.id()).await?;
    Ok(HttpResponse::Ok().json(ScheduleDto::from(s)))
}

/// Sets how often backups are made and how many are kept.
#[utoipa::path(tag = "backup", security(("bearer" = [])), request_body = ScheduleBody,
    responses((status = 200, body = ScheduleDto), (status = 422, body = Problem)))]
#[post("/schedule")]
pub async fn set_schedule(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: crate::http::ApiJson<ScheduleBody>,
) -> Result<HttpResponse, ApiError> {
    let interval = Interval::parse(&body.interval)
        .ok_or_else(|| ApiError::invalid("interval", "must be daily, weekly or off"))?;
    let keep = match body.keep {
        None => Keep::default(),
        Some(n) => {
            Keep::new(n).ok_or_else(|| ApiError::invalid("keep", "must be between 1 and 100"))?
        }
    };
    let stored = state
        .backups
        .set_schedule(auth.id(), interval, keep)
        .await?;
    Ok(HttpResponse::Ok().json(ScheduleDto::from(stored)))
}

/// Registers the backup routes.
pub fn config(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/backup")
            .service(export)
            .service(import)
            .service(create)
            .service(history)
            .service(download)
            .service(remove)
            .service(schedule)
            .service(set_schedule),
    );
}
