//! Operations endpoints (no auth): liveness and readiness.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;

/// Liveness/readiness body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` (running without Redis or the view cache).
    pub status: &'static str,
    /// Each checked dependency and its state.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
}

/// One dependency's state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Check {
    /// `database`, `redis` or `view_cache`.
    pub name: &'static str,
    /// `up`, `down` or `failing`.
    pub status: &'static str,
}

/// 200 while the process runs.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        checks: Vec::new(),
    })
}

/// 200 `ok` when the database (and Redis, when configured) answer; 200 `degraded` when
/// only Redis is down or the view cache is failing (requests still succeed: the cache is
/// bypassed and live sync falls back to polling), so the instance keeps its traffic; 503
/// naming the database when it is down.
#[utoipa::path(tag = "operations", responses(
    (status = 200, body = Health),
    (status = 503, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Err(e) = state.db.ping().await {
        tracing::warn!(error = %e, "readiness: database down");
        return Err(ApiError::unavailable("down: database"));
    }
    let mut checks = vec![Check {
        name: "database",
        status: "up",
    }];
    let mut degraded = false;
    if let Some(redis) = &state.redis {
        let status = match redis.ping().await {
            Ok(()) => "up",
            Err(e) => {
                tracing::warn!(error = %e, "readiness: redis down");
                degraded = true;
                "down"
            }
        };
        checks.push(Check {
            name: "redis",
            status,
        });
    }
    if state.views.degraded() {
        degraded = true;
        checks.push(Check {
            name: "view_cache",
            status: "failing",
        });
    }
    Ok(HttpResponse::Ok().json(Health {
        status: if degraded { "degraded" } else { "ok" },
        checks,
    }))
}

/// Prometheus text exposition of every metric. An ordinary handler, so the compression
/// middleware encodes it like any other answer and its headers tell the truth.
#[utoipa::path(tag = "operations", responses(
    (status = 200, description = "Prometheus text format 0.0.4", body = String,
     content_type = "text/plain; version=0.0.4; charset=utf-8"),
))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    use prometheus::Encoder;
    let encoder = prometheus::TextEncoder::new();
    let mut body = Vec::with_capacity(16 * 1024);
    encoder
        .encode(&state.metrics.gather(), &mut body)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("encoding metrics: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type(encoder.format_type())
        .body(body))
}

/// Registers the operations routes.
pub fn config(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}
