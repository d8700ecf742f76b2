//! The TMDB v3 client: credentials, connect and total timeouts, the outbound
//! limiter, TMDB's 429 and `Retry-After`, retries with jitter for GETs, and
//! TMDB's errors classified for the cache (which may serve a stale copy instead).

mod limiter;
pub mod normalize;

use std::time::Duration;

use common::retry::Backoff;
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::config::{CatalogSettings, TmdbCredentials};
pub use limiter::OutboundLimiter;

/// Why TMDB gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// TMDB's 404 (status_code 34): the title does not exist.
    #[error("not found upstream")]
    NotFound,
    /// TMDB refused our credentials: a configuration problem, not the caller's.
    #[error("TMDB rejected the configured credentials")]
    Unauthorized,
    /// TMDB's 429, or our own limiter would have waited too long.
    #[error("rate limited upstream")]
    RateLimited { retry_after_secs: u64 },
    #[error("TMDB did not answer in time")]
    Timeout,
    /// Another status than success, 401, 404 or 429.
    #[error("TMDB answered {0}")]
    Status(u16),
    /// Connection errors and unreadable answers.
    #[error("TMDB unavailable: {0}")]
    Unavailable(String),
    /// Not sent: the client used up its budget of cache misses.
    #[error("the client's budget of TMDB calls is used up")]
    NotAdmitted { limit: u64, retry_after_secs: u64 },
}

impl UpstreamError {
    /// The status TMDB answered with, for `Cache-Status: fwd-status`.
    pub fn upstream_status(&self) -> Option<u16> {
        match self {
            Self::NotFound => Some(404),
            Self::Unauthorized => Some(401),
            Self::RateLimited { .. } => Some(429),
            Self::Status(status) => Some(*status),
            Self::Timeout | Self::Unavailable(_) | Self::NotAdmitted { .. } => None,
        }
    }

    /// A stale copy may stand in for these; a 404, bad credentials or a request
    /// TMDB refused (4xx) it may not.
    pub fn allows_stale(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Timeout | Self::Unavailable(_) => true,
            Self::Status(status) => *status >= 500,
            Self::NotFound | Self::Unauthorized | Self::NotAdmitted { .. } => false,
        }
    }
}

pub struct TmdbClient {
    http: reqwest::Client,
    base_url: String,
    credentials: TmdbCredentials,
    limiter: OutboundLimiter,
    retries: u32,
    max_wait: Duration,
}

impl TmdbClient {
    pub fn new(settings: &CatalogSettings, credentials: TmdbCredentials) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(settings.tmdb_connect_timeout_ms))
            .timeout(Duration::from_millis(settings.tmdb_timeout_ms))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!(
                "reelstack-media-catalog/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Self {
            http,
            base_url: settings.tmdb_base_url.trim_end_matches('/').to_owned(),
            credentials,
            limiter: OutboundLimiter::new(settings.tmdb_rate_per_sec),
            retries: settings.tmdb_retries,
            max_wait: Duration::from_millis(settings.tmdb_max_wait_ms),
        })
    }

    /// GETs `path` (relative to the base URL, e.g. `movie/popular`) with `query`.
    #[tracing::instrument(name = "tmdb.get", skip(self, query), fields(tmdb.path = %path))]
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, UpstreamError> {
        let mut attempt = 0;
        loop {
            let result = self.attempt(path, query).await;
            let retry_in = match &result {
                Err(e @ (UpstreamError::Unavailable(_) | UpstreamError::Status(_)))
                    if attempt < self.retries && e.allows_stale() =>
                {
                    Some(RETRY.delay(attempt + 1))
                }
                Err(UpstreamError::RateLimited { retry_after_secs })
                    if attempt < self.retries
                        && Duration::from_secs(*retry_after_secs) <= self.max_wait =>
                {
                    // The limiter is paused for `Retry-After`; the next attempt waits for it.
                    Some(Duration::ZERO)
                }
                _ => None,
            };
            match retry_in {
                Some(delay) => {
                    attempt += 1;
                    tracing::debug!(attempt, ?delay, "retrying TMDB request");
                    tokio::time::sleep(delay).await;
                }
                None => return result,
            }
        }
    }

    async fn attempt(&self, path: &str, query: &[(&str, String)]) -> Result<Value, UpstreamError> {
        let wait = self
            .limiter
            .reserve(self.max_wait)
            .ok_or(UpstreamError::RateLimited {
                retry_after_secs: self.max_wait.as_secs().max(1),
            })?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let url = format!("{}/{}", self.base_url, path);
        let mut request = self.http.get(&url).query(query);
        request = match &self.credentials {
            TmdbCredentials::Bearer(token) => request.bearer_auth(token.expose_secret()),
            TmdbCredentials::ApiKey(key) => request.query(&[("api_key", key.expose_secret())]),
        };
        let started = std::time::Instant::now();
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                UpstreamError::Timeout
            } else {
                UpstreamError::Unavailable(format!("request failed: {}", describe(e)))
            }
        })?;
        let status = response.status();
        metrics::counter!("tmdb_requests_total", "status" => status.as_u16().to_string())
            .increment(1);
        metrics::histogram!("tmdb_request_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        match status {
            s if s.is_success() => response.json::<Value>().await.map_err(|e| {
                if e.is_timeout() {
                    UpstreamError::Timeout
                } else {
                    UpstreamError::Unavailable(format!("unreadable answer: {}", describe(e)))
                }
            }),
            StatusCode::NOT_FOUND => Err(UpstreamError::NotFound),
            StatusCode::UNAUTHORIZED => {
                tracing::error!(
                    tmdb.path = %path,
                    "TMDB answered 401: the configured TMDB_API_KEY or TMDB_READ_ACCESS_TOKEN is wrong or revoked"
                );
                Err(UpstreamError::Unauthorized)
            }
            StatusCode::TOO_MANY_REQUESTS => {
                let retry_after_secs = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(1)
                    .clamp(1, 3600);
                tracing::warn!(
                    retry_after_secs,
                    "TMDB rate limit reached; pausing outbound calls"
                );
                self.limiter
                    .pause_for(Duration::from_secs(retry_after_secs));
                Err(UpstreamError::RateLimited { retry_after_secs })
            }
            s => Err(UpstreamError::Status(s.as_u16())),
        }
    }
}

/// 100 ms, 200 ms, 400 ms ... with up to 50 % jitter, so replicas do not retry in step.
const RETRY: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(3200), 0.5);

/// reqwest's error and its causes, without the URL (it carries the API key).
fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
