//! Auth's own settings; every key is an environment variable of the same name in
//! upper case (`AUTH_ACCESS_TOKEN_TTL_SECS`, `SMTP_URL`, ...).

use common::config::split_list;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    #[serde(default = "d_access_ttl")]
    pub auth_access_token_ttl_secs: i64,
    #[serde(default = "d_refresh_ttl")]
    pub auth_refresh_token_ttl_secs: i64,
    #[serde(default = "d_grace")]
    pub auth_refresh_grace_secs: i64,
    #[serde(default)]
    pub auth_bootstrap_admin_emails: String,
    /// `id:secret` pairs, comma-separated, allowed to get service tokens.
    #[serde(default)]
    pub auth_internal_clients: Option<SecretString>,
    #[serde(default = "d_service_ttl")]
    pub auth_service_token_ttl_secs: i64,
    #[serde(default = "d_memory")]
    pub auth_argon2_memory_kib: u32,
    #[serde(default = "d_iterations")]
    pub auth_argon2_iterations: u32,
    #[serde(default = "d_parallelism")]
    pub auth_argon2_parallelism: u32,
    /// Concurrent password hashes; default: the number of cores.
    #[serde(default)]
    pub auth_hash_concurrency: Option<usize>,
    /// Generate a signing key at start when none exists (default: in local mode).
    #[serde(default)]
    pub auth_generate_keys: Option<bool>,
    #[serde(default)]
    pub smtp_url: Option<SecretString>,
    #[serde(default = "d_mail_from")]
    pub mail_from: String,
    #[serde(default = "d_mail_dir")]
    pub mail_dir: String,
    #[serde(default = "d_rl_login_ip")]
    pub auth_rl_login_per_ip_per_min: u64,
    #[serde(default = "d_rl_login_account")]
    pub auth_rl_login_per_account_per_min: u64,
    #[serde(default = "d_rl_signup_ip")]
    pub auth_rl_signup_per_ip_per_hour: u64,
    #[serde(default = "d_rl_refresh_ip")]
    pub auth_rl_refresh_per_ip_per_min: u64,
    #[serde(default = "d_rl_otp")]
    pub auth_rl_otp_per_account_per_hour: u64,
    #[serde(default = "d_rl_reset_ip")]
    pub auth_rl_reset_per_ip_per_hour: u64,
    #[serde(default = "d_rl_reset_account")]
    pub auth_rl_reset_per_account_per_hour: u64,
    /// Reset-token submissions (`POST /api/auth/password/reset`) per client address.
    #[serde(default = "d_rl_submit_ip")]
    pub auth_rl_reset_submit_per_ip_per_min: u64,
    /// Email-code submissions (`POST /api/auth/email/verify`) per client address.
    #[serde(default = "d_rl_submit_ip")]
    pub auth_rl_verify_per_ip_per_min: u64,
    /// meeting-user-sync's base URL: user changes are delivered there from the
    /// outbox. Unset: events are kept until it is set.
    #[serde(default)]
    pub auth_directory_url: Option<String>,
    #[serde(default = "d_outbox_poll")]
    pub auth_outbox_poll_ms: u64,
    #[serde(default = "d_outbox_backoff")]
    pub auth_outbox_max_backoff_secs: u64,
}

fn d_access_ttl() -> i64 {
    900
}
fn d_refresh_ttl() -> i64 {
    30 * 24 * 3600
}
fn d_grace() -> i64 {
    10
}
fn d_service_ttl() -> i64 {
    600
}
fn d_memory() -> u32 {
    19_456
}
fn d_iterations() -> u32 {
    2
}
fn d_parallelism() -> u32 {
    1
}
fn d_mail_from() -> String {
    "Reelstack <no-reply@reelstack.local>".to_owned()
}
fn d_mail_dir() -> String {
    ".run/mail".to_owned()
}
fn d_rl_login_ip() -> u64 {
    30
}
fn d_rl_login_account() -> u64 {
    10
}
fn d_rl_signup_ip() -> u64 {
    20
}
fn d_rl_refresh_ip() -> u64 {
    120
}
fn d_rl_otp() -> u64 {
    5
}
fn d_rl_reset_ip() -> u64 {
    20
}
fn d_rl_reset_account() -> u64 {
    3
}
fn d_rl_submit_ip() -> u64 {
    10
}
fn d_outbox_poll() -> u64 {
    1_000
}
fn d_outbox_backoff() -> u64 {
    60
}

/// Both halves of the configuration, loaded from the same sources.
pub type Settings = common::config::Settings<AuthSettings>;

impl AuthSettings {
    pub fn bootstrap_admins(&self) -> Vec<String> {
        split_list(&self.auth_bootstrap_admin_emails)
            .into_iter()
            .map(|e| e.to_lowercase())
            .collect()
    }

    /// The configured service clients as (id, secret) pairs.
    pub fn internal_clients(&self) -> Vec<(String, SecretString)> {
        self.auth_internal_clients
            .as_ref()
            .map(|raw| {
                split_list(raw.expose_secret())
                    .into_iter()
                    .filter_map(|pair| {
                        let (id, secret) = pair.split_once(':')?;
                        Some((
                            id.trim().to_owned(),
                            SecretString::from(secret.trim().to_owned()),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}
