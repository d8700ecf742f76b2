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

use std::time::Duration;

use actix_web::web;
use common::config::Settings;
use common::ratelimit::RateLimiter;
use common::runner::{NoCommands, Service};
use common::startup::{App, Foundation, Launch};
use diesel_migrations::EmbeddedMigrations;

use crate::cache::{CacheOptions, CatalogCache};
use crate::catalog::{Catalog, TtlPolicy};
use crate::config::CatalogSettings;
use crate::posters::PosterStore;
use crate::state::AppState;
use crate::tmdb::TmdbClient;

/// The media-catalog service, as the runner and the tests start it.
pub struct MediaCatalog;

/// The longest one TMDB fetch can take with its retries: how long the cache's
/// cross-replica lock is held at most.
fn fetch_budget(s: &CatalogSettings) -> Duration {
    let attempts = u64::from(s.tmdb_retries) + 1;
    Duration::from_millis(
        (s.tmdb_timeout_ms + s.tmdb_connect_timeout_ms) * attempts
            + s.tmdb_max_wait_ms * (attempts - 1),
    )
}

impl Service for MediaCatalog {
    const NAME: &'static str = "media-catalog";
    const DEFAULT_PORT: u16 = 8082;
    type Config = CatalogSettings;
    type State = AppState;
    type Commands = NoCommands;

    const MIGRATIONS: EmbeddedMigrations = db::MIGRATIONS;

    fn openapi() -> utoipa::openapi::OpenApi {
        openapi::document()
    }

    async fn build(settings: Settings<CatalogSettings>) -> anyhow::Result<App<AppState>> {
        let s = &settings.service;
        let credentials = s.tmdb_credentials().ok_or_else(|| {
            anyhow::anyhow!(
                "set TMDB_API_KEY or TMDB_READ_ACCESS_TOKEN (make run starts tmdb-sim when neither is set)"
            )
        })?;
        let foundation = Foundation::connect(&settings.common, Self::MIGRATIONS).await?;
        let verifier = foundation.verifier(&settings.common, None);
        let redis = foundation.redis.clone();
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
            RateLimiter::new(redis.clone()),
            s.catalog_misses_per_ip_per_min,
        );
        let state = web::Data::new(AppState {
            db: foundation.db.clone(),
            catalog,
            posters: PosterStore::new(common::storage::Storage::open(&settings.storage)?),
            settings: s.clone(),
            limiter: RateLimiter::new(redis),
            decoding: tokio::sync::Semaphore::new(s.poster_decode_concurrency.max(1)),
        });
        Launch::new(foundation, state, verifier, routes::configure)
            .redis_optional()
            .start::<Self>(&settings.common)
    }
}
