//! The HTTP server: every route, the middleware stack in its order, the served OpenAPI
//! document and its docs UI, and the answers to requests no route takes.

use crate::error::ApiError;
use crate::http::allow::Routes;
use crate::http::client_ip::ClientIp;
use crate::http::middleware;
use crate::openapi::ApiDoc;
use crate::routes;
use crate::routes::auth::AuthLimits;
use crate::state::AppState;
use actix_cors::Cors;
use actix_governor::GovernorConfigBuilder;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use actix_web_prom::PrometheusMetrics;
use anyhow::Context;
use std::net::TcpListener;
use std::time::Duration;
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::{Config, SwaggerUi};

/// What the server is made of besides the state.
pub(super) struct ServerParts {
    /// The bound listener.
    pub listener: TcpListener,
    /// Request metrics (actix-web-prom), wrapped around every request.
    pub metrics: PrometheusMetrics,
    /// The per-IP limit on sign-ups.
    pub register_limit: ClientIp,
    /// `server.*` settings the server needs.
    pub register_per_hour: u32,
    /// Allowed CORS origins.
    pub origins: Vec<String>,
    /// Largest request body.
    pub body_limit: usize,
    /// Drain time on SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// Worker threads (0: one per core).
    pub workers: usize,
}

/// Starts serving `state` on the parts' listener.
///
/// # Errors
/// When a rate limit is misconfigured or the listener cannot be served.
pub(super) fn serve(state: web::Data<AppState>, parts: ServerParts) -> anyhow::Result<Server> {
    let ServerParts {
        listener,
        metrics,
        register_limit,
        register_per_hour,
        origins,
        body_limit,
        shutdown_timeout_secs,
        workers,
    } = parts;
    let limits = AuthLimits {
        register: per_window(&register_limit, register_per_hour, 3600)?,
    };
    let mut server = HttpServer::new(move || {
        let (app, api) = App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(body_limit))
            .app_data(
                web::JsonConfig::default()
                    .limit(body_limit)
                    .error_handler(|e, _| json_error(&e).into()),
            )
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                ApiError::bad_request(format!("invalid query string: {e}")).into()
            }))
            .app_data(
                // `/habits/stats` matched by `PUT /habits/{id}`: the id does not parse,
                // and the path exists with other methods — 405, not 404.
                web::PathConfig::default()
                    .error_handler(|_, req| not_served(req, ApiError::not_found()).into()),
            )
            .configure(routes::ops::config)
            .service(
                scope::scope("/api/v1")
                    .configure(routes::auth::config(limits.clone()))
                    .configure(routes::sport::config)
                    .configure(routes::travel::config)
                    .configure(routes::habits::config)
                    .configure(routes::finance::config)
                    .configure(routes::journal::config)
                    .configure(routes::settings::config)
                    .configure(routes::games::config)
                    .configure(routes::sync::config)
                    .configure(routes::backup::config),
            )
            .map(|app| {
                app.route("/docs", web::get().to(docs_redirect))
                    .default_service(web::to(fallback))
                    .wrap(from_fn(crate::http::conditional::conditional_get))
                    .wrap(Compress::default())
                    .wrap(cors(&origins))
                    .wrap(from_fn(middleware::problems))
                    .wrap(from_fn(middleware::security_headers))
                    .wrap(metrics.clone())
                    .wrap(from_fn(middleware::request_id))
                    .wrap(TracingLogger::<crate::http::access_log::RequestSpans>::new())
                    .wrap(crate::telemetry::sentry_middleware().finish())
                    .wrap(from_fn(middleware::scrub_access_token))
            })
            .split_for_parts();
        let spec =
            web::Bytes::from(serde_json::to_vec(&crate::openapi::finish(&api)).unwrap_or_default());
        app.app_data(web::Data::new(Routes::from_openapi(&api)))
            .route(
                "/openapi.json",
                web::get().to(move || {
                    let spec = spec.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type(mime::APPLICATION_JSON)
                            .body(spec)
                    }
                }),
            )
            .service(SwaggerUi::new("/docs/{_:.*}").config(Config::from("/openapi.json")))
    })
    .listen(listener)?
    .shutdown_timeout(shutdown_timeout_secs);
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.run())
}

fn per_window(
    key: &ClientIp,
    count: u32,
    window_secs: u64,
) -> anyhow::Result<
    actix_governor::GovernorConfig<ClientIp, actix_governor::governor::middleware::NoOpMiddleware>,
> {
    // `count` requests per window: the bucket holds `count` and refills one every
    // window/count, so a burst of `count` then a steady trickle.
    let period = Duration::from_millis(window_secs * 1000 / u64::from(count.max(1)));
    GovernorConfigBuilder::default()
        .key_extractor(key.clone())
        .period(period)
        .burst_size(count)
        .finish()
        .context("rate limit configuration")
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "DELETE", "PATCH"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("last-event-id"),
            header::IF_NONE_MATCH,
        ])
        .expose_headers([
            header::HeaderName::from_static("x-request-id"),
            header::RETRY_AFTER,
            header::ETAG,
            header::HeaderName::from_static("idempotent-replayed"),
            // A backup download from the web app: its file name and hash.
            header::CONTENT_DISPOSITION,
            header::HeaderName::from_static("x-content-sha256"),
            header::HeaderName::from_static("repr-digest"),
        ])
        .supports_credentials()
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Maps actix's own `web::Json` errors like [`crate::http::ApiJson`]'s, should a handler
/// ever use the plain extractor.
fn json_error(e: &actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match e {
        E::Overflow { .. } | E::OverflowKnownLength { .. } => ApiError::new(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            "request body is too large",
        ),
        E::Deserialize(d) if d.is_data() => ApiError::invalid("body", d.to_string()),
        E::ContentType => ApiError::bad_request("Content-Type must be application/json"),
        other => ApiError::bad_request(format!("body is not valid JSON: {other}")),
    }
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// No route matched: 405 when the path exists with other methods, else 404.
async fn fallback(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (status, detail) = if req.resource_map().has_resource(req.path()) {
        (
            actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
            format!("{} is not allowed on {}", req.method(), req.path()),
        )
    } else {
        (
            actix_web::http::StatusCode::NOT_FOUND,
            format!("no route for {} {}", req.method(), req.path()),
        )
    };
    Err(not_served(&req, ApiError::new(status, detail)))
}

/// A request no route took: 405 with `Allow` when the path is served with other methods,
/// else `otherwise`.
fn not_served(req: &HttpRequest, otherwise: ApiError) -> ApiError {
    let allowed = req
        .app_data::<web::Data<Routes>>()
        .and_then(|r| r.allowed(req.path()));
    match allowed {
        Some(methods) if !methods.contains(&req.method().as_str()) => {
            ApiError::method_not_allowed(req.method().as_str(), req.path(), methods)
        }
        _ => otherwise,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::error::JsonPayloadError;
    use actix_web::http::StatusCode;

    #[test]
    fn actix_json_errors_map_like_api_json() {
        let data = serde_json::from_str::<u8>("\"x\"").unwrap_err();
        let syntax = serde_json::from_str::<u8>("tru").unwrap_err();
        let cases = [
            (
                JsonPayloadError::Overflow { limit: 1 },
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (JsonPayloadError::ContentType, StatusCode::BAD_REQUEST),
            (
                JsonPayloadError::Deserialize(data),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                JsonPayloadError::Deserialize(syntax),
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (e, status) in cases {
            let mapped = json_error(&e);
            assert_eq!(mapped.status(), status, "{e}");
            assert_eq!(mapped.problem().status, status.as_u16());
        }
    }
}
