//! Typed configuration: `config/default.toml` (compiled in, so the binary runs anywhere)
//! → `config/$AYUBI_ENV.toml` → the old deployment's environment names → `AYUBI__SECTION__KEY`.

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use std::path::Path;
use std::time::Duration;

const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// Placeholder from `.env.example`; production refuses it like a missing key.
const EXAMPLE_SECRET: &str = "change-me-to-at-least-32-random-bytes";

/// Environment variables the old deployment used, and the key each one sets.
const LEGACY_ENV: &[(&str, &str)] = &[
    ("DATABASE_URL", "database.url"),
    ("REDIS_URL", "redis.url"),
    ("PORT", "server.port"),
    ("HOST", "server.host"),
    ("JWT_SECRET_KEY", "auth.jwt_secret"),
    ("SENTRY_DSN", "telemetry.sentry_dsn"),
    ("CORS_ORIGINS", "server.cors_origins"),
    ("STEAM_API_KEY", "games.steam_api_key"),
    ("FACEIT_API_KEY", "games.faceit_api_key"),
    ("BACKUP_S3_ACCESS_KEY_ID", "backup.s3_access_key_id"),
    ("BACKUP_S3_SECRET_ACCESS_KEY", "backup.s3_secret_access_key"),
];

/// Which configuration profile runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Local development (default).
    Development,
    /// The test suite.
    Test,
    /// A deployment.
    Production,
}

impl Environment {
    fn from_env() -> anyhow::Result<Self> {
        match std::env::var("AYUBI_ENV").as_deref() {
            Err(_) | Ok("") | Ok("development") => Ok(Self::Development),
            Ok("test") => Ok(Self::Test),
            Ok("production") => Ok(Self::Production),
            Ok(other) => {
                anyhow::bail!("AYUBI_ENV must be development, test or production (got {other:?})")
            }
        }
    }

    /// The profile's file name stem.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

/// Everything the server reads at start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Filled from `AYUBI_ENV`, never from files.
    #[serde(skip, default = "default_env")]
    pub environment: Environment,
    /// Set when development generated a throw-away JWT key (start-up warns).
    #[serde(skip)]
    pub jwt_secret_generated: bool,
    /// HTTP listener and middleware.
    pub server: ServerSettings,
    /// Database pool.
    pub database: DatabaseSettings,
    /// Optional Redis.
    pub redis: RedisSettings,
    /// Tokens, hashing and rate limits.
    pub auth: AuthSettings,
    /// `Idempotency-Key` handling.
    pub idempotency: IdempotencySettings,
    /// Logs and error reporting.
    pub telemetry: TelemetrySettings,
    /// Steam and FACEIT.
    pub games: GamesSettings,
    /// `[backup]`.
    pub backup: BackupSettings,
    /// The read-view cache.
    pub cache: CacheSettings,
    /// Live sync and the change log's retention.
    pub sync: SyncSettings,
}

fn default_env() -> Environment {
    Environment::Development
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Interface to bind.
    pub host: String,
    /// Port to bind; 0 picks a free one (tests).
    pub port: u16,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Seconds in-flight requests get to finish after SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// Largest accepted request body in bytes.
    pub body_limit_bytes: usize,
    /// Origins allowed by CORS; a comma-separated string is accepted from the environment.
    #[serde(deserialize_with = "list_or_csv")]
    pub cors_origins: Vec<String>,
    /// Header holding the client IP set by a trusted proxy (e.g. `Fly-Client-IP`); empty
    /// means "use the socket's peer address" and no header is believed.
    pub trusted_client_ip_header: String,
    /// Send `Strict-Transport-Security` (only behind TLS).
    pub hsts: bool,
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://…?mode=rwc` or `postgres://…`; secret because it may hold a password.
    pub url: SecretString,
    /// Pool upper bound.
    pub max_connections: u32,
    /// Connections kept open.
    pub min_connections: u32,
    /// Seconds to wait for a pooled connection.
    pub acquire_timeout_secs: u64,
    /// Seconds before an idle connection above the minimum is closed.
    pub idle_timeout_secs: u64,
    /// Seconds before a connection is recycled.
    pub max_lifetime_secs: u64,
    /// Ping connections before use.
    pub test_before_acquire: bool,
    /// SQLite write-lock wait in milliseconds.
    pub sqlite_busy_timeout_ms: u64,
    /// SQLite `synchronous`: `normal` or `full`.
    pub sqlite_synchronous: String,
    /// SQLite page cache per connection, KiB.
    pub sqlite_cache_size_kib: u32,
    /// SQLite: the most heap all connections keep together, KiB (0: no limit).
    pub sqlite_heap_limit_kib: u64,
    /// SQLite: the most pages the database file may hold (0: SQLite's own limit).
    pub sqlite_max_page_count: u64,
    /// Prepared statements kept per connection.
    pub statement_cache_capacity: usize,
    /// Apply pending migrations when the server starts.
    pub migrate_on_start: bool,
}

