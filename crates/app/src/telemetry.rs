//! Logs (tracing) and error reporting (Sentry).

use crate::config::{Environment, LogFormat, Settings, non_empty};
use crate::ops_metrics::PoolAcquireLayer;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Installs the global subscriber: logs filtered by `RUST_LOG` if set, else
/// `telemetry.log_filter` (JSON lines in production), and beside them, with a filter of
/// its own, the layer that times pool acquires for `/metrics`. Safe to call more than once
/// (later calls are no-ops), which the tests rely on. The server logs to standard output.
pub fn init_logs(settings: &Settings) {
    install(settings, BoxMakeWriter::new(std::io::stdout));
}

/// The same for an operator command (`ayubi invite create`, `ayubi migrate …`): logs go to
/// standard error, so standard output carries only what the command prints — a script
/// can take `code=$(ayubi invite create)` as it is, JSON logs or not.
pub fn init_command_logs(settings: &Settings) {
    install(settings, BoxMakeWriter::new(std::io::stderr));
}

fn install(settings: &Settings, writer: BoxMakeWriter) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(&settings.telemetry.log_filter));
    let registry = tracing_subscriber::registry().with(PoolAcquireLayer::filtered());
    let _ = match settings.telemetry.log_format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_writer(writer)
                    .with_filter(filter),
            )
            .try_init(),
        LogFormat::Pretty => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .with_filter(filter),
            )
            .try_init(),
    };
}

/// Starts Sentry when a DSN is configured. Call from a plain `main` before the runtime
/// starts; keep the guard alive for the life of the process.
///
/// Each failure is reported from one place, so one failure is one event: a panic by
/// Sentry's panic hook (anywhere — handler, background job, socket task; in a handler it
/// carries the request, which the actix middleware put on the hub), any other 5xx by
/// [`report_server_error`] in the problems middleware. The actix middleware's own error
/// capture is off (it would report a panic a second time, as the 500 it becomes), and
/// nothing reports through tracing.
#[must_use]
pub fn init_sentry(settings: &Settings) -> Option<sentry::ClientInitGuard> {
    let dsn = non_empty(&settings.telemetry.sentry_dsn)?;
    // Parse first: the builder's `dsn()` panics on a malformed DSN.
    if let Err(e) = dsn.parse::<sentry::types::Dsn>() {
        tracing::error!(error = %e, "SENTRY_DSN is not a valid DSN; Sentry stays off");
        return None;
    }
    let t = &settings.telemetry;
    Some(sentry::init(
        sentry_options(settings.environment, t.sentry_traces_sample_rate).dsn(dsn),
    ))
}

/// Everything but the DSN and transport: environment, release, trace sample rate, and the
/// scrubbing every event goes through.
pub fn sentry_options(environment: Environment, traces_sample_rate: f32) -> sentry::ClientOptions {
    let mut opts = sentry::ClientOptions::new()
        .environment(environment.as_str())
        .traces_sample_rate(traces_sample_rate)
        .send_default_pii(false)
        // Bodies carry passwords and tokens (login, register, refresh): never sent.
        .max_request_body_size(sentry::MaxRequestBodySize::None)
        .before_send(|event| Some(scrub(event)));
    if let Some(release) = sentry::release_name!() {
        opts = opts.release(release);
    }
    opts
}

/// The actix middleware (`.finish()` it): a hub per request carrying the request
/// (scrubbed on the way out), transactions for tracing; no error capture of its own (see
/// [`init_sentry`]).
#[must_use]
pub fn sentry_middleware() -> sentry::integrations::actix::SentryBuilder {
    sentry::integrations::actix::Sentry::builder().capture_server_errors(false)
}

