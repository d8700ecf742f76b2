use common::db::Db;
use common::ratelimit::RateLimiter;
use tokio::sync::Semaphore;

use crate::catalog::Catalog;
use crate::config::CatalogSettings;
use crate::posters::PosterStore;

/// Everything a handler needs, shared by all workers.
pub struct AppState {
    pub db: Db,
    pub catalog: Catalog,
    pub posters: PosterStore,
    pub settings: CatalogSettings,
    /// Per-user poster uploads (the catalog's per-address misses have their own).
    pub limiter: RateLimiter,
    /// Poster decodes running at once in this replica.
    pub decoding: Semaphore,
}
