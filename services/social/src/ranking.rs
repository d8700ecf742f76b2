//! The trending ranking as this replica serves it: the newest snapshot's id, the
//! pages read from snapshots and, for signed-out callers, those pages as JSON,
//! each held for a second, so that a popular feed costs no database round trip
//! (and signed out, no serialization) per request. A snapshot never changes once
//! written; what may lag by up to `TTL` are the counters on its videos and a
//! video deleted meanwhile.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use moka::sync::Cache;

use crate::db::models::Video;

pub const TTL: Duration = Duration::from_secs(1);

/// A page of a snapshot: `(snapshot, after rank, limit)`.
pub type PageKey = (i64, i32, i64);
/// Its rows: each video with its rank.
pub type Page = Arc<Vec<(i32, Video)>>;

pub struct RankingCache {
    current: Cache<(), i64>,
    pages: Cache<PageKey, Page>,
    /// Pages as signed-out callers get them, serialized.
    bodies: Cache<PageKey, Bytes>,
}

impl Default for RankingCache {
    fn default() -> Self {
        Self {
            current: Cache::builder().max_capacity(1).time_to_live(TTL).build(),
            pages: Cache::builder()
                .max_capacity(1_000)
                .time_to_live(TTL)
                .build(),
            bodies: Cache::builder()
                .max_capacity(1_000)
                .time_to_live(TTL)
                .build(),
        }
    }
}

impl RankingCache {
    /// The newest snapshot this replica read less than `TTL` ago.
    pub fn current(&self) -> Option<i64> {
        self.current.get(&())
    }

    pub fn set_current(&self, snapshot: i64) {
        self.current.insert((), snapshot);
    }

    pub fn page(&self, key: &PageKey) -> Option<Page> {
        self.pages.get(key)
    }

    pub fn put_page(&self, key: PageKey, page: Page) {
        self.pages.insert(key, page);
    }

    pub fn body(&self, key: &PageKey) -> Option<Bytes> {
        self.bodies.get(key)
    }

    pub fn put_body(&self, key: PageKey, body: Bytes) {
        self.bodies.insert(key, body);
    }
}
