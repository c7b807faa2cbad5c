//! The user's change log, three ways: `GET /sync/changes` (pull), `WS /ws/sync` and
//! `GET /events` (Server-Sent Events). All three serve the same stream from the same
//! cursor (`seq`).

use crate::error::{ApiError, Problem};
use crate::http::AuthUser;
use crate::http::middleware::StreamToken;
use crate::state::AppState;
use crate::sync::socket::{self, WsOutlet};
use crate::sync::sse::SseOutlet;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, web};
use ayubi_sync::{Change, code, drive, too_many};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One change, as the socket sends it too (`ayubi_sync::message::ChangeMessage`, which
/// the sockets send, has the same fields; a test holds them equal).
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
    /// The resource's id: a number, or a key (an ISO 3166 code, a date).
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
    #[param(minimum = 0)]
    pub since: Option<i64>,
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Changes after `since`, oldest first. 410 when the client must refetch everything: its
/// cursor is older than the oldest change kept, or ahead of the server's log; the
/// problem's `seq` is the latest, where to continue after refetching.
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
    if page.resync_required(since) {
        return Err(ApiError::resync_required(page.latest));
    }
    let next_since = page.changes.last().map_or(since, |c| c.seq);
    let changes = page.changes.into_iter().map(ChangeDto::from).collect();
    Ok(HttpResponse::Ok().json(ChangesDto {
        changes,
        next_since,
    }))
}

/// `?since=` of the live endpoints.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    /// The last `seq` the client applied (default 0). For SSE, `Last-Event-ID` wins.
    #[param(minimum = 0)]
    pub since: Option<i64>,
}

/// The bearer token of a live connection: `Authorization: Bearer`, or one the scrubbing
/// middleware moved out of the subprotocols (`bearer, <token>`) or the query
/// (`?access_token=`), so it is never logged.
fn stream_token(req: &HttpRequest) -> Option<String> {
    crate::http::auth::bearer(req)
        .or_else(|| req.extensions().get::<StreamToken>().map(|t| t.0.clone()))
}

async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
) -> Result<(String, ayubi_identity::Principal), ApiError> {
    let token = stream_token(req).ok_or_else(|| {
        ApiError::unauthorized(
            "missing token: send Authorization: Bearer, the subprotocols `bearer, <token>`, or ?access_token=",
        )
    })?;
    let principal = state.identity.authenticate(&token).await?;
    Ok((token, principal))
}

fn cursor(since: Option<i64>, field: &str) -> Result<i64, ApiError> {
    match since {
        Some(s) if s < 0 => Err(ApiError::invalid(field, "must be 0 or more")),
        other => Ok(other.unwrap_or(0)),
    }
}

/// The live stream over a WebSocket: every change after `since`, then live changes, each
/// as a `change` message; `{"type":"resync_required","seq":n}` when the cursor is older
/// than the kept log (refetch, then continue from `n`). Close codes: 1001 server
/// restarting, 4001 token expired or revoked, 4008 slow consumer, 4400 protocol error,
/// 4429 too many sockets.
#[utoipa::path(tag = "sync", security(("bearer" = [])), params(StreamParams), responses(
    (status = 101, description = "switching to the WebSocket protocol"),
    (status = 400, description = "not a WebSocket handshake", body = Problem),
    (status = 401, body = Problem),
    (status = 422, body = Problem),
))]
#[get("/ws/sync")]
pub async fn ws(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    q: web::Query<StreamParams>,
) -> Result<HttpResponse, ApiError> {
    // Credentials first: an anonymous caller learns nothing, not even what a valid
    // cursor is.
    let (token, principal) = authenticate(&state, &req).await?;
    let since = cursor(q.since, "since")?;
    let (response, session, stream) = actix_ws::handle_with_protocols(&req, body, &["bearer"])
        .map_err(|e| ApiError::bad_request(format!("not a WebSocket handshake: {e}")))?;
    let Some(sub) = state.live.hub().subscribe(principal.user) else {
        tracing::debug!(user = %principal.user, "sync socket refused: too many");
        state.live.hub().observer().closed(code::TOO_MANY);
        actix_web::rt::spawn(socket::refuse(session, too_many()));
        return Ok(response);
    };
    tracing::debug!(user = %principal.user, since, "sync socket opened");
    let task = drive(state.live.connect(
        WsOutlet::new(session, stream),
        sub,
        since,
        token,
        principal.user,
        principal.expires_at,
    ));
    tracing::trace!(bytes = std::mem::size_of_val(&task), "sync socket task");
    actix_web::rt::spawn(task);
    Ok(response)
}

/// The live stream as Server-Sent Events: `id: <seq>`, `event: change`, `data:` the
/// change message. Resumes after `Last-Event-ID` (else `since`). `event:
/// resync_required` when the cursor is older than the kept log; `event: close` (with
/// the socket's close code) before the server ends the stream.
#[utoipa::path(tag = "sync", security(("bearer" = [])), params(StreamParams), responses(
    (status = 200, content_type = "text/event-stream", description = "the event stream"),
    (status = 401, body = Problem),
    (status = 422, body = Problem),
    (status = 429, description = "too many live connections for this user", body = Problem),
))]
#[get("/events")]
pub async fn events(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<StreamParams>,
) -> Result<HttpResponse, ApiError> {
    let (token, principal) = authenticate(&state, &req).await?;
    let since = match req.headers().get("last-event-id") {
        Some(v) => {
            let parsed = v.to_str().ok().and_then(|s| s.trim().parse::<i64>().ok());
            cursor(
                Some(parsed.ok_or_else(|| {
                    ApiError::invalid("Last-Event-ID", "must be a seq (an integer)")
                })?),
                "Last-Event-ID",
            )?
        }
        None => cursor(q.since, "since")?,
    };
    let sub = state.live.hub().subscribe(principal.user).ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many live connections for this user: close another device's first",
        )
    })?;
    let (outlet, body) = SseOutlet::new();
    actix_web::rt::spawn(drive(state.live.connect(
        outlet,
        sub,
        since,
        token,
        principal.user,
        principal.expires_at,
    )));
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // No compression (it would buffer events) and no proxy buffering.
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

/// Registers the sync routes.
pub fn config(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(changes).service(ws).service(events);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pulled_change_is_the_message_the_sockets_send() {
        let change = Change {
            seq: 4,
            event: "country:visited".into(),
            entity: "travel_visited".into(),
            id: serde_json::json!("JP"),
            data: serde_json::json!({"country_code": "JP"}),
            at: chrono::DateTime::from_timestamp(1_800_000_000, 123_000).unwrap(),
        };
        let pulled = serde_json::to_value(ChangeDto::from(change.clone())).unwrap();
        let sent = ayubi_sync::message::change_text(&change).unwrap();
        let sent: serde_json::Value = serde_json::from_str(&sent).unwrap();
        assert_eq!(pulled, sent);
    }
}
