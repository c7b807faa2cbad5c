//! The rate-limit key: the client's IP. It is the socket's peer address unless a trusted
//! proxy header is configured (e.g. `Fly-Client-IP`, which Fly's edge overwrites), so a
//! client cannot dodge a limit by sending `X-Forwarded-For` or any other header.

use crate::error::ApiError;
use actix_governor::governor::NotUntil;
use actix_governor::governor::clock::{Clock, DefaultClock, QuantaInstant};
use actix_governor::{KeyExtractor, SimpleKeyExtractionError};
use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderName;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use std::net::IpAddr;

/// Keys governor limits by client IP.
#[derive(Debug, Clone)]
pub struct ClientIp {
    trusted_header: Option<HeaderName>,
}

impl ClientIp {
    /// `trusted_header` empty means "peer address only".
    ///
    /// # Errors
    /// When the configured header name is not a valid header name.
    pub fn new(trusted_header: &str) -> anyhow::Result<Self> {
        let trusted_header =
            match trusted_header.trim() {
                "" => None,
                name => Some(HeaderName::try_from(name).map_err(|e| {
                    anyhow::anyhow!("server.trusted_client_ip_header {name:?}: {e}")
                })?),
            };
        Ok(Self { trusted_header })
    }

    /// The client IP of a request.
    #[must_use]
    pub fn of(&self, req: &actix_web::HttpRequest) -> Option<IpAddr> {
        if let Some(name) = &self.trusted_header
            && let Some(ip) = req
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<IpAddr>().ok())
        {
            return Some(ip);
        }
        req.peer_addr().map(|a| a.ip())
    }
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, req: &ServiceRequest) -> Result<IpAddr, Self::KeyExtractionError> {
        self.of(req.request())
            .ok_or_else(|| SimpleKeyExtractionError::new("cannot determine the client address"))
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        _response: HttpResponseBuilder,
    ) -> HttpResponse {
        let wait = negative.wait_time_from(DefaultClock::default().now());
        // Round up: "retry in 0s" would invite an immediate, refused retry.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        ApiError::too_many_requests(secs).error_response()
    }
}
