//! `/api/v1/auth`: register, login, refresh, logout, me, password, personal access tokens.
//! Invites live in [`invites`].

pub mod invites;

use crate::error::{ApiError, Problem};
use crate::http::{ApiJson, AuthUser, CreateRequest, IdempotencyKey, ListParams};
use crate::state::AppState;
use actix_governor::{Governor, GovernorConfig, governor::middleware::NoOpMiddleware};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use ayubi_identity::{CreatedToken, IdentityError, PersonalToken, TokenPair, User};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

/// The registration limit (an actix-governor middleware, per instance; logins are limited
/// for the whole deployment by `AppState::login_limits`).
#[derive(Clone)]
pub struct AuthLimits {
    /// Registrations per client IP.
    pub register: GovernorConfig<crate::http::client_ip::ClientIp, NoOpMiddleware>,
}

impl std::fmt::Debug for AuthLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthLimits(..)")
    }
}

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    /// Server-assigned id.
    pub id: i64,
    /// Login email (lower-cased).
    pub email: String,
    /// Name to show.
    pub display_name: Option<String>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.get(),
            email: u.email.as_str().to_owned(),
            display_name: u.display_name.as_ref().map(|d| d.as_str().to_owned()),
            created_at: u.created_at,
        }
    }
}

/// An access/refresh token pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPairDto {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Single-use token for `/auth/refresh`.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Access-token lifetime in seconds.
    pub expires_in: i64,
}

impl From<TokenPair> for TokenPairDto {
    fn from(p: TokenPair) -> Self {
        Self {
            access_token: p.access_token,
            refresh_token: p.refresh_token,
            token_type: "Bearer",
            expires_in: p.expires_in,
        }
    }
}

/// A token pair and the user it is for.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthResponse {
    /// The tokens.
    #[serde(flatten)]
    pub tokens: TokenPairDto,
    /// The user.
    pub user: UserDto,
}

impl AuthResponse {
    fn new(user: &User, pair: TokenPair) -> Self {
        Self {
            tokens: pair.into(),
            user: user.into(),
        }
    }
}

/// `POST /auth/register`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Login email.
    pub email: String,
    /// 12–128 characters.
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
    /// 1–100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub display_name: Option<String>,
    /// An invite code: required when the deployment's `auth.registration` is `invite`
    /// (ignored when sign-up is open).
    #[schema(max_length = 255)]
    pub invite: Option<String>,
}

/// `POST /auth/login`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login email.
    pub email: String,
    /// Password.
    pub password: String,
    /// The `device_token` an earlier login on this device returned: with a valid one of
    /// this account, the login is exempt from the per-account limit.
    pub device_token: Option<String>,
}

/// A login's answer: the token pair, the user, and this device's token.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// The tokens and the user.
    #[serde(flatten)]
    pub auth: AuthResponse,
    /// Keep it on this device and send it with every later login: it exempts this
    /// device's logins from the per-account limit. A new one comes with each login; a
    /// password change voids them all.
    pub device_token: String,
}

/// `POST /auth/refresh` and `/auth/logout`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token of the pair.
    pub refresh_token: String,
}

/// `DELETE /auth/me`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteMeRequest {
    /// The current password, as confirmation.
    pub password: String,
}

/// `POST /auth/password`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    /// The current password.
    pub current_password: String,
    /// 12–128 characters.
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

/// `POST /auth/tokens`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// 1–100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub name: String,
    /// Optional expiry (RFC 3339), in the future.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A personal access token as listed (never with its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    /// Id, for `DELETE /auth/tokens/{id}`.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expiry, if any.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last use (to the minute), if any.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&PersonalToken> for TokenDto {
    fn from(t: &PersonalToken) -> Self {
        Self {
            id: t.id,
            name: t.name.as_str().to_owned(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
        }
    }
}

/// A personal access token just created: the only time `token` is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTokenDto {
    /// The stored token.
    #[serde(flatten)]
    pub meta: TokenDto,
    /// The bearer secret. Store it now; it cannot be shown again.
    pub token: String,
}

/// Create an account; returns a token pair and the user. With `auth.registration =
/// invite` a valid unused invite code is required, with `closed` nobody registers: 403.
#[utoipa::path(tag = "auth", request_body = RegisterRequest, responses(
    (status = 201, body = AuthResponse),
    (status = 403, description = "sign-up refused: no valid invite, or registration closed", body = Problem),
    (status = 409, description = "email already registered", body = Problem),
    (status = 422, body = Problem),
    (status = 429, body = Problem),
))]
#[post("")]
pub async fn register(
    state: web::Data<AppState>,
    body: ApiJson<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.value;
    let (user, pair) = state
        .identity
        .register(
            &b.email,
            b.password,
            b.display_name.as_deref(),
            b.invite.as_deref(),
        )
        .await?;
    Ok(HttpResponse::Created().json(AuthResponse::new(&user, pair)))
}

