use std::sync::Arc;

use common::db::Db;
use common::ratelimit::RateLimiter;

use crate::config::SocialSettings;
use crate::db::models::{Media, Video};
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
    /// The current trending snapshot and its pages, for a second.
    pub ranking: crate::ranking::RankingCache,
    /// Ready uploads as the media routes last read them, for `READY_UPLOAD_TTL`:
    /// a player asks for range after range of one video.
    pub ready_uploads: moka::sync::Cache<uuid::Uuid, Arc<(Video, Media)>>,
}

/// How long a ready upload's row is served from `AppState::ready_uploads`; a
/// deletion elsewhere shows within it (its objects are gone at once: 404).
pub const READY_UPLOAD_TTL: std::time::Duration = std::time::Duration::from_secs(2);

pub fn ready_uploads() -> moka::sync::Cache<uuid::Uuid, Arc<(Video, Media)>> {
    moka::sync::Cache::builder()
        .max_capacity(10_000)
        .time_to_live(READY_UPLOAD_TTL)
        .build()
}
