//! The services over their adapters: the read-view cache in front of the database, identity
//! with its credential adapters, every context's service, backups, the idempotency
//! mechanism and the login limits — everything [`AppState`] holds.

use super::background::spawn_backup_scheduler;
use super::live::{LiveParts, live};
use crate::config::Settings;
use crate::http::Idempotency;
use crate::http::client_ip::ClientIp;
use crate::ops_metrics::BackupMetrics;
use crate::state::AppState;
use crate::sync::Announce;
use anyhow::Context;
use ayubi_backup::{BackupPorts, BackupService, BackupSettings};
use ayubi_cache::Redis;
use ayubi_credentials::{Argon2Hasher, JwtTokens, RandomSecrets, ResponseSealer};
use ayubi_db::{
    Database, SqlBackupStore, SqlFinanceStore, SqlHabitStore, SqlIdempotencyStore,
    SqlIdentityStore, SqlJournalStore, SqlSettingsStore, SqlSportStore, SqlTimeZones,
    SqlTravelStore,
};
use ayubi_finance::FinanceService;
use ayubi_habits::HabitService;
use ayubi_identity::{IdentityConfig, IdentityService};
use ayubi_journal::JournalService;
use ayubi_kernel::{Clock, IdempotencyStore, UserTimeZones, ViewCache};
use ayubi_settings::SettingsService;
use ayubi_sport::SportService;
use ayubi_storage::BlobStore;
use ayubi_travel::TravelService;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;

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

/// What start-up hands over besides the state: what housekeeping prunes.
pub(super) struct Wired {
    /// Everything handlers reach.
    pub state: AppState,
    /// Saved idempotent responses.
    pub idempotency: Arc<dyn IdempotencyStore>,
}

/// The changes that may move a user's time zone: the profile's, the settings' (whose
/// `timezone` key writes the profile's) and a backup import's (which may restore it).
const ZONE_ENTITIES: &[&str] = &[
    ayubi_settings::events::PROFILE_UPDATED.entity,
    ayubi_settings::events::SETTINGS_UPDATED.entity,
    ayubi_backup::IMPORTED.entity,
];

/// Room for cached time zones: ~60 bytes a user.
const ZONE_CACHE_BYTES: u64 = 4 << 20;