/// Log in; at most `auth.login_per_minute` attempts a minute per client IP, and
/// `auth.login_per_account_per_minute` failed ones per account unless the request carries
/// a valid `device_token` of that account — across every instance.
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 401, body = Problem),
    (status = 429, body = Problem),
))]
#[post("")]
pub async fn login(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    body: ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.value;
    state.login_limits.attempt(&req).await?;
    let known_device = match b.device_token.as_deref() {
        Some(token) => state.identity.device_trusted(token, &b.email).await?,
        None => false,
    };
    if !known_device {
        state.login_limits.account_open(&b.email).await?;
    }
    match state.identity.login(&b.email, b.password).await {
        Ok((user, pair, device_token)) => Ok(HttpResponse::Ok().json(LoginResponse {
            auth: AuthResponse::new(&user, pair),
            device_token,
        })),
        Err(e) => {
            state.auth_metrics.login_failed(&e);
            if matches!(e, IdentityError::InvalidCredentials) && !known_device {
                state.login_limits.account_failed(&b.email).await;
            }
            Err(e.into())
        }
    }
}

/// Exchange a refresh token for a new pair; reusing an exchanged token revokes its session.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = TokenPairDto),
    (status = 401, body = Problem),
))]
#[post("/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let pair = state.identity.refresh(&body.refresh_token).await?;
    Ok(HttpResponse::Ok().json(TokenPairDto::from(pair)))
}

/// End the session of a refresh token; its access tokens stop working at once.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 204),
    (status = 401, body = Problem),
))]
#[post("/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    state.identity.logout(&body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's account.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = UserDto),
    (status = 401, body = Problem),
))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let user = state.identity.me(auth.id()).await?;
    Ok(HttpResponse::Ok().json(UserDto::from(&user)))
}

/// Delete the account and every row it owns (needs the password).
#[utoipa::path(tag = "auth", security(("bearer" = [])), request_body = DeleteMeRequest, responses(
    (status = 204),
    (status = 401, body = Problem),
))]
#[delete("/me")]
pub async fn delete_me(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: ApiJson<DeleteMeRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.value;
    state.identity.delete_account(auth.id(), b.password).await?;
    // Stored backups are the user's data too. The account is gone either way; a store
    // that fails here leaves objects no record points at, which the log names.
    if let Err(e) = state.backups.forget_user(auth.id()).await {
        tracing::error!(error = %e, user = auth.id().get(), "deleting a deleted account's stored backups");
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Change the password: every earlier session, access token and personal access token
/// stops working; returns a fresh pair.
#[utoipa::path(tag = "auth", security(("bearer" = [])), request_body = PasswordChangeRequest, responses(
    (status = 200, body = AuthResponse),
    (status = 401, body = Problem),
    (status = 422, body = Problem),
))]
#[post("/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: ApiJson<PasswordChangeRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.value;
    let (user, pair) = state
        .identity
        .change_password(auth.id(), b.current_password, b.new_password)
        .await?;
    Ok(HttpResponse::Ok().json(AuthResponse::new(&user, pair)))
}

/// The caller's personal access tokens, newest first (never their secrets).
#[utoipa::path(tag = "auth", security(("bearer" = [])), params(ListParams), responses(
    (status = 200, body = Vec<TokenDto>),
    (status = 401, body = Problem),
    (status = 422, body = Problem),
))]
#[get("/tokens")]
pub async fn list_tokens(
    state: web::Data<AppState>,
    auth: AuthUser,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let tokens = state
        .identity
        .list_tokens(auth.id(), params.limit()?)
        .await?;
    Ok(HttpResponse::Ok().json(tokens.iter().map(TokenDto::from).collect::<Vec<_>>()))
}

/// Create a personal access token for scripts; its secret is shown once.
#[utoipa::path(tag = "auth", security(("bearer" = [])), request_body = CreateTokenRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters; a retry within 24 h replays the first response")),
    responses(
        (status = 201, body = CreatedTokenDto),
        (status = 401, body = Problem),
        (status = 422, body = Problem),
))]
#[post("/tokens")]
pub async fn create_token(
    state: web::Data<AppState>,
    auth: AuthUser,
    key: IdempotencyKey,
    body: ApiJson<CreateTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = auth.id();
    let render = |c: &CreatedToken| CreatedTokenDto {
        meta: TokenDto::from(&c.token),
        token: c.secret.clone(),
    };
    let req = CreateRequest {
        user,
        key,
        route: "POST /auth/tokens",
        body: &body.canonical,
        status: StatusCode::CREATED,
    };
    state
        .idempotency
        .create(req, render, async {
            Ok(state
                .identity
                .create_token(user, &body.name, body.expires_at)
                .await?)
        })
        .await
}

/// Revoke a personal access token; it stops working at once.
#[utoipa::path(tag = "auth", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 204),
    (status = 401, body = Problem),
    (status = 404, body = Problem),
))]
#[delete("/tokens/{id}")]
pub async fn delete_token(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    state
        .identity
        .delete_token(auth.id(), id.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the auth routes; login and register get their own rate limiters.
pub fn config(limits: AuthLimits) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg| {
        cfg.service(scope::scope("/auth/login").service(login))
            .service(
                scope::scope("/auth/register")
                    .wrap(Governor::new(&limits.register))
                    .service(register),
            )
            .service(
                scope::scope("/auth")
                    .service(refresh)
                    .service(logout)
                    .service(me)
                    .service(delete_me)
                    .service(change_password)
                    .service(list_tokens)
                    .service(create_token)
                    .service(delete_token)
                    .service(invites::list)
                    .service(invites::create)
                    .service(invites::delete),
            );
    }
}
