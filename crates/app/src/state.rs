//! What every handler can reach, built once in [`crate::startup::Application::build`].

use crate::http::Idempotency;
use ayubi_cache::Redis;
use ayubi_db::Database;
use ayubi_finance::FinanceService;
use ayubi_games::GamesService;
use ayubi_habits::HabitService;
use ayubi_identity::IdentityService;
use ayubi_journal::JournalService;
use ayubi_kernel::Clock;
use ayubi_settings::SettingsService;
use ayubi_sport::SportService;
use ayubi_sync::{ChangeLog, Live};
use ayubi_travel::TravelService;
use std::sync::Arc;

/// Shared application state (`web::Data<AppState>`).
#[derive(Debug)]
pub struct AppState {
    /// Identity use cases.
    pub identity: IdentityService,
    /// Sport use cases.
    pub sport: SportService,
    /// Finance use cases.
    pub finance: FinanceService,
    /// Habit use cases.
    pub habits: HabitService,
    /// Journal use cases.
    pub journal: JournalService,
    /// Travel use cases.
    pub travel: TravelService,
    /// Game stats.
    pub games: GamesService,
    /// Settings and profile use cases.
    pub settings: SettingsService,
    /// The users' change logs.
    pub changes: Arc<dyn ChangeLog>,
    /// The `Idempotency-Key` mechanism.
    pub idempotency: Idempotency,
    /// The pool, for readiness.
    pub db: Database,
    /// Redis, when configured.
    pub redis: Option<Redis>,
    /// Whether to send HSTS.
    pub hsts: bool,
    /// The service clock.
    pub clock: Arc<dyn Clock>,
    /// Live sync: this instance's hub, settings and connection policy.
    pub live: Arc<Live>,
    /// Backups.
    pub backups: Arc<ayubi_backup::BackupService>,
    /// The read-view cache.
    pub views: Arc<ayubi_cache::GuardedViews>,
    /// The users' time zones (cached), for "today" in cache keys.
    pub zones: Arc<dyn ayubi_kernel::UserTimeZones>,
    /// Failed-login counter.
    pub auth_metrics: crate::ops_metrics::AuthMetrics,
    /// Every metric `/metrics` exposes.
    pub metrics: prometheus::Registry,
    /// Login attempts per client IP and per account, for the whole deployment.
    pub login_limits: Arc<crate::http::limits::LoginLimits>,
}
