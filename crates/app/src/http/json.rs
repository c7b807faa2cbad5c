//! `ApiJson<T>`: the one JSON body extractor. Wrong content type or malformed JSON → 400;
//! well-formed JSON of the wrong shape (unknown field, missing field, wrong type) or
//! breaking a `validator` rule → 422 with the field named; over the limit → 413.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

/// A validated JSON body plus its canonical form (keys sorted, no whitespace), which the
/// idempotency mechanism fingerprints.
#[derive(Debug)]
pub struct ApiJson<T> {
    /// The parsed, validated body.
    pub value: T,
    /// Canonical serialisation of the JSON as sent.
    pub canonical: Vec<u8>,
}

impl<T> std::ops::Deref for ApiJson<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// What a request says its body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    /// `application/json` or `application/*+json`.
    Json,
    /// No `Content-Type` at all.
    Unstated,
    /// Anything else.
    Other,
}

/// The request's [`BodyType`], from its `Content-Type`.
#[must_use]
pub fn body_type(req: &HttpRequest) -> BodyType {
    let json = matches!(req.mime_type(), Ok(Some(m))
        if m.type_() == mime::APPLICATION
            && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON)));
    if json {
        BodyType::Json
    } else if req
        .headers()
        .contains_key(actix_web::http::header::CONTENT_TYPE)
    {
        BodyType::Other
    } else {
        BodyType::Unstated
    }
}

/// The answer to a body that says it is not JSON.
#[must_use]
pub fn not_json() -> ApiError {
    ApiError::bad_request("Content-Type must be application/json")
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let kind = body_type(req);
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| {
                let status = e.as_response_error().status_code();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(status, "request body is too large")
                } else {
                    ApiError::bad_request(format!("could not read the body: {e}"))
                }
            })?;
            // No body at all reads as `{}`: endpoints whose fields are all optional
            // (`POST /habits/{id}/completions`) can be called bare.
            if bytes.is_empty() && kind == BodyType::Unstated {
                return parse(b"{}");
            }
            if kind != BodyType::Json {
                return Err(not_json());
            }
            parse(&bytes)
        })
    }
}

/// Parses and validates a body (also used by tests and non-HTTP callers).
///
/// # Errors
/// 400 for malformed JSON, 422 for a wrong shape or a broken rule.
pub fn parse<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<ApiJson<T>, ApiError> {
    let raw: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("body is not valid JSON: {e}")))?;
    // serde would also read a struct from an array (`["a@b.co", "pw"]`); the contract
    // speaks of objects with named fields only.
    if !raw.is_object() {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    let mut raw = raw;
    integral_numbers(&mut raw);
    let canonical = serde_json::to_vec(&raw).unwrap_or_default();
    let value: T = serde_path_to_error::deserialize(raw).map_err(shape_error)?;
    value
        .validate()
        .map_err(|e| ApiError::invalid_fields(flatten(&e, "")))?;
    Ok(ApiJson { value, canonical })
}

/// JSON has one number type: `10.0` is the integer 10 to JSON Schema (and to the API's
/// document), but serde refuses it for an integer field. Numbers with no fraction become
/// integers (fields of type `f64` take integers just as well).
fn integral_numbers(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0)
                && f.abs() < 9_007_199_254_740_992.0
            {
                // Exact: |f| < 2^53, so it is an integer the cast keeps.
                #[allow(clippy::cast_possible_truncation)]
                {
                    *v = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

pub(crate) fn shape_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.inner().to_string();
    let named = |prefix: &str| {
        inner
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let join = |leaf: String| {
        if path == "." || path.is_empty() {
            leaf
        } else {
            format!("{path}.{leaf}")
        }
    };
    let (field, message) = if let Some(f) = named("unknown field `") {
        // serde_path_to_error's path already ends at the unknown field.
        let field = if path == "." || path.is_empty() {
            f
        } else {
            path.clone()
        };
        (field, "unknown field".to_owned())
    } else if let Some(f) = named("missing field `") {
        (join(f), "is required".to_owned())
    } else if path == "." || path.is_empty() {
        ("body".to_owned(), strip_position(&inner))
    } else {
        (path.clone(), strip_position(&inner))
    };
    ApiError::invalid(field, message)
}

/// serde_json appends "at line 1 column 7", meaningless once the body was re-parsed.
fn strip_position(msg: &str) -> String {
    msg.split(" at line ").next().unwrap_or(msg).to_owned()
}

fn flatten(errors: &ValidationErrors, prefix: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (field, kind) in errors.errors() {
        let name = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                let msgs = list
                    .iter()
                    .map(|e| {
                        e.message
                            .as_ref()
                            .map_or_else(|| e.code.to_string(), ToString::to_string)
                    })
                    .collect();
                out.insert(name, msgs);
            }
            ValidationErrorsKind::Struct(inner) => out.extend(flatten(inner, &name)),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    out.extend(flatten(inner, &format!("{name}[{i}]")));
                }
            }
        }
    }
    out
}
