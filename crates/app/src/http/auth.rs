//! `AuthUser`: the bearer-token extractor every protected handler takes.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::HttpMessage as _;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use ayubi_identity::Principal;
use futures_util::future::LocalBoxFuture;

/// The authenticated caller: an access token of a live session or a personal access token.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser(pub Principal);

impl AuthUser {
    /// The caller's user id.
    #[must_use]
    pub fn id(&self) -> ayubi_kernel::UserId {
        self.0.user
    }
}

/// The token of `Authorization: Bearer <token>`, if the header has that shape.
#[must_use]
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let span = req
            .extensions()
            .get::<tracing_actix_web::RootSpan>()
            .map(|s| tracing::Span::clone(s));
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
            let token = token.ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
            let principal = state.identity.authenticate(&token).await?;
            // The request's log line says whose request it was.
            if let Some(span) = span {
                span.record("user_id", principal.user.get());
            }
            Ok(Self(principal))
        })
    }
}