/// Reports a 5xx that was not a panic (those the panic hook reported already) to the
/// request's hub. A no-op without a DSN.
pub fn report_server_error(e: &actix_web::Error) {
    sentry::Hub::current().capture_error(e);
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

    /// Keeps what the client sends, instead of posting it.
    #[derive(Default)]
    struct Captured(std::sync::Mutex<Vec<sentry::Envelope>>);

    impl sentry::Transport for Captured {
        fn send_envelope(&self, envelope: sentry::Envelope) {
            self.0.lock().unwrap().push(envelope);
        }
    }

    impl Captured {
        fn events(&self) -> Vec<Event<'static>> {
            let all = self.0.lock().unwrap();
            all.iter().filter_map(|e| e.event().cloned()).collect()
        }
    }

    /// The production wiring — our options (panic hook included), the actix middleware
    /// as startup configures it, the problems middleware — with a transport that keeps
    /// the events: a panicking handler is one event, with the request and without its
    /// credentials; a 503 is one; a 4xx none.
    #[actix_web::test]
    async fn a_panic_is_one_scrubbed_event_a_503_one_and_a_4xx_none() {
        use crate::error::ApiError;
        use actix_web::middleware::from_fn;
        use actix_web::{App, HttpResponse, test, web};
        use std::sync::Arc;

        let transport = Arc::new(Captured::default());
        let mut opts =
            sentry_options(Environment::Production, 0.0).dsn("https://public@sentry.invalid/1");
        opts.transport = Some(Arc::new(transport.clone()));
        let client = Arc::new(sentry::Client::from(sentry::apply_defaults(opts)));
        let hub = Arc::new(sentry::Hub::new(Some(client), Arc::default()));

        async fn boom() -> HttpResponse {
            panic!("kaboom in a handler")
        }
        let app = test::init_service(
            App::new()
                .route("/boom", web::get().to(boom))
                .route(
                    "/down",
                    web::get().to(|| async {
                        Err::<HttpResponse, _>(ApiError::unavailable("database down"))
                    }),
                )
                .route(
                    "/missing",
                    web::get().to(|| async { Err::<HttpResponse, _>(ApiError::not_found()) }),
                )
                .wrap(from_fn(crate::http::middleware::problems))
                .wrap(sentry_middleware().with_hub(hub).finish()),
        )
        .await;
        let get = |uri: &str| {
            test::TestRequest::get()
                .uri(uri)
                .insert_header(("Authorization", "Bearer eyJsecret"))
                .insert_header(("Cookie", "refresh=s3cr3t"))
                .to_request()
        };

        let err = test::try_call_service(&app, get("/boom?token=eyJsecret&page=2"))
            .await
            .expect_err("the panic becomes an error response");
        assert_eq!(err.error_response().status(), 500);
        let events = transport.events();
        assert_eq!(events.len(), 1, "one panic, one event: {events:#?}");
        let panic = &events[0];
        let exception = &panic.exception.values[0];
        assert_eq!(exception.ty, "panic");
        assert_eq!(exception.value.as_deref(), Some("kaboom in a handler"));
        assert_eq!(panic.environment.as_deref(), Some("production"));
        let req = panic.request.as_ref().expect("the request is on the event");
        assert!(req.url.as_ref().unwrap().path().ends_with("/boom"));
        let json = serde_json::to_string(panic).unwrap();
        for secret in ["eyJsecret", "s3cr3t"] {
            assert!(!json.contains(secret), "{secret} leaked: {json}");
        }

        let res = test::call_service(&app, get("/missing")).await;
        assert_eq!(res.status(), 404);
        assert_eq!(transport.events().len(), 1, "a 4xx is no event");

        let res = test::call_service(&app, get("/down")).await;
        assert_eq!(res.status(), 503);
        let events = transport.events();
        assert_eq!(events.len(), 2, "a 503 is one event: {events:#?}");
        let down = &events[1];
        assert!(
            down.request
                .as_ref()
                .unwrap()
                .url
                .as_ref()
                .unwrap()
                .path()
                .ends_with("/down")
        );
        assert!(!serde_json::to_string(down).unwrap().contains("eyJsecret"));
    }
}
