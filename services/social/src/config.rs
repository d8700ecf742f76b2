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
    /// Largest upload, in bytes (413 beyond).
    #[serde(default = "d_video_max_bytes")]
    pub video_max_bytes: u64,
    /// Longest video accepted, in seconds (longer uploads fail processing).
    #[serde(default = "d_video_max_seconds")]
    pub video_max_seconds: u64,
    /// Uploads a user may start per hour.
    #[serde(default = "d_uploads_per_hour")]
    pub uploads_per_user_per_hour: u64,
    /// Videos one replica processes at once; 0: this replica processes none
    /// (API-only replicas beside dedicated processing ones).
    #[serde(default = "d_processing_concurrency")]
    pub video_processing_concurrency: usize,
    /// How long one processing attempt may take before it is killed (and its job,
    /// should the replica stop, claimed by another).
    #[serde(default = "d_processing_timeout")]
    pub video_processing_timeout_secs: u64,
    /// Attempts before a video that keeps failing to process is `failed`.
    #[serde(default = "d_processing_attempts")]
    pub video_processing_attempts: i32,
    /// The tools processing runs.
    #[serde(default = "d_ffmpeg")]
    pub ffmpeg_path: String,
    #[serde(default = "d_ffprobe")]
    pub ffprobe_path: String,
    /// Scratch folder of processing (the system's temporary folder by default).
    #[serde(default)]
    pub video_work_dir: Option<String>,
    /// When set (`https://api.example.com`), media URLs in answers are absolute;
    /// otherwise they are paths on the gateway.
    #[serde(default)]
    pub public_base_url: Option<String>,
    /// Prefix of this service's Redis keys (views buffered, de-duplicated).
    #[serde(default = "d_redis_prefix")]
    pub social_redis_prefix: String,
    /// Media bytes (the original's ranges, HLS files, posters) are sent by the
    /// gateway from the storage folder: the service checks access, `ETag`s and
    /// ranges and answers `X-Accel-Redirect` to [`crate::routes::media::GATEWAY_MEDIA_PREFIX`]
    /// (the gateway's `GATEWAY_MEDIA_DIR` must be this `STORAGE_DIR`). Only
    /// with the folder store; the service refuses to start with it and S3.
    #[serde(default)]
    pub media_accel_redirect: bool,
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
fn d_video_max_bytes() -> u64 {
    200 * 1024 * 1024
}
fn d_video_max_seconds() -> u64 {
    180
}
fn d_uploads_per_hour() -> u64 {
    10
}
fn d_processing_concurrency() -> usize {
    1
}
fn d_processing_timeout() -> u64 {
    600
}
fn d_processing_attempts() -> i32 {
    3
}
fn d_ffmpeg() -> String {
    "ffmpeg".to_owned()
}
fn d_ffprobe() -> String {
    "ffprobe".to_owned()
}
fn d_redis_prefix() -> String {
    "social".to_owned()
}

impl SocialSettings {
    /// The prefix of media URLs: empty (gateway paths) or the public base URL.
    pub fn media_base(&self) -> &str {
        self.public_base_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/'))
            .unwrap_or("")
    }

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
