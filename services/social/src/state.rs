use std::sync::Arc;

use common::db::Db;
use common::ratelimit::RateLimiter;

use crate::config::SocialSettings;
use crate::directory::Directory;
use crate::notify::Notifier;
use crate::processing::Processor;
use crate::views::Views;

/// Everything a handler needs, shared by all workers.
pub struct AppState {
    pub db: Db,
    pub directory: Arc<Directory>,
    pub views: Arc<Views>,
    /// Hands new notifications to the open streams of every replica.
    pub notifier: Arc<Notifier>,
    /// Uploads and their renditions.
    pub storage: common::storage::Storage,
    /// Processes uploads; woken when one arrives.
    pub processor: Arc<Processor>,
    pub settings: SocialSettings,
    /// Per-account limits on posting.
    pub limiter: RateLimiter,
}