/// `[redis]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://…` or `rediss://…` (TLS); empty disables Redis.
    pub url: SecretString,
    /// PEM file of a private CA that signed a `rediss://` server's certificate; empty:
    /// the system's roots.
    pub ca_file: String,
    /// Pool size.
    pub pool_max_size: usize,
    /// Milliseconds before a Redis call counts as failed.
    pub timeout_ms: u64,
}

/// `[auth]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// HS256 key (≥ 32 bytes in production).
    pub jwt_secret: SecretString,
    /// Access-token lifetime in seconds.
    pub access_token_ttl_secs: i64,
    /// Seconds an access token's session is remembered as active (0: ask the database on
    /// every request).
    pub session_cache_secs: u64,
    /// Refresh-token lifetime in days.
    pub refresh_token_ttl_days: i64,
    /// Login attempts a minute per client IP.
    pub login_per_minute: u32,
    /// Failed logins a minute per account (a valid device token of the account is
    /// exempt).
    pub login_per_account_per_minute: u32,
    /// Lifetime of the device token a login returns, in days.
    pub device_token_ttl_days: i64,
    /// `open`, `invite` or `closed`.
    pub registration: ayubi_identity::Registration,
    /// Registrations an hour per client IP.
    pub register_per_hour: u32,
    /// Argon2 hashes run at once (each takes 19 MiB and a core).
    pub max_concurrent_hashes: usize,
}

/// `[idempotency]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdempotencySettings {
    /// Hours a saved response is replayed.
    pub ttl_hours: i64,
}

/// `[telemetry]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// `pretty` or `json`.
    pub log_format: LogFormat,
    /// `RUST_LOG`-style filter used when `RUST_LOG` is unset.
    pub log_filter: String,
    /// Sentry DSN; empty disables Sentry.
    pub sentry_dsn: SecretString,
    /// Fraction of transactions traced by Sentry.
    pub sentry_traces_sample_rate: f32,
}

/// Log output style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// `[sync]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSettings {
    /// Days a change stays in the log.
    pub retention_days: i64,
    /// Newest changes per user kept whatever their age.
    pub keep_latest: u32,
    /// Seconds between server pings on a socket (and SSE keep-alives); two unanswered
    /// intervals close it.
    pub ping_interval_secs: u64,
    /// Seconds a socket may take to accept one message before it counts as a slow
    /// consumer and is closed with 4008.
    pub send_timeout_secs: u64,
    /// Sockets (WebSocket + SSE) one user may hold on one instance; beyond, 4429.
    pub max_sockets_per_user: usize,
    /// Live changes queued per user; a socket further behind re-reads the log.
    pub queue_capacity: usize,
    /// Changes read from the log per query while replaying.
    pub batch_size: u32,
    /// Without Redis, or while its subscription is down, seconds between checks of the
    /// log for other instances' changes (they arrive this late).
    pub poll_interval_secs: u64,
}

/// `[backup]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSettings {
    /// Directory of stored backups when no bucket is configured.
    pub dir: String,
    /// S3-compatible bucket (Cloudflare R2); empty: the local directory.
    pub s3_bucket: String,
    /// Endpoint URL of the bucket's service (R2: `https://<account>.r2.cloudflarestorage.com`).
    pub s3_endpoint: String,
    /// Region (`auto` for R2).
    pub s3_region: String,
    /// Access key id.
    pub s3_access_key_id: SecretString,
    /// Secret access key.
    pub s3_secret_access_key: SecretString,
    /// Largest import document accepted (bytes); larger gets 413.
    pub max_import_bytes: usize,
    /// Exports and imports running at once per instance (the rest wait).
    pub max_concurrent_jobs: usize,
    /// Seconds between scheduler passes.
    pub scheduler_interval_secs: u64,
    /// Seconds a claimed scheduled run may take before another instance may retry it.
    pub lease_secs: i64,
}

