//! One log line per request, in the request's span: `request_id` (also sent back as
//! `X-Request-Id`), method, route pattern, status, and `user_id` once the request has
//! authenticated. The span is built here rather than by tracing-actix-web's default,
//! which records `http.target` — path *and query*, and the live-sync endpoints take
//! `?access_token=` in the query: a token would reach the logs.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage as _};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{RequestId, RootSpanBuilder};

/// The root span of every request, and its closing line.
#[derive(Debug)]
pub struct RequestSpans;

impl RootSpanBuilder for RequestSpans {
    fn on_request_start(req: &ServiceRequest) -> Span {
        let id = req
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        // The route pattern (`/api/v1/habits/{id}`), never the raw path: ids and values
        // stay out of the logs as they stay out of the metrics' labels.
        let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
        tracing::info_span!(
            "request",
            request_id = %id,
            method = %req.method(),
            route = %route,
            user_id = Empty,
            status = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(res) => res.status(),
            Err(e) => e.as_response_error().status_code(),
        };
        span.record("status", status.as_u16());
        // One message for every request, so a query for "request" finds them all; a 5xx
        // is a warning (its cause is logged where it happened, by `ApiError`).
        span.in_scope(|| {
            if status.is_server_error() {
                tracing::warn!("request");
            } else {
                tracing::info!("request");
            }
        });
    }
}
