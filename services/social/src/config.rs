//! social's own settings; every key is an environment variable of the same name
//! in upper case (`DIRECTORY_URL`, `SERVICE_CLIENT_ID`, ...).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct SocialSettings {
    /// The directory's internal listener (meeting-user-sync), for names and
    /// avatars (`POST /internal/users/batch`).
    #[serde(default = "d_directory_url")]
    pub directory_url: String,
    /// auth's internal listener, for service tokens (`/internal/token`).
    #[serde(default = "d_auth_url")]
    pub auth_internal_url: String,
    /// Client credentials this service holds at auth (`AUTH_INTERNAL_CLIENTS` there).
    #[serde(default)]
    pub service_client_id: Option<String>,
    #[serde(default)]
    pub service_client_secret: Option<SecretString>,
    /// How long one directory call may take before lists answer without names.
    #[serde(default = "d_directory_timeout")]
    pub directory_timeout_ms: u64,
    /// How long a replica keeps a name and avatar (changes announced on the
    /// directory's channel drop them sooner).
    #[serde(default = "d_directory_cache")]
    pub directory_cache_secs: u64,
    /// Videos a user may post per hour (external and uploads).
    #[serde(default = "d_videos_per_hour")]
    pub videos_per_user_per_hour: u64,
    /// Comments a user may post per minute.
    #[serde(default = "d_comments_per_min")]
    pub comments_per_user_per_min: u64,
    /// A viewer counts once per video in this many seconds.
    #[serde(default = "d_view_window")]
    pub view_window_secs: u64,
    /// How often buffered views are written to PostgreSQL.
    #[serde(default = "d_views_flush")]
    pub views_flush_ms: u64,
    /// How often the trending ranking is computed again.
    #[serde(default = "d_trending_refresh")]
    pub trending_refresh_secs: u64,
    /// Prefix of this service's Redis keys (views buffered, de-duplicated).
    #[serde(default = "d_redis_prefix")]
    pub social_redis_prefix: String,
}

fn d_directory_url() -> String {
    "http://127.0.0.1:9084".to_owned()
}
fn d_auth_url() -> String {
    "http://127.0.0.1:9081".to_owned()
}
fn d_directory_timeout() -> u64 {
    1500
}
fn d_directory_cache() -> u64 {
    300
}
fn d_videos_per_hour() -> u64 {
    30
}
fn d_comments_per_min() -> u64 {
    20
}
fn d_view_window() -> u64 {
    1800
}
fn d_views_flush() -> u64 {
    2000
}
fn d_trending_refresh() -> u64 {
    60
}
fn d_redis_prefix() -> String {
    "social".to_owned()
}

impl SocialSettings {
    /// The client id and secret, when both are set.
    pub fn service_client(&self) -> Option<(String, SecretString)> {
        let id = self
            .service_client_id
            .clone()
            .filter(|s| !s.trim().is_empty())?;
        let secret = self
            .service_client_secret
            .as_ref()
            .filter(|v| !v.expose_secret().trim().is_empty())
            .cloned()?;
        Some((id, secret))
    }
}

/// Both halves of the configuration, loaded from the same sources.
pub type Settings = common::config::Settings<SocialSettings>;
