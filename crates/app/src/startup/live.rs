//! Live-sync wiring: the hub, the fan-out (with Redis as its bus when configured), the
//! memory of active sessions that revocations must reach, the poller, and the notice
//! to live connections at shutdown.

use crate::config::Settings;
use crate::sync::{IdentityCheck, SyncMetrics};
use anyhow::Context;
use ayubi_cache::{GuardedViews, LocalSessions, Redis};
use ayubi_db::{Database, SqlChangeLog};
use ayubi_identity::IdentityService;
use ayubi_kernel::Clock;
use ayubi_sync::{Bus, ChangeLog, Fanout, Hub, Live, SyncConfig, Timing};
use std::sync::Arc;
use std::time::Duration;

/// Live sync before identity exists (identity tells the fan-out of revocations, and
/// live connections re-check their tokens with identity).
pub(super) struct LiveParts {
    /// This instance's connections, by user.
    pub hub: Arc<Hub>,
    /// Announces commits and revocations.
    pub fanout: Arc<Fanout>,
    /// Sessions known active here, when `auth.session_cache_secs` is set.
    pub sessions: Option<Arc<LocalSessions>>,
    /// The users' change logs.
    pub change_log: Arc<dyn ChangeLog>,
}

/// Committed changes reach this instance's sockets through the hub and other instances'
/// through Redis; without it, other instances' changes arrive by polling the log.
///
/// # Errors
/// When the sync metrics cannot be registered.
pub(super) fn wire(
    settings: &Settings,
    db: &Database,
    redis: Option<&Redis>,
    views: &Arc<GuardedViews>,
    deployment: &str,
    registry: &prometheus::Registry,
) -> anyhow::Result<LiveParts> {
    let sync_metrics = SyncMetrics::new();
    sync_metrics
        .register(registry)
        .context("registering sync metrics")?;
    let hub = Arc::new(Hub::new(
        settings.sync.queue_capacity,
        settings.sync.max_sockets_per_user,
        Arc::new(sync_metrics),
    ));
    let channel = ayubi_sync::channel(deployment);
    // Without Redis, only a SQLite deployment (one instance by construction) can be
    // sure no other instance revokes a session unseen; with Redis, trust follows the
    // subscription.
    let sessions = (settings.auth.session_cache_secs > 0).then(|| {
        Arc::new(LocalSessions::new(
            100_000,
            Duration::from_secs(settings.auth.session_cache_secs),
            redis.is_none() && db.backend() == ayubi_db::Backend::Sqlite,
        ))
    });
    let bus = redis.map(|r| -> Arc<dyn Bus> { Arc::new(r.publisher(&channel)) });
    let mut fanout = Fanout::new(hub.clone(), bus).with_change_listener(views.clone());
    if let Some(s) = &sessions {
        fanout = fanout.with_listener(s.clone());
    }
    let fanout = Arc::new(fanout);
    // Poll the log until wake-ups from other instances flow. Without Redis they never
    // do: instances sharing a PostgreSQL then still reach each other's sockets,
    // `sync.poll_interval_secs` late (one query per interval, not per socket).
    hub.set_wakeups_live(false);
    if let Some(r) = redis {
        let (on_message, on_state, trust) = (fanout.clone(), hub.clone(), sessions.clone());
        let local_views = views.clone();
        r.subscribe(
            &channel,
            move |payload| on_message.received(payload),
            move |up| {
                on_state.set_wakeups_live(up);
                if let Some(t) = &trust {
                    t.set_trusted(up);
                }
                // The in-process views are trusted while every change elsewhere reaches
                // them; down, reads go to Redis as before.
                local_views.set_local_live(up);
            },
        );
    }
    let change_log: Arc<dyn ChangeLog> = Arc::new(SqlChangeLog::new(db.clone()));
    hub.spawn_poller(
        change_log.clone(),
        Duration::from_secs(settings.sync.poll_interval_secs.max(1)),
    );
    super::background::spawn_shutdown_notice(hub.clone());
    Ok(LiveParts {
        hub,
        fanout,
        sessions,
        change_log,
    })
}

/// What every live connection shares, once identity exists.
pub(super) fn live(
    settings: &Settings,
    parts: &LiveParts,
    clock: Arc<dyn Clock>,
    identity: &IdentityService,
) -> Arc<Live> {
    Arc::new(Live::new(
        parts.hub.clone(),
        parts.change_log.clone(),
        clock,
        Arc::new(IdentityCheck(identity.clone())),
        SyncConfig {
            timing: Timing {
                ping: Duration::from_secs(settings.sync.ping_interval_secs.max(1)),
                send: Duration::from_secs(settings.sync.send_timeout_secs.max(1)),
            },
            batch_size: settings.sync.batch_size,
        },
    ))
}
