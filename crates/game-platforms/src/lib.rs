//! Ayubi's adapters for the game platforms' web APIs: the Steam Web API (player summary,
//! owned games with playtime) and the FACEIT Data API v4 (player by nickname, CS2 stats).
//!
//! Implements [`ayubi_games::ports::GamePlatforms`]. Each request has a timeout (and a
//! connect timeout); a 5xx or a refused connection is retried once after a short pause; a
//! timeout is not (it already spent the caller's patience). Statuses become
//! [`PlatformError`]s: 404 → `NotFound`, 401/403 → `KeyRejected`, 429 → `Unavailable`
//! with the platform's `Retry-After`, anything else → `Unavailable`. Bodies are read up
//! to [`MAX_BODY_BYTES`] and must be JSON; what they mean is `ayubi-games`' business.
//!
//! Steam takes its key in the query string, so no URL is ever logged or put in an
//! error (`reqwest::Error::without_url`); FACEIT's goes in `Authorization: Bearer`.

#![warn(missing_docs)]

use ayubi_games::ports::GamePlatforms;
use ayubi_games::present::{faceit_raw, steam_raw};
use ayubi_games::{Platform, PlatformError};
use reqwest::{Client, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The largest body read from a platform (a library of thousands of games is ~1 MiB).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// The pause before the one retry of a 5xx.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// Where the platforms are and how long to wait for them.
#[derive(Debug, Clone)]
pub struct PlatformsConfig {
    /// Steam Web API key; empty: Steam is not configured.
    pub steam_api_key: SecretString,
    /// FACEIT Data API (server-side) key; empty: FACEIT is not configured.
    pub faceit_api_key: SecretString,
    /// `https://api.steampowered.com` (tests point it at a local server).
    pub steam_base_url: String,
    /// `https://open.faceit.com/data/v4`.
    pub faceit_base_url: String,
    /// The whole of one request, body included.
    pub timeout: Duration,
    /// Establishing the connection (TLS included).
    pub connect_timeout: Duration,
}

impl PlatformsConfig {
    /// How long one fetch can take at most: two requests in sequence (FACEIT's stats need
    /// the player's id), each possibly retried once.
    #[must_use]
    pub fn fetch_budget(&self) -> Duration {
        (self.timeout + RETRY_PAUSE) * 4
    }
}

/// The reqwest client for both platforms.
#[derive(Debug, Clone)]
pub struct HttpPlatforms {
    /// Built at the first fetch, not at start: building it loads and parses the system's
    /// root certificates, a third of the server's start-up time (~35 ms here), for a
    /// client most starts never use.
    client: Arc<OnceLock<Result<Client, String>>>,
    config: PlatformsConfig,
    steam: Url,
    faceit: Url,
}

/// A 2xx body, or a 404.
enum Answer {
    Json(Value),
    NotFound,
}

fn unavailable(reason: impl Into<String>) -> PlatformError {
    PlatformError::Unavailable {
        reason: reason.into(),
        retry_after: None,
    }
}

impl HttpPlatforms {
    /// Checks the configuration (the client itself is built at the first fetch).
    ///
    /// # Errors
    /// A base URL that does not parse.
    pub fn new(config: PlatformsConfig) -> Result<Self, String> {
        let base = |s: &str| {
            // Without the trailing slash, segments are appended the same way to
            // `https://host` and `https://host/data/v4`.
            Url::parse(s.trim_end_matches('/')).map_err(|e| format!("{s}: {e}"))
        };
        Ok(Self {
            steam: base(&config.steam_base_url)?,
            faceit: base(&config.faceit_base_url)?,
            client: Arc::new(OnceLock::new()),
            config,
        })
    }

    /// The client, built on first use; a TLS backend that cannot start is upstream
    /// trouble for every fetch (and logged once, when it happens).
    fn client(&self) -> Result<&Client, PlatformError> {
        self.client
            .get_or_init(|| {
                Client::builder()
                    .user_agent(concat!("ayubi/", env!("CARGO_PKG_VERSION")))
                    .timeout(self.config.timeout)
                    .connect_timeout(self.config.connect_timeout)
                    .build()
                    .map_err(|e| {
                        tracing::error!(error = %e, "game platforms: HTTP client cannot start");
                        e.to_string()
                    })
            })
            .as_ref()
            .map_err(|e| unavailable(format!("HTTP client: {e}")))
    }

    fn url(base: &Url, segments: &[&str]) -> Url {
        let mut url = base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// One GET, retried once on a 5xx or a refused connection.
    async fn get(
        &self,
        platform: Platform,
        url: Url,
        query: &[(&str, &str)],
        bearer: Option<&str>,
    ) -> Result<Answer, PlatformError> {
        let mut url = url;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut retried = false;
        loop {
            let mut req = self.client()?.get(url.clone());
            if let Some(token) = bearer {
                req = req.bearer_auth(token);
            }
            let outcome = match req.send().await {
                Ok(res) => self.read(platform, res).await,
                Err(e) if e.is_connect() && !e.is_timeout() => Err(Retry::Yes(unavailable(
                    format!("connection failed: {}", e.without_url()),
                ))),
                Err(e) if e.is_timeout() => Err(Retry::No(unavailable("timed out"))),
                Err(e) => Err(Retry::No(unavailable(e.without_url().to_string()))),
            };
            match outcome {
                Ok(a) => return Ok(a),
                Err(Retry::Yes(e)) if !retried => {
                    tracing::debug!(platform = platform.as_str(), reason = %e, "retrying once");
                    retried = true;
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
                Err(Retry::Yes(e) | Retry::No(e)) => return Err(e),
            }
        }
    }

    async fn read(&self, platform: Platform, mut res: reqwest::Response) -> Result<Answer, Retry> {
        let status = res.status();
        match status {
            s if s.is_success() => {}
            StatusCode::NOT_FOUND => return Ok(Answer::NotFound),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                tracing::error!(platform = platform.as_str(), %status, "the platform refused the API key");
                return Err(Retry::No(PlatformError::KeyRejected));
            }
            StatusCode::TOO_MANY_REQUESTS => {
                let retry_after = res
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                return Err(Retry::No(PlatformError::Unavailable {
                    reason: "rate limited (429)".into(),
                    retry_after,
                }));
            }
            s if s.is_server_error() => {
                return Err(Retry::Yes(unavailable(format!("HTTP {}", s.as_u16()))));
            }
            s => return Err(Retry::No(unavailable(format!("HTTP {}", s.as_u16())))),
        }
        if res
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(Retry::No(unavailable("body too large")));
        }
        let mut body = Vec::new();
        loop {
            match res.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_BODY_BYTES {
                        return Err(Retry::No(unavailable("body too large")));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.is_timeout() => return Err(Retry::No(unavailable("timed out"))),
                Err(e) => return Err(Retry::No(unavailable(e.without_url().to_string()))),
            }
        }
        serde_json::from_slice(&body)
            .map(Answer::Json)
            .map_err(|e| Retry::No(unavailable(format!("not JSON: {e}"))))
    }

    async fn steam(&self, steam_id: &str) -> Result<Value, PlatformError> {
        let key = self.config.steam_api_key.expose_secret();
        let summaries_query = [("key", key), ("steamids", steam_id)];
        let summaries = self.get(
            Platform::Steam,
            Self::url(&self.steam, &["ISteamUser", "GetPlayerSummaries", "v2", ""]),
            &summaries_query,
            None,
        );
        let owned_query = [
            ("key", key),
            ("steamid", steam_id),
            ("include_appinfo", "1"),
            ("include_played_free_games", "1"),
            ("format", "json"),
        ];
        let owned = self.get(
            Platform::Steam,
            Self::url(&self.steam, &["IPlayerService", "GetOwnedGames", "v1", ""]),
            &owned_query,
            None,
        );
        // Both at once: the person is waiting for the dashboard.
        let (summaries, owned) = futures_util::future::join(summaries, owned).await;
        let summaries = match summaries? {
            Answer::Json(v) => v,
            Answer::NotFound => return Err(unavailable("GetPlayerSummaries answered 404")),
        };
        // An unknown id is a 200 with no players.
        let players = summaries
            .pointer("/response/players")
            .and_then(Value::as_array);
        if players.is_some_and(Vec::is_empty) {
            return Err(PlatformError::NotFound);
        }
        let owned = match owned? {
            Answer::Json(v) => v,
            Answer::NotFound => return Err(unavailable("GetOwnedGames answered 404")),
        };
        Ok(steam_raw(summaries, owned))
    }

    async fn faceit(&self, nickname: &str) -> Result<Value, PlatformError> {
        let key = Some(self.config.faceit_api_key.expose_secret());
        let player = match self
            .get(
                Platform::Faceit,
                Self::url(&self.faceit, &["players"]),
                &[("nickname", nickname)],
                key,
            )
            .await?
        {
            Answer::Json(v) => v,
            Answer::NotFound => return Err(PlatformError::NotFound),
        };
        let id = player
            .get("player_id")
            .and_then(Value::as_str)
            .ok_or_else(|| unavailable("the player has no player_id"))?;
        let stats = match self
            .get(
                Platform::Faceit,
                Self::url(&self.faceit, &["players", id, "stats", "cs2"]),
                &[],
                key,
            )
            .await?
        {
            Answer::Json(v) => Some(v),
            // A player who never played CS2 on FACEIT.
            Answer::NotFound => None,
        };
        Ok(faceit_raw(player, stats))
    }
}

enum Retry {
    Yes(PlatformError),
    No(PlatformError),
}

#[async_trait::async_trait]
impl GamePlatforms for HttpPlatforms {
    fn configured(&self, platform: Platform) -> bool {
        let key = match platform {
            Platform::Steam => &self.config.steam_api_key,
            Platform::Faceit => &self.config.faceit_api_key,
        };
        !key.expose_secret().trim().is_empty()
    }

    async fn fetch(&self, platform: Platform, account: &str) -> Result<Value, PlatformError> {
        match platform {
            Platform::Steam => self.steam(account).await,
            Platform::Faceit => self.faceit(account).await,
        }
    }
}
