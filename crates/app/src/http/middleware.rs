//! Middleware written for Ayubi (the rest is actix's, actix-cors's, actix-governor's and
//! tracing-actix-web's).

use crate::error::{ApiError, PROBLEM_JSON, problem_for_status};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use tracing_actix_web::RequestId;

/// Every error leaves as problem+json: handler errors already are; this catches panics
/// (500, the process keeps serving), errors raised by other middleware (CORS, governor)
/// and the plain-text responses actix builds itself (405, 413, 404 from a resource).
///
/// Errors that reach it as `Err` (a panic, a CORS refusal) stay `Err` but carry a
/// problem+json response: actix's router needs sole ownership of the request while it
/// routes, so a middleware outside it cannot keep a copy to build a response with.
///
/// It is also where a 5xx is reported to Sentry — once: a panic is not, Sentry's panic
/// hook has reported it already (see `telemetry::init_sentry`).
pub async fn problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let res = match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(Ok(res)) => res.map_into_boxed_body(),
        Ok(Err(e)) => {
            let original = e.error_response();
            if original.status().is_server_error() {
                crate::telemetry::report_server_error(&e);
            }
            if is_problem(original.headers()) {
                return Err(e);
            }
            let status = original.status();
            let detail = status.is_client_error().then(|| e.to_string());
            let mut fresh = problem_for_status(status, detail).error_response();
            copy_headers(original.headers(), fresh.headers_mut());
            return Err(InternalError::from_response(e.to_string(), fresh).into());
        }
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            let err = ApiError::internal(anyhow::anyhow!("handler panicked: {msg}"));
            let resp = err.error_response();
            return Err(InternalError::from_response("handler panicked", resp).into());
        }
    };
    let status = res.status();
    if status.is_server_error()
        && let Some(e) = res.response().error()
    {
        crate::telemetry::report_server_error(e);
    }
    if !(status.is_client_error() || status.is_server_error()) || is_problem(res.headers()) {
        return Ok(res);
    }
    let detail = if status.is_client_error() {
        res.response()
            .error()
            .map(ToString::to_string)
            .filter(|d| !d.is_empty())
    } else {
        None
    };
    let (req, old) = res.into_parts();
    let mut fresh = problem_for_status(status, detail).error_response();
    copy_headers(old.headers(), fresh.headers_mut());
    Ok(ServiceResponse::new(req, fresh))
}

fn is_problem(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()))
}

/// Keeps what a replaced response said beyond its body (Allow on 405, Retry-After, CORS).
fn copy_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            to.insert(name.clone(), value.clone());
        }
    }
}

/// Applies `edit` to the response's headers, whether it is a response or an error that
/// will become one.
fn edit_headers<B>(
    result: Result<ServiceResponse<B>, Error>,
    edit: impl Fn(&mut HeaderMap),
) -> Result<ServiceResponse<B>, Error> {
    match result {
        Ok(mut res) => {
            edit(res.headers_mut());
            Ok(res)
        }
        Err(e) => {
            let mut resp = e.error_response();
            edit(resp.headers_mut());
            Err(InternalError::from_response(e.to_string(), resp).into())
        }
    }
}

/// Echoes tracing-actix-web's request id as `X-Request-Id`, so a client report can be
/// matched to the server's logs.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| HeaderValue::from_str(&id.to_string()).ok());
    edit_headers(next.call(req).await, |h| {
        if let Some(v) = &id {
            h.insert(HeaderName::from_static("x-request-id"), v.clone());
        }
    })
}

/// Security headers. The API answers JSON only, so its policy forbids everything; the
/// documentation UI needs its own scripts, styles and images.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let docs = req.path().starts_with("/docs");
    let hsts = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .is_some_and(|s| s.hsts);
    edit_headers(next.call(req).await, |h| secure(h, docs, hsts))
}

fn secure(h: &mut HeaderMap, docs: bool, hsts: bool) {
    let csp = if docs {
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
         script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    } else {
        "default-src 'none'; frame-ancestors 'none'"
    };
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    };
    // `Content-Encoding: identity` is how a handler keeps `Compress` (inside this
    // middleware) off its body; RFC 9110 reserves `identity` for Accept-Encoding, so the
    // answer says nothing rather than that.
    if h.get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"identity"))
    {
        h.remove(header::CONTENT_ENCODING);
    }
    set(h, "content-security-policy", csp);
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    );
    if !docs && !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    if hsts {
        set(
            h,
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpResponse, test, web};

    async fn boom() -> HttpResponse {
        panic!("kaboom")
    }

    #[actix_web::test]
    async fn a_panicking_handler_becomes_a_problem_and_the_server_keeps_serving() {
        let app = test::init_service(
            App::new()
                .route("/boom", web::get().to(boom))
                .route(
                    "/ok",
                    web::get().to(|| async { HttpResponse::Ok().body("fine") }),
                )
                .wrap(from_fn(problems))
                .wrap(from_fn(security_headers)),
        )
        .await;
        let err = test::try_call_service(&app, test::TestRequest::get().uri("/boom").to_request())
            .await
            .err()
            .expect("a panic surfaces as an error response");
        let res = err.error_response();
        assert_eq!(res.status(), 500);
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
        assert_eq!(
            res.headers().get("x-content-type-options").unwrap(),
            "nosniff"
        );
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["status"], 500);
        assert_eq!(
            body["detail"], "internal error",
            "the panic message is not leaked"
        );

        let ok = test::call_service(&app, test::TestRequest::get().uri("/ok").to_request()).await;
        assert_eq!(ok.status(), 200);
    }

    #[actix_web::test]
    async fn actix_plain_text_errors_become_problems() {
        let app = test::init_service(
            App::new()
                .service(web::resource("/only-get").route(web::get().to(HttpResponse::Ok)))
                .wrap(from_fn(problems)),
        )
        .await;
        let res = test::call_service(
            &app,
            test::TestRequest::post().uri("/only-get").to_request(),
        )
        .await;
        assert_eq!(res.status(), 405);
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
        let body: serde_json::Value = test::read_body_json(res).await;
        assert_eq!(body["title"], "Method Not Allowed");
    }
}

