//! The tasks every instance runs beside the server: housekeeping, the backup scheduler,
//! and the shutdown notice to live connections.

use crate::state::AppState;
use actix_web::web;
use ayubi_backup::BackupService;
use ayubi_kernel::{Clock, IdempotencyStore};
use ayubi_sync::Hub;
use std::sync::Arc;
use std::time::Duration;

/// How long housekeeping keeps things.
#[derive(Debug, Clone, Copy)]
pub(super) struct Retention {
    pub idempotency: chrono::Duration,
    pub changes: chrono::Duration,
    pub keep_latest: u32,
}

/// On SIGTERM/SIGINT, tells every live socket to reconnect (1001) while actix drains
/// requests; otherwise sockets would hold the shutdown until its timeout.
pub(super) fn spawn_shutdown_notice(hub: Arc<Hub>) {
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
pub(super) fn spawn_housekeeping(
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

/// Runs the backup scheduler's pass now (catching up on anything missed while the app
/// was down) and then every `every`.
pub(super) fn spawn_backup_scheduler(backups: Arc<BackupService>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            backups.run_due().await;
        }
    });
}
