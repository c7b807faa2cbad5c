//! Logs (tracing) and error reporting (Sentry).

use crate::config::{LogFormat, Settings, non_empty};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber: `RUST_LOG` if set, else `telemetry.log_filter`; JSON
/// lines in production. Safe to call more than once (later calls are no-ops), which the
/// tests rely on.
pub fn init_logs(settings: &Settings) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(&settings.telemetry.log_filter));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match settings.telemetry.log_format {
        LogFormat::Json => registry
            .with(tracing_subscriber::fmt::layer().json().flatten_event(true))
            .try_init(),
        LogFormat::Pretty => registry.with(tracing_subscriber::fmt::layer()).try_init(),
    };
}

/// Starts Sentry when a DSN is configured. Call from a plain `main` before the runtime
/// starts; keep the guard alive for the life of the process. Errors are reported by the
/// sentry-actix middleware only (not also via tracing), so one 500 is one event.
#[must_use]
pub fn init_sentry(settings: &Settings) -> Option<sentry::ClientInitGuard> {
    let dsn = non_empty(&settings.telemetry.sentry_dsn)?;
    // Parse first: the builder's `dsn()` panics on a malformed DSN.
    if let Err(e) = dsn.parse::<sentry::types::Dsn>() {
        tracing::error!(error = %e, "SENTRY_DSN is not a valid DSN; Sentry stays off");
        return None;
    }
    let mut opts = sentry::ClientOptions::new()
        .dsn(dsn)
        .environment(settings.environment.as_str())
        .traces_sample_rate(settings.telemetry.sentry_traces_sample_rate)
        .send_default_pii(false);
    if let Some(release) = sentry::release_name!() {
        opts = opts.release(release);
    }
    Some(sentry::init(opts))
}
