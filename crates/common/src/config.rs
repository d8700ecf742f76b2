//! Settings shared by every service, and the loader: defaults in code, then an
//! optional file (`CONFIG_FILE`), then environment variables. For credentials
//! (names ending in `_URL`, `_SECRET`, `_KEY`, `_PASSWORD`, `_TOKEN`, `_CLIENTS`),
//! `X_FILE` is read as the value of `X`, so Kubernetes secret mounts work unchanged.
//! In production the loader refuses development credentials and a missing Redis.

use std::time::Duration;

use crate::net::TrustedProxies;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Where the service runs; local mode enables dev conveniences (generated keys,
/// pretty logs, migrations at start).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum AppEnv {
    #[default]
    Local,
    Production,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// Settings every service reads. Every key is a plain environment variable
/// (`PORT`, `DATABASE_URL`, ...); a service loads these and its own settings from the
/// same sources with [`load`], once per type (serde's `flatten` would lose the
/// string-to-number parsing of the `config` crate).
#[derive(Debug, Clone, Deserialize)]
pub struct CommonSettings {
    #[serde(default)]
    pub app_env: AppEnv,
    #[serde(default = "default_host")]
    pub host: String,
    pub port: u16,
    pub database_url: SecretString,
    #[serde(default = "default_pool_max")]
    pub db_pool_max_size: u32,
    #[serde(default = "default_pool_min_idle")]
    pub db_pool_min_idle: u32,
    #[serde(default = "default_pool_timeout_ms")]
    pub db_pool_timeout_ms: u64,
    #[serde(default)]
    pub redis_url: Option<SecretString>,
    #[serde(default)]
    pub log_format: LogFormat,
    #[serde(default)]
    pub otel_exporter_otlp_endpoint: Option<String>,
    /// Comma-separated origins allowed by CORS (credentials allowed).
    #[serde(default)]
    pub allowed_origins: String,
    /// Peers whose `X-Real-IP` names the client (the gateway): comma-separated
    /// addresses or CIDR blocks; empty trusts nobody.
    #[serde(default = "default_trusted_proxies")]
    pub trusted_proxies: String,
    /// Listener of the `/internal` routes (services that have them); unset:
    /// `PORT + 1000`, or 0 (a free port) when `PORT` is 0.
    #[serde(default)]
    pub internal_port: Option<u16>,
    /// Apply pending migrations at start; unset: in local mode only (production
    /// runs the `migrate` subcommand as a Job).
    #[serde(default)]
    pub migrate_on_start: Option<bool>,
    /// Seconds an idle client connection is kept open; longer than the gateway's
    /// upstream keepalive, so the gateway never reuses a connection being closed.
    #[serde(default = "default_keep_alive")]
    pub keep_alive_secs: u64,
    /// Served behind TLS: adds HSTS and marks cookies Secure.
    #[serde(default)]
    pub behind_tls: bool,
    #[serde(default = "default_json_limit")]
    pub json_limit_bytes: usize,
    #[serde(default)]
    pub workers: Option<usize>,
    /// Seconds readiness reports 503 before the listener stops on SIGTERM.
    #[serde(default)]
    pub shutdown_delay_secs: u64,
    #[serde(default = "default_shutdown_timeout")]
    pub shutdown_timeout_secs: u64,
    /// Issuer (`iss`) of the first-party auth service.
    #[serde(default = "default_auth_issuer")]
    pub auth_issuer: String,
    #[serde(default = "default_auth_jwks_url")]
    pub auth_jwks_url: String,
    #[serde(default = "default_audience")]
    pub jwt_audience: String,
    #[serde(default = "default_leeway")]
    pub jwt_leeway_secs: u64,
    #[serde(default)]
    pub clerk_issuer: Option<String>,
    #[serde(default)]
    pub clerk_jwks_url: Option<String>,
    /// Comma-separated values accepted in a Clerk token's `azp`.
    #[serde(default)]
    pub clerk_authorized_parties: Option<String>,
    /// Minimum seconds between two JWKS refetches for one issuer.
    #[serde(default = "default_jwks_refetch")]
    pub jwks_min_refetch_secs: u64,
}

impl CommonSettings {
    pub fn redis_url(&self) -> Option<&str> {
        self.redis_url
            .as_ref()
            .map(|s| s.expose_secret())
            .filter(|s| !s.trim().is_empty())
    }

    pub fn allowed_origins(&self) -> Vec<String> {
        split_list(&self.allowed_origins)
    }

    pub fn is_local(&self) -> bool {
        self.app_env == AppEnv::Local
    }

    pub fn pool_timeout(&self) -> Duration {
        Duration::from_millis(self.db_pool_timeout_ms)
    }

    pub fn migrate_on_start(&self) -> bool {
        self.migrate_on_start.unwrap_or(self.is_local())
    }

    /// The port of the `/internal` listener.
    pub fn internal_port(&self) -> u16 {
        self.internal_port.unwrap_or(match self.port {
            0 => 0,
            port => port.saturating_add(1000),
        })
    }

    pub fn trusted_proxies(&self) -> anyhow::Result<TrustedProxies> {
        TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("invalid configuration: trusted_proxies: {e}"))
    }
}

