//! Start-up as a library function: [`Application::build`] binds the listener first (port 0
//! works), wires adapters into services, and returns a server to run. `main` and the
//! tests call the same code.

use crate::backups::{BackupMetrics, Backups};
use crate::config::{Settings, non_empty};
use crate::error::ApiError;
use crate::http::allow::Routes;
use crate::http::client_ip::ClientIp;
use crate::http::{Idempotency, middleware};
use crate::openapi::ApiDoc;
use crate::routes;
use crate::routes::auth::AuthLimits;
use crate::state::AppState;
use crate::sync::{Announce, IdentityCheck, SyncMetrics};
use actix_cors::Cors;
use actix_governor::GovernorConfigBuilder;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use actix_web_prom::PrometheusMetricsBuilder;
use anyhow::Context;
use ayubi_cache::Redis;
use ayubi_credentials::{Argon2Hasher, JwtTokens, RandomSecrets, ResponseSealer};
use ayubi_db::{
    Database, SqlBackupStore, SqlChangeLog, SqlFinanceStore, SqlHabitStore, SqlIdempotencyStore,
    SqlIdentityStore, SqlJournalStore, SqlSettingsStore, SqlSportStore, SqlTimeZones,
    SqlTravelStore,
};
use ayubi_finance::FinanceService;
use ayubi_habits::HabitService;
use ayubi_identity::{IdentityConfig, IdentityService};
use ayubi_journal::JournalService;
use ayubi_kernel::{Clock, IdempotencyStore, SystemClock};
use ayubi_settings::SettingsService;
use ayubi_sport::SportService;
use ayubi_storage::BlobStore;
use ayubi_sync::ChangeLog;
use ayubi_sync::{Fanout, Hub, Live, SyncConfig, Timing};
use ayubi_travel::TravelService;
use secrecy::ExposeSecret;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::{Config, SwaggerUi};

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
        let db = Database::connect(&settings.db_config())
            .await
            .context("connecting to the database")?;
        if settings.database.migrate_on_start {
            db.migrate_up().await.context("applying migrations")?;
        }
        let redis = non_empty(&settings.redis.url)
            .map(|url| -> anyhow::Result<Redis> {
                let ca = match settings.redis.ca_file.trim() {
                    "" => None,
                    path => Some(
                        std::fs::read(path)
                            .with_context(|| format!("reading redis.ca_file {path}"))?,
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
            .context("configuring redis")?;

        // Live sync: committed changes reach this instance's sockets through the hub and
        // other instances' through Redis. The notifier is attached to the pool before
        // any repository is built from it.
        // No `.endpoint(…)`: actix-web-prom would answer `/metrics` by swapping the body
        // of the response that came back through `Compress`, keeping its
        // `Content-Encoding: gzip` over plain text (Prometheus could not decode a scrape).
        // `routes::ops::metrics` renders the registry as an ordinary handler instead.
        let metrics = PrometheusMetricsBuilder::new("ayubi")
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
        let sync_metrics = SyncMetrics::new();
        sync_metrics
            .register(&metrics.registry)
            .context("registering sync metrics")?;
        let hub = Arc::new(Hub::new(
            settings.sync.queue_capacity,
            settings.sync.max_sockets_per_user,
            Arc::new(sync_metrics),
        ));
        let deployment = db
            .deployment_id()
            .await
            .context("reading the deployment id")?;
        let channel = ayubi_sync::channel(&deployment);
        // Without Redis, only a SQLite deployment (one instance by construction) can be
        // sure no other instance revokes a session unseen; with Redis, trust follows the
        // subscription.
        let sessions = (settings.auth.session_cache_secs > 0).then(|| {
            Arc::new(ayubi_cache::LocalSessions::new(
                100_000,
                Duration::from_secs(settings.auth.session_cache_secs),
                redis.is_none() && db.backend() == ayubi_db::Backend::Sqlite,
            ))
        });
        let mut fanout = Fanout::new(
            hub.clone(),
            redis
                .as_ref()
                .map(|r| -> Arc<dyn ayubi_sync::Bus> { Arc::new(r.publisher(&channel)) }),
        );
        if let Some(s) = &sessions {
            fanout = fanout.with_listener(s.clone());
        }
        let fanout = Arc::new(fanout);
        // Poll the log until wake-ups from other instances flow. Without Redis they never
        // do: instances sharing a PostgreSQL then still reach each other's sockets,
        // `sync.poll_interval_secs` late (one query per interval, not per socket).
        hub.set_wakeups_live(false);
        if let Some(r) = &redis {
            let (on_message, on_state, trust) = (fanout.clone(), hub.clone(), sessions.clone());
            r.subscribe(
                &channel,
                move |payload| on_message.received(payload),
                move |up| {
                    on_state.set_wakeups_live(up);
                    if let Some(t) = &trust {
                        t.set_trusted(up);
                    }
                },
            );
        }
        let change_log: Arc<dyn ChangeLog> = Arc::new(SqlChangeLog::new(db.clone()));
        hub.spawn_poller(
            change_log.clone(),
            Duration::from_secs(settings.sync.poll_interval_secs.max(1)),
        );
        spawn_shutdown_notice(hub.clone());
        let views = Arc::new(crate::views::Views::new(
            settings
                .cache
                .enabled
                .then(|| -> Arc<dyn ayubi_kernel::ViewCache> {
                    let ttl = Duration::from_secs(settings.cache.ttl_secs.max(1));
                    match &redis {
                        Some(r) => Arc::new(ayubi_cache::RedisViews::new(
                            r.clone(),
                            &format!("ayubi:views:{deployment}"),
                            ttl,
                        )),
                        None => Arc::new(ayubi_cache::MemoryViews::new(
                            settings.cache.memory_max_bytes,
                            ttl,
                        )),
                    }
                }),
            crate::views::ViewMetrics::register(&metrics.registry)
                .context("registering cache metrics")?,
        ));
        views.clone().spawn_retry(Duration::from_secs(1));
        let db = db.with_notifier(fanout.clone()).with_views(views.clone());
        let zones: Arc<dyn ayubi_kernel::UserTimeZones> = Arc::new(crate::views::CachedZones::new(
            SqlTimeZones::new(db.clone()),
            views.clone(),
        ));

        let secret = settings.auth.jwt_secret.expose_secret().as_bytes();
        let identity = identity_service(&settings, &db, clock.clone())?
            .with_revocations(Arc::new(Announce(fanout)));
        let identity = match sessions {
            Some(s) => identity.with_session_cache(s),
            None => identity,
        };
        first_account_hint(&identity).await;
        let idempotency_store: Arc<dyn IdempotencyStore> =
            Arc::new(SqlIdempotencyStore::new(db.clone()));
        let idempotency_ttl = chrono::Duration::hours(settings.idempotency.ttl_hours);
        let idempotency = Idempotency::new(
            idempotency_store.clone(),
            ResponseSealer::new(secret),
            clock.clone(),
            idempotency_ttl,
        );
        let sport = SportService::new(
            Arc::new(SqlSportStore::new(db.clone())),
            zones.clone(),
            clock.clone(),
        );
        let backup_metrics =
            BackupMetrics::register(&metrics.registry).context("registering backup metrics")?;
        let backup_store = Arc::new(SqlBackupStore::new(db.clone()));
        let backups = Arc::new(Backups {
            source: backup_store.clone(),
            imports: backup_store.clone(),
            records: backup_store,
            blobs: BlobStore::open(&settings.backup.store())
                .context("opening the backup object store")?,
            clock: clock.clone(),
            instance: uuid::Uuid::new_v4().to_string(),
            lease: chrono::Duration::seconds(settings.backup.lease_secs.max(1)),
            metrics: backup_metrics,
            max_import_bytes: settings.backup.max_import_bytes,
            jobs: tokio::sync::Semaphore::new(settings.backup.max_concurrent_jobs.max(1)),
        });
        backups.clone().spawn_scheduler(Duration::from_secs(
            settings.backup.scheduler_interval_secs.max(1),
        ));
        crate::ops_metrics::register_pool(db.clone(), &metrics.registry)
            .context("registering pool metrics")?;
        let auth_metrics = crate::ops_metrics::AuthMetrics::register(&metrics.registry)
            .context("registering auth metrics")?;
        let client_ip = ClientIp::new(&settings.server.trusted_client_ip_header)?;
        let limiter = |what: &str, per_minute: u32| {
            let rate = ayubi_cache::Rate::per(per_minute, Duration::from_secs(60));
            match &redis {
                Some(r) => ayubi_cache::Limiter::shared(
                    rate,
                    r.clone(),
                    &format!("ayubi:limits:{deployment}:login:{what}"),
                ),
                None => ayubi_cache::Limiter::local(rate),
            }
        };
        let login_limits = Arc::new(crate::http::limits::LoginLimits::new(
            client_ip.clone(),
            limiter("ip", settings.auth.login_per_minute),
            // A new key prefix: the old one counted every attempt at the per-IP rate.
            limiter(
                "account-failures",
                settings.auth.login_per_account_per_minute,
            ),
        ));
        let live = Arc::new(Live::new(
            hub,
            change_log.clone(),
            clock.clone(),
            Arc::new(IdentityCheck(identity.clone())),
            SyncConfig {
                timing: Timing {
                    ping: Duration::from_secs(settings.sync.ping_interval_secs.max(1)),
                    send: Duration::from_secs(settings.sync.send_timeout_secs.max(1)),
                },
                batch_size: settings.sync.batch_size,
            },
        ));
        let state = web::Data::new(AppState {
            auth_metrics,
            login_limits,
            metrics: metrics.registry.clone(),
            identity,
            sport,
            finance: FinanceService::new(
                Arc::new(SqlFinanceStore::new(db.clone())),
                zones.clone(),
                clock.clone(),
            ),
            habits: HabitService::new(
                Arc::new(SqlHabitStore::new(db.clone())),
                zones.clone(),
                clock.clone(),
            ),
            journal: JournalService::new(
                Arc::new(SqlJournalStore::new(db.clone())),
                zones.clone(),
                clock.clone(),
            ),
            travel: TravelService::new(Arc::new(SqlTravelStore::new(db.clone())), clock.clone()),
            games: crate::games::service(&settings.games, &db, clock.clone(), &metrics.registry)?,
            settings: SettingsService::new(
                Arc::new(SqlSettingsStore::new(db.clone())),
                clock.clone(),
            ),
            changes: change_log,
            idempotency,
            db: db.clone(),
            redis,
            hsts: settings.server.hsts,
            clock: clock.clone(),
            live,
            backups,
            views,
            zones,
        });

        let limits = AuthLimits {
            register: per_window(&client_ip, settings.auth.register_per_hour, 3600)?,
        };
        let origins = settings.server.cors_origins.clone();
        let body_limit = settings.server.body_limit_bytes;

        let housekeeping_state = state.clone();
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| {
                format!("binding {}:{}", settings.server.host, settings.server.port)
            })?;
        let port = listener.local_addr()?.port();

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
            let spec = web::Bytes::from(
                serde_json::to_vec(&crate::openapi::finish(&api)).unwrap_or_default(),
            );
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
        .shutdown_timeout(settings.server.shutdown_timeout_secs);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.run();

        spawn_housekeeping(
            housekeeping_state,
            idempotency_store,
            clock,
            Retention {
                idempotency: idempotency_ttl,
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

/// Identity over its adapters, as the server and the operator's commands use it.
///
/// # Errors
/// When the hashing pool cannot be set up.
pub fn identity_service(
    settings: &Settings,
    db: &Database,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<IdentityService> {
    let secret = settings.auth.jwt_secret.expose_secret().as_bytes();
    Ok(IdentityService::new(
        Arc::new(SqlIdentityStore::new(db.clone())),
        Arc::new(Argon2Hasher::new(settings.auth.max_concurrent_hashes)?),
        Arc::new(
            JwtTokens::new(secret, settings.auth.access_token_ttl_secs)
                .with_device_ttl_days(settings.auth.device_token_ttl_days),
        ),
        Arc::new(RandomSecrets::new()),
        clock,
        IdentityConfig {
            refresh_ttl: chrono::Duration::days(settings.auth.refresh_token_ttl_days),
            registration: settings.auth.registration,
            ..IdentityConfig::default()
        },
    ))
}

/// On a database with no account yet, when sign-up is not open, says how to get in: the
/// first person cannot be invited by anyone.
async fn first_account_hint(identity: &IdentityService) {
    let mode = identity.registration();
    if mode == ayubi_identity::Registration::Open {
        return;
    }
    match identity.count_users().await {
        Ok(0) => tracing::warn!(
            registration = mode.as_str(),
            "no account yet: make the first invite with `ayubi invite create` (then register \
             with its code), or the account itself with `ayubi user create --email ADDRESS` \
             (password on standard input)"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "counting accounts"),
    }
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

/// How long housekeeping keeps things.
#[derive(Debug, Clone, Copy)]
struct Retention {
    idempotency: chrono::Duration,
    changes: chrono::Duration,
    keep_latest: u32,
}

/// On SIGTERM/SIGINT, tells every live socket to reconnect (1001) while actix drains
/// requests; otherwise sockets would hold the shutdown until its timeout.
fn spawn_shutdown_notice(hub: Arc<Hub>) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        hub.shutdown();
    });
}

/// Hourly: deletes idempotency records past their TTL, expired refresh tokens with the
/// sessions they leave empty, and change-log entries past retention, so these tables
/// hold live rows only. Every instance runs it; the deletes are idempotent, so instances
/// racing each other is harmless.
fn spawn_housekeeping(
    state: web::Data<AppState>,
    idempotency: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
    retention: Retention,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match idempotency.purge(clock.now() - retention.idempotency).await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "purged expired idempotency keys"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purging idempotency keys"),
            }
            match state.identity.purge_expired().await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "purged expired sessions"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purging expired sessions"),
            }
            let horizon = clock.now() - retention.changes;
            match state.changes.purge(horizon, retention.keep_latest).await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "purged old sync changes"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purging old sync changes"),
            }
        }
    });
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
