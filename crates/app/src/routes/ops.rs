//! Operations endpoints (no auth): liveness and readiness.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;

/// Liveness/readiness body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// Each checked dependency and `up`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
}

/// One dependency's state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Check {
    /// `database` or `redis`.
    pub name: &'static str,
    /// `up` or `down`.
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

/// 200 when the database (and Redis, when configured) answer; 503 naming what is down.
#[utoipa::path(tag = "operations", responses(
    (status = 200, body = Health),
    (status = 503, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut down = Vec::new();
    let mut checks = Vec::new();
    match state.db.ping().await {
        Ok(()) => checks.push(Check {
            name: "database",
            status: "up",
        }),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database down");
            down.push("database");
        }
    }
    if let Some(redis) = &state.redis {
        match redis.ping().await {
            Ok(()) => checks.push(Check {
                name: "redis",
                status: "up",
            }),
            Err(e) => {
                tracing::warn!(error = %e, "readiness: redis down");
                down.push("redis");
            }
        }
    }
    if down.is_empty() {
        Ok(HttpResponse::Ok().json(Health {
            status: "ok",
            checks,
        }))
    } else {
        Err(ApiError::unavailable(format!("down: {}", down.join(", "))))
    }
}

/// Registers the operations routes.
pub fn config(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz);
}
