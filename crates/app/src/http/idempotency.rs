//! `Idempotency-Key` for every create: one mechanism for every module.
//!
//! A create handler calls [`Idempotency::create`] with its service call. With a key, the
//! response is rendered inside the service's write transaction and saved there (sealed,
//! see [`ayubi_credentials::ResponseSealer`]); a retry with the same key and request within
//! the TTL gets that response again and writes nothing. Two concurrent requests with the
//! same key race on the table's primary key: the loser's transaction rolls back and it
//! replays the winner's response.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use aws_lc_rs::digest;
use ayubi_credentials::ResponseSealer;
use ayubi_db::idempotency::{IdempotentRequest, within};
use ayubi_kernel::{Clock, IdempotencyStore, SavedRecord, SavedResponse, UserId};
use chrono::Duration;
use serde::Serialize;
use std::future::{Future, Ready, ready};
use std::sync::Arc;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";

/// The validated `Idempotency-Key` header, when sent.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(raw) = req.headers().get(HEADER) else {
            return ready(Ok(Self(None)));
        };
        let bytes = raw.as_bytes();
        let visible = bytes.iter().all(|b| (0x21..=0x7e).contains(b));
        ready(if !bytes.is_empty() && bytes.len() <= 255 && visible {
            Ok(Self(Some(String::from_utf8_lossy(bytes).into_owned())))
        } else {
            Err(ApiError::bad_request(
                "Idempotency-Key must be 1–255 visible ASCII characters",
            ))
        })
    }
}

/// What identifies one create request.
#[derive(Debug)]
pub struct CreateRequest<'a> {
    /// The caller (keys are per user).
    pub user: UserId,
    /// The `Idempotency-Key` header, if sent.
    pub key: IdempotencyKey,
    /// The operation, e.g. `"POST /auth/tokens"`, so a key cannot be replayed against
    /// another endpoint.
    pub route: &'static str,
    /// The body as [`crate::http::ApiJson`] canonicalised it.
    pub body: &'a [u8],
    /// The status of a successful create.
    pub status: StatusCode,
}

/// Looks up, replays and seals saved responses.
#[derive(Debug, Clone)]
pub struct Idempotency {
    store: Arc<dyn IdempotencyStore>,
    sealer: ResponseSealer,
    clock: Arc<dyn Clock>,
    ttl: Duration,
}

impl Idempotency {
    /// Wires the mechanism.
    #[must_use]
    pub fn new(
        store: Arc<dyn IdempotencyStore>,
        sealer: ResponseSealer,
        clock: Arc<dyn Clock>,
        ttl: Duration,
    ) -> Self {
        Self {
            store,
            sealer,
            clock,
            ttl,
        }
    }

    /// Runs a create at most once per `(user, key)`.
    ///
    /// `render` turns the created value into the response body; `op` performs the
    /// create (a service call). With a key, `op` runs with the request in scope, and the
    /// repository that writes saves `render`'s response in its transaction.
    ///
    /// # Errors
    /// 422 when the key was used with a different request; whatever `op` returns.
    pub async fn create<T, B, R, Fut>(
        &self,
        req: CreateRequest<'_>,
        render: R,
        op: Fut,
    ) -> Result<HttpResponse, ApiError>
    where
        T: 'static,
        B: Serialize,
        R: Fn(&T) -> B + Clone + Send + 'static,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let status = req.status;
        self.create_with_status(req, move |t: &T| (status, render(t)), op)
            .await
    }

    /// [`Idempotency::create`] for creates whose status depends on the outcome (an
    /// existing row answered with 200 instead of 201): `render` returns both.
    ///
    /// # Errors
    /// As [`Idempotency::create`].
    pub async fn create_with_status<T, B, R, Fut>(
        &self,
        req: CreateRequest<'_>,
        render: R,
        op: Fut,
    ) -> Result<HttpResponse, ApiError>
    where
        T: 'static,
        B: Serialize,
        R: Fn(&T) -> (StatusCode, B) + Clone + Send + 'static,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let CreateRequest {
            user,
            key,
            route,
            body: canonical,
            status: _,
        } = req;
        let respond = |t: &T| {
            let (status, body) = render(t);
            json_response(status, &body_bytes(&body))
        };
        let Some(key) = key.0 else {
            let created = op.await?;
            return Ok(respond(&created));
        };
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(route.as_bytes());
        ctx.update(&[0]);
        ctx.update(canonical);
        let fingerprint = ctx.finish().as_ref().to_vec();
        let now = self.clock.now();
        let not_before = now - self.ttl;
        if let Some(saved) = self.store.find(user, &key, not_before).await? {
            return self.replay(user, &key, &fingerprint, saved);
        }
        let sealer = self.sealer.clone();
        let seal_key = key.clone();
        let render_saved = render.clone();
        let request = IdempotentRequest {
            user,
            key: key.clone(),
            fingerprint: fingerprint.clone(),
            now,
            expired_before: not_before,
            render: Box::new(move |created: &dyn std::any::Any| {
                let (status, body) = render_saved(created.downcast_ref::<T>()?);
                Some(SavedResponse {
                    status: status.as_u16(),
                    body: sealer.seal(user, &seal_key, &body_bytes(&body)),
                })
            }),
        };
        match within(request, op).await {
            Ok(created) => Ok(respond(&created)),
            Err(e) if e.is_idempotency_race() => {
                match self.store.find(user, &key, not_before).await? {
                    Some(saved) => self.replay(user, &key, &fingerprint, saved),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    fn replay(
        &self,
        user: UserId,
        key: &str,
        fingerprint: &[u8],
        saved: SavedRecord,
    ) -> Result<HttpResponse, ApiError> {
        if saved.fingerprint != fingerprint {
            return Err(ApiError::invalid(
                HEADER,
                "was already used with a different request",
            ));
        }
        let body = self
            .sealer
            .open(user, key, &saved.response.body)
            .ok_or_else(|| {
                ApiError::conflict(
                    "the saved response for this Idempotency-Key can no longer be read \
                     (the server key changed); retry with a new key",
                )
            })?;
        let status = StatusCode::from_u16(saved.response.status).unwrap_or(StatusCode::OK);
        let mut res = json_response(status, &body);
        res.headers_mut().insert(
            header::HeaderName::from_static("idempotent-replayed"),
            HeaderValue::from_static("true"),
        );
        Ok(res)
    }
}

fn body_bytes<B: Serialize>(body: &B) -> Vec<u8> {
    serde_json::to_vec(body).unwrap_or_default()
}

fn json_response(status: StatusCode, body: &[u8]) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(mime::APPLICATION_JSON)
        .body(body.to_vec())
}