/// An access token that came where browsers can put one on a WebSocket handshake or an
/// `EventSource` — `?access_token=` or the subprotocol pair `bearer, <token>` — moved out
/// of the request by [`scrub_access_token`].
#[derive(Debug, Clone)]
pub struct StreamToken(pub String);

/// Takes a token out of the query string (`access_token`) and out of
/// `Sec-WebSocket-Protocol` (`bearer, <token>` becomes `bearer`) before anything logs or
/// reports the request (tracing, Sentry — which scrubs `Authorization` but not these —,
/// metrics), and keeps it in the request's extensions as [`StreamToken`]. It must wrap
/// every other middleware.
pub async fn scrub_access_token(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut token = None;
    if let Some((t, rest)) = take_param(req.uri(), "access_token") {
        let path = req.uri().path();
        let rebuilt = if rest.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{rest}")
        };
        if let Ok(uri) = rebuilt.parse() {
            req.head_mut().uri = uri;
            // The match info was computed from the original URI; recompute it.
            let uri = req.uri().clone();
            req.match_info_mut().get_mut().update(&uri);
        }
        token = Some(t);
    }
    let protocols = req
        .headers()
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .map(take_subprotocol_token);
    if let Some(Some((t, rest))) = protocols {
        match HeaderValue::from_str(&rest) {
            Ok(v) => {
                req.headers_mut().insert(header::SEC_WEBSOCKET_PROTOCOL, v);
            }
            Err(_) => {
                req.headers_mut().remove(header::SEC_WEBSOCKET_PROTOCOL);
            }
        }
        token = token.or(Some(t));
    }
    if let Some(t) = token {
        req.extensions_mut().insert(StreamToken(t));
    }
    next.call(req).await
}

/// `(token, the other protocols)` of a `Sec-WebSocket-Protocol` value that offers
/// `bearer, <token>`.
fn take_subprotocol_token(value: &str) -> Option<(String, String)> {
    let offered: Vec<&str> = value.split(',').map(str::trim).collect();
    let at = offered.iter().position(|p| *p == "bearer")?;
    let token = offered.get(at + 1).filter(|t| !t.is_empty())?;
    let rest: Vec<&str> = offered
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != at + 1)
        .map(|(_, p)| *p)
        .collect();
    Some(((*token).to_owned(), rest.join(", ")))
}

/// `(value of name, the query without it)` when the query has `name`.
fn take_param(uri: &actix_web::http::Uri, name: &str) -> Option<(String, String)> {
    let query = uri.query()?;
    let mut value = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
            if key == name {
                if value.is_none() {
                    let v = pair.split_once('=').map_or("", |(_, v)| v);
                    value = Some(percent_decode(v));
                }
                false
            } else {
                true
            }
        })
        .collect();
    value.map(|v| (v, rest.join("&")))
}

/// Tokens are URL-safe already; decoding `%XX` covers clients that escape anyway.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod scrub_tests {
    use super::{take_param, take_subprotocol_token};

    #[test]
    fn the_token_is_taken_out_of_the_subprotocols() {
        assert_eq!(
            take_subprotocol_token("bearer, eyJ.a.b"),
            Some(("eyJ.a.b".to_owned(), "bearer".to_owned()))
        );
        assert_eq!(
            take_subprotocol_token("v2, bearer, tok"),
            Some(("tok".to_owned(), "v2, bearer".to_owned()))
        );
        assert_eq!(take_subprotocol_token("bearer"), None);
        assert_eq!(take_subprotocol_token("chat"), None);
    }

    #[test]
    fn the_access_token_is_taken_out_of_the_query() {
        let uri = "/api/v1/ws/sync?since=5&access_token=a.b%2Dc&x=1"
            .parse()
            .unwrap();
        assert_eq!(
            take_param(&uri, "access_token"),
            Some(("a.b-c".to_owned(), "since=5&x=1".to_owned()))
        );
        let uri = "/api/v1/events?access_token=t".parse().unwrap();
        assert_eq!(
            take_param(&uri, "access_token"),
            Some(("t".to_owned(), String::new()))
        );
        let uri = "/api/v1/events?since=1".parse().unwrap();
        assert_eq!(take_param(&uri, "access_token"), None);
    }
}
