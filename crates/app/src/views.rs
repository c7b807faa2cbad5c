//! The read-view cache as handlers answer from it ([`ViewsJson`]), and its metrics. The
//! policy (bypass on failure, owed invalidations) is `ayubi_cache::GuardedViews`.

use crate::error::ApiError;
use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use ayubi_cache::{GuardedViews, Lookup};
use ayubi_kernel::UserId;
use prometheus::{IntCounterVec, Opts, Registry};
use serde::Serialize;

/// `ayubi_view_cache_requests_total{view, result}`: `view` is the key's kind
/// (`sport:stats`, `habits:stats`, `travel:stats`, `finance:summary`, `tz`); `result` is
/// `local` (answered from this process's copy in front of Redis, no round trip), `hit`,
/// `miss`, `bypass` (an invalidation is owed) or `error` (the cache failed; the request
/// went to the database).
#[derive(Debug, Clone)]
pub struct ViewMetrics {
    requests: IntCounterVec,
}

impl ViewMetrics {
    /// Creates and registers them.
    ///
    /// # Errors
    /// When a metric of the same name is already registered.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let requests = IntCounterVec::new(
            Opts::new(
                "ayubi_view_cache_requests_total",
                "Read-view cache lookups and failures, by result",
            ),
            &["view", "result"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        Ok(Self { requests })
    }

    fn count(&self, key: &str, result: &str) {
        self.requests.with_label_values(&[kind(key), result]).inc();
    }
}

/// `sport:stats:…` → `sport:stats`: bounded label values whatever the parameters.
fn kind(key: &str) -> &str {
    key.match_indices(':')
        .nth(1)
        .map_or(key, |(i, _)| &key[..i])
}

impl ayubi_cache::ViewObserver for ViewMetrics {
    fn counted(&self, key: &str, result: &str) {
        self.count(key, result);
    }
}

/// Answering a request with a cached view.
#[allow(async_fn_in_trait)]
pub trait ViewsJson {
    /// Answers with the user's view `key`: from the cache, else computed by `compute`
    /// (and stored under the generation read before computing).
    ///
    /// # Errors
    /// Whatever `compute` returns; nothing is stored then.
    async fn json<T, F>(
        &self,
        user: UserId,
        key: &str,
        compute: F,
    ) -> Result<HttpResponse, ApiError>
    where
        T: Serialize,
        F: Future<Output = Result<T, ApiError>>;
}

impl ViewsJson for GuardedViews {
    async fn json<T, F>(
        &self,
        user: UserId,
        key: &str,
        compute: F,
    ) -> Result<HttpResponse, ApiError>
    where
        T: Serialize,
        F: Future<Output = Result<T, ApiError>>,
    {
        let found = self.lookup(user, key).await;
        let body = match found {
            Some(Lookup {
                value: Some(bytes), ..
            }) => bytes,
            _ => {
                let bytes = serde_json::to_vec(&compute.await?).map_err(ApiError::internal)?;
                if let Some(at) = &found {
                    self.store(user, at, key, &bytes).await;
                }
                bytes
            }
        };
        Ok(HttpResponse::Ok()
            .content_type(ContentType::json())
            .body(body))
    }
}