/// The settings every service reads and the service's own `T`, loaded from the
/// same sources.
#[derive(Debug, Clone)]
pub struct Settings<T> {
    pub common: CommonSettings,
    pub service: T,
    /// Object storage, for the services that keep uploads.
    #[cfg(feature = "storage")]
    pub storage: crate::storage::StorageSettings,
}

impl<T: DeserializeOwned> Settings<T> {
    /// From the process environment, with the service's default port.
    pub fn load(default_port: u16) -> anyhow::Result<Self> {
        Self::load_from(default_port, std::env::vars())
    }

    /// From the given environment (tests).
    pub fn load_from(
        default_port: u16,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        let port = default_port.to_string();
        let defaults = [("port", port.as_str())];
        let resolved = resolve(&vars)?;
        let common: CommonSettings = build(&defaults, &vars, &resolved)?;
        let service: T = build(&defaults, &vars, &resolved)?;
        if common.app_env == AppEnv::Production {
            check_production(&common, &resolved)?;
        }
        common.trusted_proxies()?;
        Ok(Self {
            #[cfg(feature = "storage")]
            storage: build(&defaults, &vars, &resolved)?,
            common,
            service,
        })
    }

    pub fn local(&self) -> bool {
        self.common.is_local()
    }
}

/// Credentials that only ever appear in this repository's development set-ups
/// (compose, `make run`, examples, tests). A production process holding one is
/// misconfigured, whatever setting it came through.
pub const DEVELOPMENT_SECRETS: &[&str] = &[
    "change-me",
    "compose-only-dev-secret",
    "Y29tcG9zZS1vbmx5LWRldi1zZWNyZXQtMTIz",
    "reelstack-local",
    "sk_test_clerksim",
    "tmdb-sim-key",
    "tmdb-sim-read-token",
    "test-svc-secret",
];

