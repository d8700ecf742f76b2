//! meeting-user-sync's own settings; every key is an environment variable of the
//! same name in upper case (`CLERK_API_URL`, `SERVICE_CLIENT_ID`, ...).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct DirectorySettings {
    /// Clerk's Backend API (profiles of Clerk users are fetched from it).
    #[serde(default = "d_clerk_api")]
    pub clerk_api_url: String,
    #[serde(default)]
    pub clerk_secret_key: Option<SecretString>,
    /// `whsec_…`: verifies `POST /api/webhooks/clerk`; unset refuses every webhook.
    #[serde(default)]
    pub clerk_webhook_secret: Option<SecretString>,
    /// How old a webhook's `svix-timestamp` may be (and how far ahead).
    #[serde(default = "d_tolerance")]
    pub webhook_tolerance_secs: i64,
    /// auth's internal listener, for profiles of first-party users
    /// (`/internal/users/{id}`) and service tokens (`/internal/token`).
    #[serde(default = "d_auth_url")]
    pub auth_internal_url: String,
    /// Client credentials this service holds at auth (`AUTH_INTERNAL_CLIENTS` there).
    #[serde(default)]
    pub service_client_id: Option<String>,
    #[serde(default)]
    pub service_client_secret: Option<SecretString>,
    /// Live sockets are pinged this often; one silent for two intervals is closed.
    #[serde(default = "d_live_ping")]
    pub live_ping_secs: u64,
    /// Signal frames a live socket may send per second (bursts of twice that).
    #[serde(default = "d_live_signals")]
    pub live_signals_per_sec: u32,
    /// `POST /api/user/sync` calls per user per minute (each asks the issuer's API).
    #[serde(default = "d_sync_per_user")]
    pub sync_per_user_per_min: u64,
}

fn d_clerk_api() -> String {
    "https://api.clerk.com".to_owned()
}
fn d_tolerance() -> i64 {
    300
}
fn d_live_ping() -> u64 {
    15
}
fn d_live_signals() -> u32 {
    30
}
fn d_sync_per_user() -> u64 {
    10
}
fn d_auth_url() -> String {
    "http://127.0.0.1:9081".to_owned()
}

impl DirectorySettings {
    pub fn live_ping_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.live_ping_secs.max(1))
    }

    pub fn clerk_secret_key(&self) -> Option<SecretString> {
        non_empty(&self.clerk_secret_key)
    }

    pub fn clerk_webhook_secret(&self) -> Option<SecretString> {
        non_empty(&self.clerk_webhook_secret)
    }

    /// The client id and secret, when both are set.
    pub fn service_client(&self) -> Option<(String, SecretString)> {
        let id = self
            .service_client_id
            .clone()
            .filter(|s| !s.trim().is_empty())?;
        Some((id, non_empty(&self.service_client_secret)?))
    }
}

fn non_empty(value: &Option<SecretString>) -> Option<SecretString> {
    value
        .as_ref()
        .filter(|v| !v.expose_secret().trim().is_empty())
        .cloned()
}

/// Both halves of the configuration, loaded from the same sources.
pub type Settings = common::config::Settings<DirectorySettings>;
