//! Conditional GETs: cheap revalidation for the web app's offline cache.
//!
//! A `GET` answered `200` with a JSON body (not an attachment, at most [`MAX_BODY`]) gets
//! a weak `ETag` — a hash of the body, so it is right whatever produced the body and
//! whatever "today" meant — and `Cache-Control: private, no-cache` (store it, but ask
//! first). A request whose `If-None-Match` names it gets `304 Not Modified` and no body.
//! The hash is of the uncompressed body (this runs inside the compression layer), hence
//! weak: the bytes on the wire vary with `Content-Encoding`, the JSON they carry does not.

use actix_web::body::{self, BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

/// Larger bodies are not hashed (lists are paged well below this).
pub const MAX_BODY: u64 = 1024 * 1024;

/// The middleware.
///
/// # Errors
/// Whatever the wrapped service returns.
pub async fn conditional_get(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let candidate = req.method() == Method::GET;
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let res = next.call(req).await?.map_into_boxed_body();
    let eligible = candidate
        && res.status() == StatusCode::OK
        && !res.headers().contains_key(header::ETAG)
        && !res.headers().contains_key(header::CONTENT_DISPOSITION)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
        && matches!(res.response().body().size(), BodySize::Sized(n) if n <= MAX_BODY);
    if !eligible {
        return Ok(res);
    }
    let (req, res) = res.into_parts();
    let (mut res, body) = res.into_parts();
    let bytes = match body::to_bytes(body).await {
        Ok(b) => b,
        Err(e) => return Err(actix_web::error::ErrorInternalServerError(e.to_string())),
    };
    let tag = etag(&bytes);
    let fresh = if_none_match
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches(v, &tag));
    let value = HeaderValue::from_str(&tag).map_err(actix_web::error::ErrorInternalServerError)?;
    res.headers_mut().insert(header::ETAG, value);
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    let res = if fresh {
        let mut not_modified = HttpResponse::NotModified().finish();
        for (name, value) in res.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                not_modified
                    .headers_mut()
                    .insert(name.clone(), value.clone());
            }
        }
        not_modified
    } else {
        res.set_body(BoxBody::new(bytes))
    };
    Ok(ServiceResponse::new(req, res))
}

/// `W/"<first 16 bytes of SHA-256, hex>"`: stable across instances and releases.
fn etag(body: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
    let hex: String = digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("W/\"{hex}\"")
}

/// RFC 9110 §13.1.2: `*`, or a list of tags compared weakly (`W/` ignored).
fn matches(if_none_match: &str, tag: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(tag);
    if_none_match
        .split(',')
        .any(|t| t.trim() == "*" || opaque(t) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_star() {
        let tag = etag(b"{}");
        assert!(tag.starts_with("W/\"") && tag.len() == 36, "{tag}");
        let strong = tag.trim_start_matches("W/");
        assert!(matches(&tag, &tag));
        assert!(matches(strong, &tag));
        assert!(matches(&format!("\"x\", {tag}"), &tag));
        assert!(matches("*", &tag));
        assert!(!matches("\"x\"", &tag));
        assert_ne!(etag(b"{}"), etag(b"[]"));
    }
}
