//! The one place errors become HTTP: RFC 9457 `application/problem+json` for every
//! failure, whether it came from a domain service, an extractor, the router or a panic.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use ayubi_backup::BackupError;
use ayubi_backup::ports::ObjectError;
use ayubi_finance::FinanceError;
use ayubi_games::GamesError;
use ayubi_habits::HabitError;
use ayubi_identity::IdentityError;
use ayubi_journal::JournalError;
use ayubi_kernel::StoreError;
use ayubi_settings::SettingsError;
use ayubi_sport::SportError;
use ayubi_travel::TravelError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// The problem+json media type.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// `Retry-After` of a 503.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: String,
    errors: Option<BTreeMap<String, Vec<String>>>,
    /// `Retry-After` (429, 503), or the latest `seq` (a pull's 410): one slot, as no
    /// answer carries both, keeping the error small on every `Result`'s path.
    hint: Option<Hint>,
    /// The methods the resource serves, on 405 (`Allow`).
    allow: Option<String>,
    /// Set when a concurrent request saved the same `Idempotency-Key` first.
    idempotency_race: bool,
    /// Kept for the logs of 5xx; never shown to the client.
    cause: Option<anyhow::Error>,
}

/// What an error answer says besides its problem.
#[derive(Debug, Clone, Copy)]
enum Hint {
    /// `Retry-After` seconds.
    RetryAfter(u64),
    /// The user's latest `seq` (the problem's `seq`).
    LatestSeq(i64),
}

/// The body every error response carries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The status's reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for a human.
    pub detail: String,
    /// Field → messages, on 422.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
    /// On 410 from `GET /sync/changes` (resync required): the user's latest `seq`.
    /// Refetch, then continue from it, as the socket's `resync_required` message says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
}

impl ApiError {
    /// An error with a status and a detail.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            errors: None,
            hint: None,
            allow: None,
            idempotency_race: false,
            cause: None,
        }
    }

    /// 410 resync required: the client's cursor cannot be caught up from the log;
    /// `latest` is where to continue after refetching.
    pub fn resync_required(latest: i64) -> Self {
        Self {
            hint: Some(Hint::LatestSeq(latest)),
            ..Self::new(
                StatusCode::GONE,
                "resync required: the changes after this cursor are no longer available; refetch and restart from `seq`",
            )
        }
    }

    /// 400.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 401 (the response carries `WWW-Authenticate: Bearer`).
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    /// 404.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "no such resource")
    }

    /// 409.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// 422 naming one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let (field, message) = (field.into(), message.into());
        let mut errors = BTreeMap::new();
        errors.insert(field.clone(), vec![message.clone()]);
        Self::invalid_fields(errors)
    }

    /// 422 naming several fields.
    pub fn invalid_fields(errors: BTreeMap<String, Vec<String>>) -> Self {
        let detail = errors
            .iter()
            .map(|(f, msgs)| format!("{f}: {}", msgs.join(", ")))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            errors: Some(errors),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
        }
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self {
            hint: Some(Hint::RetryAfter(retry_after_secs.max(1))),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many requests; retry in {}s", retry_after_secs.max(1)),
            )
        }
    }

    /// 503 naming what is down, with `Retry-After` (a dependency that is down is usually
    /// back within seconds: a restart, a failover).
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self {
            hint: Some(Hint::RetryAfter(UNAVAILABLE_RETRY_AFTER_SECS)),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, detail)
        }
    }

    /// 405 with `Allow` listing the methods the resource serves.
    pub fn method_not_allowed(method: &str, path: &str, allow: &[&str]) -> Self {
        Self {
            allow: Some(allow.join(", ")),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!(
                    "{method} is not allowed on {path}; allowed: {}",
                    allow.join(", ")
                ),
            )
        }
    }

    /// 500; the cause is logged, the client sees a generic detail.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self {
            cause: Some(cause.into()),
            ..Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }

    /// Whether the create lost an `Idempotency-Key` race (its writes were rolled back).
    #[must_use]
    pub fn is_idempotency_race(&self) -> bool {
        self.idempotency_race
    }

    /// The status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The problem body.
    #[must_use]
    pub fn problem(&self) -> Problem {
        Problem {
            kind: "about:blank",
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            seq: match self.hint {
                Some(Hint::LatestSeq(seq)) => Some(seq),
                _ => None,
            },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            match &self.cause {
                // `{:#}` prints the whole cause chain on one line.
                Some(cause) => {
                    tracing::error!(status = %self.status, error = format!("{cause:#}"), "request failed")
                }
                None => {
                    tracing::error!(status = %self.status, detail = %self.detail, "request failed")
                }
            }
        }
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if let Some(Hint::RetryAfter(secs)) = self.hint {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(allow) = &self.allow {
            res.insert_header((header::ALLOW, allow.as_str()));
        }
        res.body(serde_json::to_vec(&self.problem()).unwrap_or_default())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(),
            StoreError::Conflict(what) => Self::conflict(format!("already exists ({what})")),
            StoreError::IdempotencyRace => Self {
                idempotency_race: true,
                ..Self::conflict("a request with this Idempotency-Key is being processed")
            },
            StoreError::Full(cause) => Self {
                cause: Some(anyhow::anyhow!(cause)),
                ..Self::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "the database is full: nothing was written; reads still work",
                )
            },
            StoreError::Unavailable(cause) => Self {
                cause: Some(anyhow::anyhow!(cause)),
                ..Self::unavailable("the database is unavailable")
            },
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Invalid { field, message } => Self::invalid(field, message),
            IdentityError::InvalidCredentials => Self::unauthorized("invalid credentials"),
            IdentityError::Unauthenticated => Self::unauthorized("invalid or expired token"),
            IdentityError::EmailTaken => Self::conflict("email already registered"),
            IdentityError::SignUpRefused(why) => Self::new(
                StatusCode::FORBIDDEN,
                match why {
                    ayubi_identity::SignUpRefused::InviteRequired => {
                        "a valid invite is required: ask someone with an account for an \
                         invite code (POST /api/v1/auth/invites) or the operator \
                         (`ayubi invite create`)"
                    }
                    ayubi_identity::SignUpRefused::Closed => {
                        "registration is closed: the operator creates accounts \
                         (`ayubi user create`)"
                    }
                },
            ),
            IdentityError::InviteUsed => {
                Self::conflict("the invite was already used to create an account")
            }
            IdentityError::NotFound => Self::not_found(),
            IdentityError::Store(s) => s.into(),
        }
    }
}