fn check_production(common: &CommonSettings, resolved: &[(String, String)]) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    if common.redis_url().is_none() {
        problems.push(
            "REDIS_URL is required in production (revocations and rate limits must reach every replica)"
                .to_owned(),
        );
    }
    for (key, value) in resolved {
        if is_secret_name(key) && DEVELOPMENT_SECRETS.iter().any(|dev| value.contains(dev)) {
            problems.push(format!(
                "{} holds a development credential; set a real secret",
                key.to_ascii_uppercase()
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "refusing to start with APP_ENV=production: {}",
            problems.join("; ")
        )
    }
}

/// Splits a comma-separated setting, dropping blanks.
pub fn split_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn default_host() -> String {
    "127.0.0.1".to_owned()
}
fn default_pool_max() -> u32 {
    10
}
fn default_pool_min_idle() -> u32 {
    1
}
fn default_pool_timeout_ms() -> u64 {
    5_000
}
fn default_trusted_proxies() -> String {
    "127.0.0.0/8,::1".to_owned()
}
fn default_keep_alive() -> u64 {
    75
}
fn default_json_limit() -> usize {
    1024 * 1024
}
fn default_shutdown_timeout() -> u64 {
    30
}
fn default_auth_issuer() -> String {
    "http://127.0.0.1:8080".to_owned()
}
fn default_auth_jwks_url() -> String {
    "http://127.0.0.1:8081/.well-known/jwks.json".to_owned()
}
fn default_audience() -> String {
    "reelstack".to_owned()
}
fn default_leeway() -> u64 {
    30
}
fn default_jwks_refetch() -> u64 {
    10
}

/// Settings whose value may come from a mounted file through `X_FILE`: the ones
/// that hold credentials. Other `*_FILE` variables of the environment are ignored.
pub const SECRET_SUFFIXES: &[&str] =
    &["_url", "_secret", "_key", "_password", "_token", "_clients"];

fn is_secret_name(base: &str) -> bool {
    SECRET_SUFFIXES.iter().any(|suffix| base.ends_with(suffix))
}

/// Loads settings of type `T` from `defaults` (key, value pairs), an optional
/// `CONFIG_FILE`, then the process environment.
pub fn load<T: DeserializeOwned>(defaults: &[(&str, &str)]) -> anyhow::Result<T> {
    load_from(defaults, std::env::vars())
}

/// Like [`load`] with an explicit environment, for tests.
pub fn load_from<T: DeserializeOwned>(
    defaults: &[(&str, &str)],
    vars: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<T> {
    let vars: Vec<(String, String)> = vars.into_iter().collect();
    let resolved = resolve(&vars)?;
    build(defaults, &vars, &resolved)
}

/// The environment as settings see it: lower-case keys of well-formed names,
/// with `X_FILE` read into `X` for credentials not given directly.
fn resolve(vars: &[(String, String)]) -> anyhow::Result<Vec<(String, String)>> {
    let direct: std::collections::HashSet<String> =
        vars.iter().map(|(k, _)| k.to_ascii_lowercase()).collect();
    let mut out = Vec::with_capacity(vars.len());
    for (key, value) in vars {
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            continue;
        }
        let lower = key.to_ascii_lowercase();
        if let Some(base) = lower.strip_suffix("_file").filter(|b| is_secret_name(b)) {
            if !direct.contains(base) {
                let content = std::fs::read_to_string(value)
                    .map_err(|e| anyhow::anyhow!("cannot read {key}={value}: {e}"))?;
                out.push((
                    base.to_owned(),
                    content.trim_end_matches(['\n', '\r']).to_owned(),
                ));
                continue;
            }
        }
        out.push((lower, value.clone()));
    }
    Ok(out)
}

fn build<T: DeserializeOwned>(
    defaults: &[(&str, &str)],
    vars: &[(String, String)],
    resolved: &[(String, String)],
) -> anyhow::Result<T> {
    let mut builder = config::Config::builder();
    for (key, value) in defaults {
        builder = builder.set_default(*key, *value)?;
    }
    if let Some((_, path)) = vars.iter().find(|(k, _)| k == "CONFIG_FILE") {
        builder = builder.add_source(config::File::new(path, config::FileFormat::Json));
    }
    for (key, value) in resolved {
        builder = builder.set_override(key.as_str(), value.as_str())?;
    }
    let cfg = builder.build()?;
    let value: T = cfg
        .try_deserialize()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Sample {
        #[serde(default)]
        smtp_password: Option<SecretString>,
        limit: u32,
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn env_overrides_defaults_and_numbers_parse() {
        let vars = env(&[
            ("DATABASE_URL", "postgres://x"),
            ("LIMIT", "7"),
            ("BEHIND_TLS", "true"),
        ]);
        let defaults = [("port", "8081"), ("limit", "3")];
        let common: CommonSettings = load_from(&defaults, vars.clone()).unwrap();
        let s: Sample = load_from(&defaults, vars).unwrap();
        assert_eq!(common.port, 8081);
        assert_eq!(s.limit, 7);
        assert!(common.behind_tls);
        assert_eq!(common.database_url.expose_secret(), "postgres://x");
        assert!(common.redis_url().is_none());
    }

    #[test]
    fn file_variants_are_read_for_secrets() {
        let dir = std::env::temp_dir().join(format!("cfgtest-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pw");
        std::fs::write(&path, "s3cret\n").unwrap();
        let s: Sample = load_from(
            &[("port", "1"), ("limit", "1")],
            env(&[
                ("DATABASE_URL", "postgres://x"),
                ("SMTP_PASSWORD_FILE", path.to_str().unwrap()),
            ]),
        )
        .unwrap();
        assert_eq!(s.smtp_password.unwrap().expose_secret(), "s3cret");
    }

    #[test]
    fn bad_values_name_the_field() {
        let err = load_from::<Sample>(
            &[("port", "1")],
            env(&[("DATABASE_URL", "postgres://x"), ("LIMIT", "many")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("limit"), "{err}");
    }

    #[test]
    fn lists_split_on_commas() {
        assert_eq!(split_list(" a, ,b "), vec!["a", "b"]);
    }
}
