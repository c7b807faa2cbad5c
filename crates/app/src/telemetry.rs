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
        .send_default_pii(false)
        // Bodies carry passwords and tokens (login, register, refresh): never sent.
        .max_request_body_size(sentry::MaxRequestBodySize::None)
        .before_send(|event| Some(scrub(event)));
    if let Some(release) = sentry::release_name!() {
        opts = opts.release(release);
    }
    Some(sentry::init(opts))
}

/// Header names whose values are credentials.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// Whether a field or parameter name holds a credential (`password`, `refresh_token`,
/// `token`, `jwt_secret`, `api_key`…).
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "password",
        "token",
        "secret",
        "authorization",
        "api_key",
        "apikey",
        "cookie",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// `k=v&…` with the values of secret-named keys replaced.
fn scrub_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if secret_name(k) => format!("{k}=[Filtered]"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Every event leaves without credentials, whatever added them: secret headers and
/// cookies go, the query string's and URL's secret parameters (the live-sync endpoints
/// accept `?token=`) are filtered, and a request body — not captured, see
/// `max_request_body_size` — is dropped if anything put one there.
#[must_use]
pub fn scrub(mut event: sentry::protocol::Event<'static>) -> sentry::protocol::Event<'static> {
    if let Some(req) = event.request.as_mut() {
        req.headers
            .retain(|k, _| !SECRET_HEADERS.contains(&k.to_ascii_lowercase().as_str()));
        req.cookies = None;
        req.data = None;
        if let Some(q) = req.query_string.as_mut() {
            *q = scrub_query(q);
        }
        if let Some(url) = req.url.as_mut()
            && let Some(q) = url.query().map(scrub_query)
        {
            url.set_query(Some(&q));
        }
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry::protocol::{Event, Request};

    #[test]
    fn events_leave_without_credentials() {
        let mut req = Request {
            url: "https://api.example/api/v1/events?token=eyJabc&since=4"
                .parse()
                .ok(),
            query_string: Some("token=eyJabc&since=4".into()),
            data: Some(r#"{"password":"hunter42"}"#.into()),
            cookies: Some("session=s3cr3t".into()),
            ..Request::default()
        };
        for (k, v) in [
            ("Authorization", "Bearer eyJabc"),
            ("Cookie", "session=s3cr3t"),
            ("X-Api-Key", "k3y"),
            ("User-Agent", "curl/8"),
        ] {
            req.headers.insert(k.into(), v.into());
        }
        let event = scrub(Event {
            request: Some(req),
            ..Event::default()
        });
        let json = serde_json::to_string(&event).unwrap();
        for secret in ["eyJabc", "s3cr3t", "hunter42", "k3y"] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        let req = event.request.unwrap();
        assert_eq!(
            req.headers.get("User-Agent").map(String::as_str),
            Some("curl/8")
        );
        assert_eq!(
            req.query_string.as_deref(),
            Some("token=[Filtered]&since=4")
        );
        assert!(req.url.unwrap().as_str().ends_with("since=4"));
    }
}
