//! media-catalog: a TMDB proxy with a shared cache for a Netflix-style browsing
//! app, per-user watchlist and favorites, and a personal movie library with
//! uploaded posters.

pub mod cache;
pub mod catalog;
pub mod config;
pub mod db;
pub mod domain;
pub mod openapi;
pub mod posters;
pub mod routes;
pub mod state;
pub mod tmdb;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use common::health::HealthState;
use common::server::{self, ServerOptions};
use common::startup::Foundation;
use common::tokens::TokenVerifier;

use crate::cache::{CacheOptions, CatalogCache};
use crate::catalog::{Catalog, TtlPolicy};
use crate::config::{CatalogSettings, Settings};
use crate::posters::PosterStore;
use crate::state::AppState;
use crate::tmdb::TmdbClient;

pub const SERVICE: &str = "media-catalog";

pub struct Application {
    port: u16,
    server: Server,
    health: HealthState,
    shutdown_delay: Duration,
    background: Vec<tokio::task::JoinHandle<()>>,
}

/// The longest one TMDB fetch can take with its retries: how long the cache's
/// cross-replica lock is held at most.
fn fetch_budget(s: &CatalogSettings) -> Duration {
    let attempts = u64::from(s.tmdb_retries) + 1;
    Duration::from_millis(
        (s.tmdb_timeout_ms + s.tmdb_connect_timeout_ms) * attempts
            + s.tmdb_max_wait_ms * (attempts - 1),
    )
}

impl Application {
    /// Connects to its dependencies, binds the listener (port 0 picks a free one)
    /// and prepares the server; [`Application::run_until_stopped`] serves.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let credentials = settings.catalog.tmdb_credentials().ok_or_else(|| {
            anyhow::anyhow!(
                "set TMDB_API_KEY or TMDB_READ_ACCESS_TOKEN (make run starts tmdb-sim when neither is set)"
            )
        })?;
        let Foundation {
            db,
            redis,
            revocations,
            background,
        } = Foundation::connect(
            &settings.common,
            db::MIGRATIONS,
            settings
                .catalog
                .migrate_on_start
                .unwrap_or(settings.local()),
        )
        .await?;
        let verifier = web::Data::new(TokenVerifier::from_settings(
            &settings.common,
            None,
            revocations,
        ));

        let s = &settings.catalog;
        let cache = CatalogCache::new(
            redis.as_ref().map(|r| r.conn.clone()),
            CacheOptions {
                prefix: s.catalog_cache_prefix.clone(),
                stale_window: s.stale_window(),
                near_cache_ttl: Duration::from_secs(s.catalog_local_cache_secs),
                memory_bytes: s.catalog_local_cache_mb.saturating_mul(1024 * 1024),
                redis_retry: Duration::from_secs(s.catalog_redis_retry_secs),
                fetch_budget: fetch_budget(s),
            },
        );
        let catalog = Catalog::new(
            cache,
            TmdbClient::new(s, credentials)?,
            TtlPolicy::from_settings(s),
            &s.tmdb_image_base_url,
        );
        let state = web::Data::new(AppState {
            db: db.clone(),
            catalog,
            posters: PosterStore::from_settings(s)?,
            settings: s.clone(),
        });

        let listener = TcpListener::bind((settings.common.host.as_str(), settings.common.port))?;
        let port = listener.local_addr()?.port();
        let health = HealthState::new(SERVICE, env!("CARGO_PKG_VERSION"), Some(db), redis)
            .with_optional_redis();
        let server = server::serve(
            listener,
            ServerOptions::from_settings(&settings.common),
            health.clone(),
            move |cfg| {
                cfg.app_data(state.clone()).app_data(verifier.clone());
                routes::configure(cfg);
            },
        )?;
        tracing::info!(port, "media-catalog listening");
        Ok(Self {
            port,
            server,
            health,
            shutdown_delay: Duration::from_secs(settings.common.shutdown_delay_secs),
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result =
            server::run_until_stopped(self.server, &self.health, self.shutdown_delay).await;
        for task in self.background {
            task.abort();
        }
        result
    }
}
