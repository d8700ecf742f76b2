use common::db::Db;
use common::ratelimit::RateLimiter;
use common::storage::Storage;

use crate::cache::ProductCache;
use crate::config::CommerceSettings;

/// Everything a handler needs, shared by all workers.
pub struct AppState {
    pub db: Db,
    pub settings: CommerceSettings,
    /// Product images and their thumbnails.
    pub storage: Storage,
    /// Per-account and per-address limits (Redis; open when it is down).
    pub limiter: RateLimiter,
    /// Public product answers, for `PRODUCT_CACHE_SECS`.
    pub products: std::sync::Arc<ProductCache>,
    /// What this replica knows of the products that search facets count.
    pub facet_index: std::sync::Arc<crate::facet_index::FacetIndex>,
}
