use std::sync::Arc;

use common::db::Db;
use common::ratelimit::RateLimiter;

use crate::config::DirectorySettings;
use crate::directory::cache::ProfileCache;
use crate::directory::IdentitySources;
use crate::live::Hub;

/// Everything a handler needs, shared by all workers.
pub struct AppState {
    pub db: Db,
    pub sources: IdentitySources,
    pub settings: DirectorySettings,
    pub live: Arc<Hub>,
    pub profiles: Arc<ProfileCache>,
    /// Per-user sync limits.
    pub limiter: RateLimiter,
}
