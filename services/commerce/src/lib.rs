//! commerce: the backend of a small shop. A category tree, products with
//! flexible attributes (JSONB), options and variants priced in integer minor
//! units of the shop's currency, each variant with the stock counters that
//! inventory and orders build on. Reads of active products are public; catalog
//! writes need the `admin` role.

pub mod cache;
pub mod config;
pub mod db;
pub mod domain;
pub mod dto;
pub mod errors;
pub mod facet_index;
pub mod openapi;
pub mod routes;
pub mod state;

use actix_web::web;
use common::config::Settings;
use common::runner::{NoCommands, Service};
use common::startup::{App, Foundation, Launch};
use diesel_migrations::EmbeddedMigrations;

use crate::config::CommerceSettings;
use crate::state::AppState;

/// The commerce service, as the runner and the tests start it.
pub struct Commerce;

impl Service for Commerce {
    const NAME: &'static str = "commerce";
    const DEFAULT_PORT: u16 = 8085;
    const MIGRATIONS: EmbeddedMigrations = db::MIGRATIONS;
    type Config = CommerceSettings;
    type State = AppState;
    type Commands = NoCommands;

    fn openapi() -> utoipa::openapi::OpenApi {
        openapi::document()
    }

    async fn build(settings: Settings<CommerceSettings>) -> anyhow::Result<App<AppState>> {
        let mut foundation = Foundation::connect(&settings.common, Self::MIGRATIONS).await?;
        let verifier = foundation.verifier(&settings.common, None);
        let storage = common::storage::Storage::open(&settings.storage)?;
        routes::search::prepare(&foundation.db, &settings.service).await?;
        routes::orders::spawn_sweeper(
            &mut foundation.tasks,
            foundation.db.clone(),
            &settings.service,
        );
        routes::analytics::spawn_rollups(
            &mut foundation.tasks,
            foundation.db.clone(),
            &settings.service,
        );
        let products = cache::ProductCache::shared(
            std::time::Duration::from_secs(settings.service.product_cache_secs),
            foundation.redis.clone(),
            format!("{}:catalog-changed", settings.service.commerce_redis_prefix),
            &mut foundation.tasks,
        );
        routes::search::spawn_stock_flags(
            &mut foundation.tasks,
            foundation.db.clone(),
            products.clone(),
            &settings.service,
        );
        let state = web::Data::new(AppState {
            db: foundation.db.clone(),
            settings: settings.service.clone(),
            storage,
            limiter: common::ratelimit::RateLimiter::new(foundation.redis.clone()),
            products,
            facet_index: Default::default(),
        });
        Launch::new(foundation, state, verifier, routes::configure).start::<Self>(&settings.common)
    }
}
