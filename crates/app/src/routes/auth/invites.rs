//! `/api/v1/auth/invites`: single-use sign-up codes made by signed-in users (the operator
//! makes them with `ayubi invite create`).

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser, CreateRequest, IdempotencyKey, ListParams};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use ayubi_identity::{CreatedInvite, Invite, InviteLifetime, InviteNote};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// `POST /auth/invites`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteRequest {
    /// Days the code works: 1–30, default 7.
    #[schema(minimum = 1, maximum = 30)]
    pub expires_in_days: Option<i64>,
    /// Something to remember it by (0–200 characters).
    #[schema(max_length = 200)]
    pub note: Option<String>,
}

/// An invite as listed (never with its code).
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteDto {
    /// Id, for `DELETE /auth/invites/{id}`.
    pub id: i64,
    /// The maker's note.
    pub note: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// After this the code no longer works.
    pub expires_at: DateTime<Utc>,
    /// When it created an account (then it cannot be revoked).
    pub used_at: Option<DateTime<Utc>>,
}

impl From<&Invite> for InviteDto {
    fn from(i: &Invite) -> Self {
        Self {
            id: i.id,
            note: i.note.as_deref().map(str::to_owned),
            created_at: i.created_at,
            expires_at: i.expires_at,
            used_at: i.used_at,
        }
    }
}

/// An invite just created: the only time `code` is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedInviteDto {
    /// The stored invite.
    #[serde(flatten)]
    pub meta: InviteDto,
    /// The code to hand over; `POST /auth/register` takes it as `invite`.
    pub code: String,
}

/// The caller's invites, newest first (never their codes).
#[utoipa::path(tag = "auth", security(("bearer" = [])), params(ListParams), responses(
    (status = 200, body = Vec<InviteDto>),
    (status = 401, body = Problem),
    (status = 422, body = Problem),
))]
#[get("/invites")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let invites = state
        .identity
        .list_invites(Some(auth.id()), params.limit()?)
        .await?;
    Ok(HttpResponse::Ok().json(invites.iter().map(InviteDto::from).collect::<Vec<_>>()))
}

/// Make a single-use sign-up code; it is shown once.
#[utoipa::path(tag = "auth", security(("bearer" = [])), request_body = CreateInviteRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters; a retry within 24 h replays the first response")),
    responses(
        (status = 201, body = CreatedInviteDto),
        (status = 401, body = Problem),
        (status = 422, body = Problem),
))]
#[post("/invites")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
    body: ApiJson<CreateInviteRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    let lifetime = InviteLifetime::days(body.expires_in_days)?;
    let note = InviteNote::parse(body.note.as_deref())?;
    let render = |c: &CreatedInvite| CreatedInviteDto {
        meta: InviteDto::from(&c.invite),
        code: c.code.clone(),
    };
    let req = CreateRequest {
        user,
        key,
        route: "POST /auth/invites",
        body: &body.canonical,
        status: StatusCode::CREATED,
    };
    state
        .idempotency
        .create(req, render, async {
            Ok(state
                .identity
                .create_invite(Some(user), lifetime, note)
                .await?)
        })
        .await
}

/// Revoke an unused invite: its code stops working at once (a used one: 409).
#[utoipa::path(tag = "auth", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 204),
    (status = 401, body = Problem),
    (status = 404, body = Problem),
    (status = 409, description = "the invite was already used", body = Problem),
))]
#[delete("/invites/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state
        .identity
        .revoke_invite(Some(auth.id()), id.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
