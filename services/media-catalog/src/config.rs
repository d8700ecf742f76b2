//! media-catalog's own settings; every key is an environment variable of the same
//! name in upper case (`TMDB_BASE_URL`, `CATALOG_TTL_TRENDING_SECS`, ...).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogSettings {
    #[serde(default = "d_tmdb_base")]
    pub tmdb_base_url: String,
    /// TMDB v3 API key, sent as `api_key`.
    #[serde(default)]
    pub tmdb_api_key: Option<SecretString>,
    /// TMDB read access token, sent as `Authorization: Bearer` (preferred when both are set).
    #[serde(default)]
    pub tmdb_read_access_token: Option<SecretString>,
    #[serde(default = "d_image_base")]
    pub tmdb_image_base_url: String,
    #[serde(default = "d_connect_timeout")]
    pub tmdb_connect_timeout_ms: u64,
    #[serde(default = "d_timeout")]
    pub tmdb_timeout_ms: u64,
    /// Outbound token bucket: requests per second (and burst) to TMDB per replica.
    #[serde(default = "d_rate")]
    pub tmdb_rate_per_sec: u32,
    /// Retries of a failed GET (connection errors, 5xx, 429 with a short `Retry-After`).
    #[serde(default = "d_retries")]
    pub tmdb_retries: u32,
    /// Longest wait for TMDB's `Retry-After` or the outbound limiter before giving up.
    #[serde(default = "d_max_wait")]
    pub tmdb_max_wait_ms: u64,

    #[serde(default = "d_ttl_trending")]
    pub catalog_ttl_trending_secs: u64,
    #[serde(default = "d_ttl_current")]
    pub catalog_ttl_current_secs: u64,
    #[serde(default = "d_ttl_lists")]
    pub catalog_ttl_lists_secs: u64,
    #[serde(default = "d_ttl_search")]
    pub catalog_ttl_search_secs: u64,
    #[serde(default = "d_ttl_details")]
    pub catalog_ttl_details_secs: u64,
    #[serde(default = "d_ttl_reference")]
    pub catalog_ttl_reference_secs: u64,
    /// How long past its TTL an entry is kept to be served when TMDB fails.
    #[serde(default = "d_stale")]
    pub catalog_stale_secs: u64,
    /// Prefix of every Redis key of the cache (bump it to drop the whole cache).
    #[serde(default = "d_prefix")]
    pub catalog_cache_prefix: String,
    /// With Redis: how long a replica keeps an entry in memory before asking Redis
    /// again (0 disables the near cache). Without Redis the memory cache is the cache.
    #[serde(default = "d_local_secs")]
    pub catalog_local_cache_secs: u64,
    #[serde(default = "d_local_mb")]
    pub catalog_local_cache_mb: u64,
    /// After a Redis error the cache skips Redis this long (memory and TMDB only).
    #[serde(default = "d_redis_retry")]
    pub catalog_redis_retry_secs: u64,

    #[serde(default = "d_poster_max")]
    pub poster_max_bytes: usize,

    /// Poster decodes at once per replica; more wait up to 2 s, then 429.
    #[serde(default = "d_decode_concurrency")]
    pub poster_decode_concurrency: usize,
    /// Poster uploads per user per minute.
    #[serde(default = "d_uploads_per_user")]
    pub poster_uploads_per_user_per_min: u64,
    /// Catalog requests that miss the cache (and so cost a TMDB call) per client
    /// address per minute; cache hits are not counted. 0 disables.
    #[serde(default = "d_misses_per_ip")]
    pub catalog_misses_per_ip_per_min: u64,
}

fn d_tmdb_base() -> String {
    "https://api.themoviedb.org/3".to_owned()
}
fn d_image_base() -> String {
    "https://image.tmdb.org/t/p".to_owned()
}
fn d_connect_timeout() -> u64 {
    2_000
}
fn d_timeout() -> u64 {
    5_000
}
fn d_rate() -> u32 {
    40
}
fn d_retries() -> u32 {
    2
}
fn d_max_wait() -> u64 {
    2_000
}
fn d_ttl_trending() -> u64 {
    3 * 3600
}
fn d_ttl_current() -> u64 {
    6 * 3600
}
fn d_ttl_lists() -> u64 {
    12 * 3600
}
fn d_ttl_search() -> u64 {
    3600
}
fn d_ttl_details() -> u64 {
    7 * 24 * 3600
}
fn d_ttl_reference() -> u64 {
    30 * 24 * 3600
}
fn d_stale() -> u64 {
    7 * 24 * 3600
}
fn d_prefix() -> String {
    "catalog:v1".to_owned()
}
fn d_local_secs() -> u64 {
    5
}
fn d_local_mb() -> u64 {
    64
}
fn d_redis_retry() -> u64 {
    5
}
fn d_decode_concurrency() -> usize {
    2
}
fn d_uploads_per_user() -> u64 {
    10
}
fn d_misses_per_ip() -> u64 {
    60
}
fn d_poster_max() -> usize {
    5 * 1024 * 1024
}

/// How TMDB is told who we are.
#[derive(Clone)]
pub enum TmdbCredentials {
    ApiKey(SecretString),
    Bearer(SecretString),
}

impl CatalogSettings {
    /// The read access token when set, else the API key; `None` when neither is.
    pub fn tmdb_credentials(&self) -> Option<TmdbCredentials> {
        let present = |s: &Option<SecretString>| {
            s.as_ref()
                .filter(|v| !v.expose_secret().trim().is_empty())
                .cloned()
        };
        present(&self.tmdb_read_access_token)
            .map(TmdbCredentials::Bearer)
            .or_else(|| present(&self.tmdb_api_key).map(TmdbCredentials::ApiKey))
    }

    pub fn stale_window(&self) -> Duration {
        Duration::from_secs(self.catalog_stale_secs)
    }
}

/// Both halves of the configuration, loaded from the same sources.
pub type Settings = common::config::Settings<CatalogSettings>;