impl BackupSettings {
    /// The object store these settings select.
    #[must_use]
    pub fn store(&self) -> ayubi_storage::StoreConfig {
        if self.s3_bucket.is_empty() {
            ayubi_storage::StoreConfig::Local(self.dir.clone().into())
        } else {
            ayubi_storage::StoreConfig::S3 {
                bucket: self.s3_bucket.clone(),
                endpoint: self.s3_endpoint.clone(),
                region: self.s3_region.clone(),
                access_key_id: self.s3_access_key_id.expose_secret().to_owned(),
                secret_access_key: self.s3_secret_access_key.expose_secret().to_owned(),
            }
        }
    }
}

/// `[cache]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// Cache read views at all.
    pub enabled: bool,
    /// Seconds a stored view is kept.
    pub ttl_secs: u64,
    /// Bytes of views in process memory (without Redis).
    pub memory_max_bytes: u64,
}

/// `[games]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GamesSettings {
    /// Steam Web API key; empty disables Steam.
    pub steam_api_key: SecretString,
    /// FACEIT Data API key; empty disables FACEIT.
    pub faceit_api_key: SecretString,
    /// Seconds a copy is served without asking the platform.
    pub cache_ttl_secs: u64,
    /// Seconds nobody asks a platform again after it failed.
    pub retry_backoff_secs: u64,
    /// Milliseconds one request to a platform may take.
    pub request_timeout_ms: u64,
    /// Milliseconds to connect to a platform.
    pub connect_timeout_ms: u64,
    /// Steam Web API base URL.
    pub steam_api_url: String,
    /// FACEIT Data API base URL.
    pub faceit_api_url: String,
}

impl GamesSettings {
    /// The adapters' configuration.
    #[must_use]
    pub fn platforms(&self) -> ayubi_game_platforms::PlatformsConfig {
        ayubi_game_platforms::PlatformsConfig {
            steam_api_key: self.steam_api_key.clone(),
            faceit_api_key: self.faceit_api_key.clone(),
            steam_base_url: self.steam_api_url.clone(),
            faceit_base_url: self.faceit_api_url.clone(),
            timeout: std::time::Duration::from_millis(self.request_timeout_ms.max(1)),
            connect_timeout: std::time::Duration::from_millis(self.connect_timeout_ms.max(1)),
        }
    }

    /// The cache policy.
    #[must_use]
    pub fn policy(&self) -> ayubi_games::CachePolicy {
        let secs = |s: u64| chrono::TimeDelta::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
        ayubi_games::CachePolicy {
            ttl: secs(self.cache_ttl_secs),
            backoff: secs(self.retry_backoff_secs.max(1)),
        }
    }
}

