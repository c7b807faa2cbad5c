//! `/api/v1/sync/changes`: the user's change log, for clients that cannot hold a socket.

use crate::error::{ApiError, Problem};
use crate::http::AuthUser;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use ayubi_kernel::Change;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One change, as the socket sends it too.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeDto {
    /// Always `change`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Per-user sequence number.
    pub seq: i64,
    /// `<entity>:<verb>`, e.g. `water:added`.
    pub event: String,
    /// The table, e.g. `sport_water`.
    pub entity: String,
    /// The resource's id (or key).
    #[schema(value_type = Object)]
    pub id: serde_json::Value,
    /// The resource as the REST API returns it; `{"id": …}` for a delete.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When it happened.
    pub at: DateTime<Utc>,
}

impl From<Change> for ChangeDto {
    fn from(c: Change) -> Self {
        Self {
            kind: "change",
            seq: c.seq,
            event: c.event,
            entity: c.entity,
            id: c.id,
            data: c.data,
            at: c.at,
        }
    }
}

/// A page of changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangesDto {
    /// Oldest first.
    pub changes: Vec<ChangeDto>,
    /// The cursor for the next call: the last returned `seq`, or `since` when none.
    pub next_since: i64,
}

/// `?since=&limit=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChangesParams {
    /// The last `seq` the client applied (default 0: everything kept).
    pub since: Option<i64>,
    /// 1–1000, default 100.
    pub limit: Option<u32>,
}

/// Changes after `since`, oldest first. 410 when the client must refetch everything: its
/// cursor is older than the oldest change kept, or ahead of the server's log.
#[utoipa::path(tag = "sync", security(("bearer" = [])), params(ChangesParams), responses(
    (status = 200, body = ChangesDto),
    (status = 410, description = "resync required", body = Problem),
    (status = 422, body = Problem),
))]
#[get("/sync/changes")]
pub async fn changes(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<ChangesParams>,
) -> Result<HttpResponse, ApiError> {
    let since = q.since.unwrap_or(0);
    if since < 0 {
        return Err(ApiError::invalid("since", "must be 0 or more"));
    }
    let limit = crate::http::parse_limit(q.limit)?;
    let page = state.changes.since(auth.id(), since, limit.get()).await?;
    let lost = page.oldest_kept.is_some_and(|oldest| since < oldest - 1)
        || (page.oldest_kept.is_none() && since < page.latest);
    if lost || since > page.latest {
        return Err(ApiError::new(
            StatusCode::GONE,
            "resync required: the changes after this cursor are no longer available; refetch and restart from the latest seq",
        ));
    }
    let next_since = page.changes.last().map_or(since, |c| c.seq);
    let changes = page.changes.into_iter().map(ChangeDto::from).collect();
    Ok(HttpResponse::Ok().json(ChangesDto {
        changes,
        next_since,
    }))
}

/// Registers the sync routes.
pub fn config(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(changes);
}