/// The read-view cache: Redis's when configured (shared by instances, with this
/// process's copies in front, trusted while the bus subscription is up), else in process.
pub(super) fn views(
    settings: &Settings,
    db: &Database,
    redis: Option<&Redis>,
    deployment: &str,
    registry: &prometheus::Registry,
) -> anyhow::Result<Arc<ayubi_cache::GuardedViews>> {
    let backend = settings.cache.enabled.then(|| -> Arc<dyn ViewCache> {
        let ttl = Duration::from_secs(settings.cache.ttl_secs.max(1));
        match redis {
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
    });
    let guarded = ayubi_cache::GuardedViews::new(
        backend,
        Arc::new(
            crate::views::ViewMetrics::register(registry).context("registering cache metrics")?,
        ),
    );
    let guarded = match redis {
        Some(_) if settings.cache.enabled => guarded.with_local(ayubi_cache::MemoryViews::new(
            settings.cache.memory_max_bytes,
            Duration::from_secs(settings.cache.ttl_secs.max(1)),
        )),
        _ => guarded,
    };
    // Time zones stay in memory until the profile changes. Without Redis only a SQLite
    // deployment (one instance by construction) sees every change; with Redis, trust
    // follows the subscription.
    let guarded = if settings.cache.enabled {
        guarded.with_zones(
            ZONE_ENTITIES,
            redis.is_none() && db.backend() == ayubi_db::Backend::Sqlite,
            ZONE_CACHE_BYTES,
        )
    } else {
        guarded
    };
    let views = Arc::new(guarded);
    views.clone().spawn_retry(Duration::from_secs(1));
    Ok(views)
}

/// Backups over the database, the object store and temporary spool files; the
/// scheduler starts here.
fn backups(
    settings: &Settings,
    db: &Database,
    clock: Arc<dyn Clock>,
    registry: &prometheus::Registry,
) -> anyhow::Result<Arc<BackupService>> {
    let metrics = BackupMetrics::register(registry).context("registering backup metrics")?;
    let store = Arc::new(SqlBackupStore::new(db.clone()));
    let backups = Arc::new(BackupService::new(
        BackupPorts {
            source: store.clone(),
            imports: store.clone(),
            records: store,
            objects: Arc::new(
                BlobStore::open(&settings.backup.store())
                    .context("opening the backup object store")?,
            ),
            spools: Arc::new(ayubi_storage::TempFileSpools),
            clock,
            observer: Arc::new(metrics),
        },
        BackupSettings {
            instance: uuid::Uuid::new_v4().to_string(),
            lease: chrono::Duration::seconds(settings.backup.lease_secs.max(1)),
            max_import_bytes: settings.backup.max_import_bytes,
            max_jobs: settings.backup.max_concurrent_jobs,
        },
    ));
    spawn_backup_scheduler(
        backups.clone(),
        Duration::from_secs(settings.backup.scheduler_interval_secs.max(1)),
    );
    Ok(backups)
}

/// Login attempts per client IP and per account: shared through Redis when configured.
fn login_limits(
    settings: &Settings,
    client_ip: ClientIp,
    redis: Option<&Redis>,
    deployment: &str,
) -> Arc<crate::http::limits::LoginLimits> {
    let limiter = |what: &str, per_minute: u32| {
        let rate = ayubi_cache::Rate::per(per_minute, Duration::from_secs(60));
        match redis {
            Some(r) => ayubi_cache::Limiter::shared(
                rate,
                r.clone(),
                &format!("ayubi:limits:{deployment}:login:{what}"),
            ),
            None => ayubi_cache::Limiter::local(rate),
        }
    };
    Arc::new(crate::http::limits::LoginLimits::new(
        client_ip,
        limiter("ip", settings.auth.login_per_minute),
        // A new key prefix: the old one counted every attempt at the per-IP rate.
        limiter(
            "account-failures",
            settings.auth.login_per_account_per_minute,
        ),
    ))
}

/// Every service over its adapters. The pool is given the fan-out and the view cache
/// before any repository is built from it, so every commit is announced and
/// invalidates the user's views.
///
/// # Errors
/// When an adapter cannot be set up or a metric cannot be registered.
#[allow(clippy::too_many_arguments)]
pub(super) async fn wire(
    settings: &Settings,
    db: Database,
    redis: Option<Redis>,
    clock: Arc<dyn Clock>,
    live_parts: LiveParts,
    views: Arc<ayubi_cache::GuardedViews>,
    deployment: &str,
    registry: &prometheus::Registry,
    client_ip: ClientIp,
) -> anyhow::Result<Wired> {
    let db = db
        .with_representations(crate::routes::representations())
        .with_notifier(live_parts.fanout.clone())
        .with_views(views.clone());
    let zones: Arc<dyn UserTimeZones> = Arc::new(ayubi_cache::CachedZones::new(
        SqlTimeZones::new(db.clone()),
        views.clone(),
    ));

    let identity = identity_service(settings, &db, clock.clone())?
        .with_revocations(Arc::new(Announce(live_parts.fanout.clone())));
    let identity = match &live_parts.sessions {
        Some(s) => identity.with_session_cache(s.clone()),
        None => identity,
    };
    first_account_hint(&identity).await;
    let live = live(settings, &live_parts, clock.clone(), &identity);

    let idempotency_store: Arc<dyn IdempotencyStore> =
        Arc::new(SqlIdempotencyStore::new(db.clone()));
    let idempotency = Idempotency::new(
        idempotency_store.clone(),
        ResponseSealer::new(settings.auth.jwt_secret.expose_secret().as_bytes()),
        clock.clone(),
        chrono::Duration::hours(settings.idempotency.ttl_hours),
    );
    crate::ops_metrics::register_pool(db.clone(), registry).context("registering pool metrics")?;
    let state = AppState {
        auth_metrics: crate::ops_metrics::AuthMetrics::register(registry)
            .context("registering auth metrics")?,
        login_limits: login_limits(settings, client_ip, redis.as_ref(), deployment),
        metrics: registry.clone(),
        identity,
        sport: SportService::new(
            Arc::new(SqlSportStore::new(db.clone())),
            zones.clone(),
            clock.clone(),
        ),
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
        games: super::games::service(&settings.games, &db, clock.clone(), registry)?,
        settings: SettingsService::new(Arc::new(SqlSettingsStore::new(db.clone())), clock.clone()),
        changes: live_parts.change_log.clone(),
        idempotency,
        backups: backups(settings, &db, clock.clone(), registry)?,
        db,
        redis,
        hsts: settings.server.hsts,
        clock,
        live,
        views,
        zones,
    };
    Ok(Wired {
        state,
        idempotency: idempotency_store,
    })
}