fn list_or_csv<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Csv(String),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::List(v) => v,
        Raw::Csv(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

impl Settings {
    /// Loads the layers from `config_dir` and the process environment.
    ///
    /// # Errors
    /// A file or variable that does not parse, or a production configuration that is
    /// unsafe to run (see [`Settings::check`]).
    pub fn load(config_dir: &Path) -> anyhow::Result<Self> {
        Self::load_with(Environment::from_env()?, config_dir, true)
    }

    /// Loads a profile; with `process_env = false` the environment is ignored (tests
    /// must not pick up a developer's `DATABASE_URL`).
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn load_with(
        env: Environment,
        config_dir: &Path,
        process_env: bool,
    ) -> anyhow::Result<Self> {
        let mut legacy = Figment::new();
        for (var, key) in LEGACY_ENV {
            if std::env::var_os(var).is_some() {
                legacy = legacy.merge(Env::raw().only(&[var]).map(move |_| (*key).into()));
            }
        }
        let mut figment = Figment::new()
            .merge(Toml::string(DEFAULT_TOML))
            .merge(Toml::file(
                config_dir.join(format!("{}.toml", env.as_str())),
            ));
        if process_env {
            figment = figment
                .merge(legacy)
                .merge(Env::prefixed("AYUBI__").split("__"));
        }
        let mut settings: Self = figment.extract()?;
        settings.environment = env;
        settings.check()?;
        Ok(settings)
    }

    /// Refuses configurations that would be unsafe in production and fills in the
    /// development conveniences.
    ///
    /// # Errors
    /// In production: a `JWT_SECRET_KEY` that is missing, shorter than 32 bytes or the
    /// `.env.example` placeholder.
    pub fn check(&mut self) -> anyhow::Result<()> {
        let secret = self.auth.jwt_secret.expose_secret();
        let weak = secret.len() < 32 || secret == EXAMPLE_SECRET;
        if weak {
            if self.environment == Environment::Production {
                anyhow::bail!(
                    "JWT_SECRET_KEY must be set to at least 32 random bytes in production \
                     (got {} bytes{}); generate one with `openssl rand -base64 48`",
                    secret.len(),
                    if secret == EXAMPLE_SECRET {
                        ", the .env.example placeholder"
                    } else {
                        ""
                    }
                );
            }
            self.jwt_secret_generated = true;
            self.auth.jwt_secret = SecretString::from(ayubi_credentials::random_secret());
        }
        for origin in &self.server.cors_origins {
            let ok = (origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin.ends_with('/')
                && origin
                    .parse::<actix_web::http::header::HeaderValue>()
                    .is_ok();
            if !ok {
                anyhow::bail!(
                    "CORS_ORIGINS entry {origin:?} must be an origin like https://app.example.com \
                     (scheme and host, no path or trailing slash)"
                );
            }
        }
        if self.auth.max_concurrent_hashes == 0 {
            anyhow::bail!("auth.max_concurrent_hashes must be at least 1");
        }
        if self.auth.login_per_minute == 0 || self.auth.register_per_hour == 0 {
            anyhow::bail!("auth.login_per_minute and auth.register_per_hour must be at least 1");
        }
        Ok(())
    }

    /// The database pool settings.
    #[must_use]
    pub fn db_config(&self) -> ayubi_db::DbConfig {
        let d = &self.database;
        ayubi_db::DbConfig {
            url: d.url.expose_secret().to_owned(),
            max_connections: d.max_connections,
            min_connections: d.min_connections,
            acquire_timeout: Duration::from_secs(d.acquire_timeout_secs),
            idle_timeout: Duration::from_secs(d.idle_timeout_secs),
            max_lifetime: Duration::from_secs(d.max_lifetime_secs),
            test_before_acquire: d.test_before_acquire,
            sqlite_busy_timeout: Duration::from_millis(d.sqlite_busy_timeout_ms),
            sqlite_synchronous_full: d.sqlite_synchronous.eq_ignore_ascii_case("full"),
            sqlite_cache_size_kib: d.sqlite_cache_size_kib,
            sqlite_heap_limit_kib: d.sqlite_heap_limit_kib,
            sqlite_max_page_count: d.sqlite_max_page_count,
            statement_cache_capacity: d.statement_cache_capacity,
        }
    }
}

/// A secret that counts as unset when empty.
#[must_use]
pub fn non_empty(s: &SecretString) -> Option<&str> {
    let v = s.expose_secret();
    (!v.trim().is_empty()).then_some(v)
}

#[cfg(test)]
// figment's `Jail` closures return its own (large) error type; these are tests.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    fn dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
    }

    #[test]
    fn defaults_are_complete_and_development_generates_a_key() {
        Jail::expect_with(|_| {
            let s = Settings::load_with(Environment::Development, &dir(), true)
                .map_err(|e| e.to_string())?;
            assert_eq!(s.server.port, 8080);
            assert_eq!(
                s.database.url.expose_secret(),
                "sqlite://data/ayubi.db?mode=rwc"
            );
            assert_eq!(
                s.server.cors_origins,
                vec!["http://localhost:5173".to_owned()]
            );
            assert!(s.jwt_secret_generated);
            assert!(s.auth.jwt_secret.expose_secret().len() >= 32);
            Ok(())
        });
    }

    #[test]
    fn the_old_deployment_names_and_prefixed_keys_override_files() {
        Jail::expect_with(|jail| {
            jail.set_env("DATABASE_URL", "postgres://u:p@db/ayubi");
            jail.set_env("PORT", "9000");
            jail.set_env("HOST", "0.0.0.0");
            jail.set_env("CORS_ORIGINS", "https://a.example, https://b.example");
            jail.set_env("JWT_SECRET_KEY", "0123456789abcdef0123456789abcdef-long");
            jail.set_env("REDIS_URL", "redis://cache:6379");
            jail.set_env("SENTRY_DSN", "https://key@sentry.example/1");
            jail.set_env("STEAM_API_KEY", "steam");
            jail.set_env("FACEIT_API_KEY", "faceit");
            jail.set_env("AYUBI__DATABASE__MAX_CONNECTIONS", "7");
            jail.set_env("AYUBI__AUTH__LOGIN_PER_MINUTE", "3");
            let s = Settings::load_with(Environment::Production, &dir(), true)
                .map_err(|e| e.to_string())?;
            assert_eq!(s.database.url.expose_secret(), "postgres://u:p@db/ayubi");
            assert_eq!((s.server.host.as_str(), s.server.port), ("0.0.0.0", 9000));
            assert_eq!(
                s.server.cors_origins,
                vec!["https://a.example", "https://b.example"]
            );
            assert!(!s.jwt_secret_generated);
            assert_eq!(s.redis.url.expose_secret(), "redis://cache:6379");
            assert_eq!(
                s.telemetry.sentry_dsn.expose_secret(),
                "https://key@sentry.example/1"
            );
            assert_eq!(s.games.steam_api_key.expose_secret(), "steam");
            assert_eq!(s.games.faceit_api_key.expose_secret(), "faceit");
            assert_eq!(s.database.max_connections, 7);
            assert_eq!(s.auth.login_per_minute, 3);
            // production.toml's pool: the old stack's 20 kept, recycled hourly, pre-ping.
            assert_eq!(s.database.min_connections, 20);
            assert_eq!(s.database.max_lifetime_secs, 3600);
            assert!(s.database.test_before_acquire);
            assert_eq!(s.telemetry.log_format, LogFormat::Json);
            // A dashboard on the open internet: sign-up by invite unless said otherwise.
            assert_eq!(s.auth.registration, ayubi_identity::Registration::Invite);
            jail.set_env("AYUBI__AUTH__REGISTRATION", "closed");
            let s = Settings::load_with(Environment::Production, &dir(), true)
                .map_err(|e| e.to_string())?;
            assert_eq!(s.auth.registration, ayubi_identity::Registration::Closed);
            let dev = Settings::load_with(Environment::Development, &dir(), true)
                .map_err(|e| e.to_string())?;
            assert_eq!(
                dev.auth.registration,
                ayubi_identity::Registration::Closed,
                "the environment wins"
            );
            jail.set_env("AYUBI__AUTH__REGISTRATION", "sometimes");
            assert!(Settings::load_with(Environment::Production, &dir(), true).is_err());
            Ok(())
        });
    }

    #[test]
    fn production_refuses_weak_keys_and_bad_origins() {
        Jail::expect_with(|jail| {
            let err = Settings::load_with(Environment::Production, &dir(), true).unwrap_err();
            assert!(err.to_string().contains("JWT_SECRET_KEY"), "{err}");
            jail.set_env("JWT_SECRET_KEY", "short");
            assert!(Settings::load_with(Environment::Production, &dir(), true).is_err());
            jail.set_env("JWT_SECRET_KEY", "0123456789abcdef0123456789abcdef-long");
            jail.set_env("CORS_ORIGINS", "https://ok.example/");
            let err = Settings::load_with(Environment::Production, &dir(), true).unwrap_err();
            assert!(err.to_string().contains("CORS_ORIGINS"), "{err}");
            jail.set_env("AYUBI__SERVER__NO_SUCH_KEY", "1");
            jail.set_env("CORS_ORIGINS", "https://ok.example");
            assert!(
                Settings::load_with(Environment::Production, &dir(), true).is_err(),
                "unknown keys are refused"
            );
            Ok(())
        });
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        Jail::expect_with(|jail| {
            jail.set_env("JWT_SECRET_KEY", "super-secret-value-that-is-long-enough");
            jail.set_env("DATABASE_URL", "postgres://user:hunter2@db/x");
            let s = Settings::load_with(Environment::Production, &dir(), true)
                .map_err(|e| e.to_string())?;
            let shown = format!("{s:?}");
            assert!(!shown.contains("super-secret") && !shown.contains("hunter2"));
            Ok(())
        });
    }
}
