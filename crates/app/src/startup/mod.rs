//! Start-up as a library function: [`Application::build`] binds the listener first (port 0
//! works), wires adapters into services, and returns a server to run. `main` and the
//! tests call the same code.
//!
//! The steps, each in its own module: storage and Redis (here), live sync ([`live`]),
//! every service over its adapters ([`services`]), the HTTP server ([`server`]), and the
//! tasks beside it ([`background`]).

mod background;
mod games;
mod live;
mod server;
mod services;

pub use services::identity_service;

use crate::config::{Settings, non_empty};
use crate::http::client_ip::ClientIp;
use actix_web::dev::Server;
use actix_web::web;
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use anyhow::Context;
use ayubi_cache::Redis;
use ayubi_db::Database;
use ayubi_kernel::{Clock, SystemClock};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    db: Database,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Connects storage, applies migrations, wires the services and binds the listener.
    ///
    /// # Errors
    /// When the database or the listener cannot be set up, or the configuration is
    /// inconsistent (bad header name, bad CORS origin).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with a given clock: every "now" the services use (token
    /// expiry, "today" in a time zone, timestamps) comes from it. Tests pass a
    /// [`ayubi_kernel::ManualClock`].
    ///
    /// # Errors
    /// As [`Application::build`].
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let started = Instant::now();
        // With two rustls crypto providers in the tree none is the default, and redis-rs
        // builds its TLS config (`rediss://`) from the default. Installed once a process.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        if settings.jwt_secret_generated {
            tracing::warn!(
                "JWT_SECRET_KEY is unset or shorter than 32 bytes: using a random key for \
                 this run; tokens will not survive a restart"
            );
        }
        let db = database(&settings).await?;
        let redis = redis(&settings)?;
        let metrics = http_metrics()?;
        let deployment = db
            .deployment_id()
            .await
            .context("reading the deployment id")?;
        let views = services::views(
            &settings,
            &db,
            redis.as_ref(),
            &deployment,
            &metrics.registry,
        )?;
        let live = live::wire(
            &settings,
            &db,
            redis.as_ref(),
            &views,
            &deployment,
            &metrics.registry,
        )?;
        let client_ip = ClientIp::new(&settings.server.trusted_client_ip_header)?;
        let wired = services::wire(
            &settings,
            db.clone(),
            redis,
            clock.clone(),
            live,
            views,
            &deployment,
            &metrics.registry,
            client_ip.clone(),
        )
        .await?;
        let state = web::Data::new(wired.state);

        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| {
                format!("binding {}:{}", settings.server.host, settings.server.port)
            })?;
        let port = listener.local_addr()?.port();
        let server = server::serve(
            state.clone(),
            server::ServerParts {
                listener,
                metrics,
                register_limit: client_ip,
                register_per_hour: settings.auth.register_per_hour,
                origins: settings.server.cors_origins.clone(),
                body_limit: settings.server.body_limit_bytes,
                shutdown_timeout_secs: settings.server.shutdown_timeout_secs,
                workers: settings.server.workers,
            },
        )?;
        background::spawn_housekeeping(
            state,
            wired.idempotency,
            clock,
            background::Retention {
                idempotency: chrono::Duration::hours(settings.idempotency.ttl_hours),
                changes: chrono::Duration::days(settings.sync.retention_days),
                keep_latest: settings.sync.keep_latest,
            },
        );
        tracing::info!(
            port,
            backend = ?db.backend(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "ready"
        );
        Ok(Self { port, server, db })
    }

    /// The bound port (useful with port 0).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server (graceful with `stop(true)`).
    #[must_use]
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT (which drain in-flight requests for up to
    /// `server.shutdown_timeout_secs`) or a stop through [`Application::handle`].
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Err(e) = self.db.close().await {
            tracing::warn!(error = %e, "closing the database pool");
        }
        result
    }
}

/// The pool, migrated when `database.migrate_on_start`.
async fn database(settings: &Settings) -> anyhow::Result<Database> {
    let db = Database::connect(&settings.db_config())
        .await
        .context("connecting to the database")?;
    if settings.database.migrate_on_start {
        db.migrate_up().await.context("applying migrations")?;
    }
    Ok(db)
}

/// Redis when `redis.url` is set (with a private CA from `redis.ca_file`).
fn redis(settings: &Settings) -> anyhow::Result<Option<Redis>> {
    non_empty(&settings.redis.url)
        .map(|url| -> anyhow::Result<Redis> {
            let ca = match settings.redis.ca_file.trim() {
                "" => None,
                path => Some(
                    std::fs::read(path).with_context(|| format!("reading redis.ca_file {path}"))?,
                ),
            };
            Ok(Redis::new(
                url,
                settings.redis.pool_max_size,
                Duration::from_millis(settings.redis.timeout_ms),
                ca,
            )?)
        })
        .transpose()
        .context("configuring redis")
}

/// Request metrics, and the registry every other metric joins (`/metrics` serves it).
///
/// No `.endpoint(…)`: actix-web-prom would answer `/metrics` by swapping the body of the
/// response that came back through `Compress`, keeping its `Content-Encoding: gzip` over
/// plain text (Prometheus could not decode a scrape). `routes::ops::metrics` renders the
/// registry as an ordinary handler instead.
fn http_metrics() -> anyhow::Result<PrometheusMetrics> {
    PrometheusMetricsBuilder::new("ayubi")
        .mask_unmatched_patterns("UNMATCHED")
        .build()
        .map_err(|e| anyhow::anyhow!("metrics: {e}"))
}