/// Turns the reason-phrase-only responses actix produces itself (405 from a resource,
/// errors of middlewares) into problem+json, so no error escapes in another shape.
pub fn problem_for_status(status: StatusCode, detail: Option<String>) -> ApiError {
    let detail = detail.unwrap_or_else(|| match status {
        StatusCode::NOT_FOUND => "no such route".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this route".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "request body is too large".to_owned(),
        s => s.canonical_reason().unwrap_or("error").to_lowercase(),
    });
    ApiError::new(status, detail)
}

impl From<SportError> for ApiError {
    fn from(e: SportError) -> Self {
        match e {
            SportError::Invalid { field, message } => Self::invalid(field, message),
            SportError::NotFound => Self::not_found(),
            SportError::Store(s) => s.into(),
        }
    }
}

impl From<TravelError> for ApiError {
    fn from(e: TravelError) -> Self {
        match e {
            TravelError::Invalid { field, message } => Self::invalid(field, message),
            TravelError::Conflict(what) => Self::conflict(what),
            TravelError::NotFound => Self::not_found(),
            TravelError::Store(s) => s.into(),
        }
    }
}

impl From<SettingsError> for ApiError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::Invalid(list) => {
                let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for (key, message) in list {
                    errors.entry(key).or_default().push(message);
                }
                Self::invalid_fields(errors)
            }
            SettingsError::Store(s) => s.into(),
        }
    }
}

impl From<HabitError> for ApiError {
    fn from(e: HabitError) -> Self {
        match e {
            HabitError::Invalid { field, message } => Self::invalid(field, message),
            HabitError::NotFound => Self::not_found(),
            HabitError::Store(s) => s.into(),
        }
    }
}

impl From<FinanceError> for ApiError {
    fn from(e: FinanceError) -> Self {
        match e {
            FinanceError::Invalid { field, message } => Self::invalid(field, message),
            FinanceError::Conflict(what) => Self::conflict(what),
            FinanceError::NotFound => Self::not_found(),
            FinanceError::Store(s) => s.into(),
        }
    }
}

impl From<JournalError> for ApiError {
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::Invalid { field, message } => Self::invalid(field, message),
            JournalError::NotFound => Self::not_found(),
            JournalError::Store(s) => s.into(),
        }
    }
}

impl From<GamesError> for ApiError {
    fn from(e: GamesError) -> Self {
        match e {
            GamesError::NotLinked(p) => Self::invalid(
                p.profile_field(),
                format!("link a {} account in the profile first", p.display_name()),
            ),
            GamesError::UnknownAccount(p) => Self::invalid(
                p.profile_field(),
                format!(
                    "{} has no account by this {}",
                    p.display_name(),
                    p.profile_field()
                ),
            ),
            GamesError::NotConfigured(_) | GamesError::KeyRejected(_) => {
                Self::unavailable(e.to_string())
            }
            GamesError::Unavailable {
                retry_after_secs, ..
            } => Self {
                hint: Some(Hint::RetryAfter(retry_after_secs.max(1))),
                ..Self::unavailable(e.to_string())
            },
            GamesError::Store(s) => s.into(),
        }
    }
}

impl From<BackupError> for ApiError {
    fn from(e: BackupError) -> Self {
        match e {
            BackupError::Invalid(list) => {
                let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for (path, message) in list {
                    errors.entry(path).or_default().push(message);
                }
                Self::invalid_fields(errors)
            }
            BackupError::Store(s) => s.into(),
            // A recorded backup whose object is gone: as missing as the record would be.
            BackupError::Objects(ObjectError::NotFound) => Self::not_found(),
            other @ (BackupError::Objects(_) | BackupError::Spool(_)) => {
                Self::internal(anyhow::Error::new(other))
            }
        }
    }
}
