//! A short-lived cache of public product answers (`GET /api/products/{idOrSlug}`
//! of an active product for a caller who is not an admin), and of the facets
//! of browsing searches (`GET /api/products` without `q`), per replica.
//!
//! A product's page is the shop's hottest read and costs five queries; the
//! facets of the whole catalogue or a large category count every one of its
//! products (0.1-0.2 s for 100,000, see crate::facet_index), whatever the page
//! asked for.
//! For `PRODUCT_CACHE_SECS` (2 by default, 0 turns the cache off) a replica
//! answers the one and keeps the other in memory (the page itself is always
//! read). Every catalog write empties the cache of its replica at
//! once, and of the others through a Redis channel
//! (`<COMMERCE_REDIS_PREFIX>:catalog-changed`, the message names the writing
//! replica, which ignores its own; a replica that lost its
//! subscription empties its cache when it subscribes again). Without Redis, or
//! while a message is on its way, other replicas may serve the earlier answer
//! until it expires; stock counts (`available`) that orders change show after
//! at most the TTL everywhere, and a round of the in-stock flags that changed
//! one empties the caches like a catalog write (crate::db::stock). A browsing
//! page that does not fit the total kept with its facets is counted again
//! (crate::db::search::run). Admins always read the database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::redis_conn::RedisHandle;
use common::tasks::Tasks;

use crate::db::search::Facets;

/// The most products kept at once.
const CAPACITY: u64 = 10_000;
/// The most browsing searches whose facets are kept at once.
const FACETS_CAPACITY: u64 = 1_000;

/// One cached answer: the product's JSON and its `ETag`.
#[derive(Debug)]
pub struct CachedProduct {
    pub etag: String,
    pub body: Bytes,
}

/// Where a read started: [`ProductCache::put`] keeps its answer only if no write
/// emptied the cache since (the answer may predate that write).
#[derive(Debug, Clone, Copy)]
pub struct Generation(u64);

pub struct ProductCache {
    entries: Option<moka::sync::Cache<String, Arc<CachedProduct>>>,
    /// By [`crate::db::search::Search::browse_key`].
    facets: Option<moka::sync::Cache<String, Arc<Facets>>>,
    generation: AtomicU64,
    /// Where catalog writes are announced to the other replicas.
    channel: Option<(RedisHandle, String)>,
    /// This replica's name in its announcements: it empties its own cache
    /// when it writes, and its own announcement, arriving later, would also
    /// drop what it cached since.
    origin: String,
}

impl ProductCache {
    /// Entries live `ttl`; a zero `ttl` caches nothing.
    pub fn new(ttl: Duration) -> Self {
        Self {
            entries: map(ttl, CAPACITY),
            facets: map(ttl, FACETS_CAPACITY),
            generation: AtomicU64::new(0),
            channel: None,
            origin: uuid::Uuid::now_v7().to_string(),
        }
    }

    /// Announces this replica's catalog writes on `channel` and follows the
    /// other replicas' there (a background task of `tasks`).
    pub fn shared(
        ttl: Duration,
        redis: Option<RedisHandle>,
        channel: String,
        tasks: &mut Tasks,
    ) -> Arc<Self> {
        let mut cache = Self::new(ttl);
        let Some(redis) = redis.filter(|_| cache.entries.is_some()) else {
            return Arc::new(cache);
        };
        cache.channel = Some((redis.clone(), channel.clone()));
        let cache = Arc::new(cache);
        let follower = cache.clone();
        tasks.spawn("catalog-channel", move || {
            let (cache, redis, channel) = (follower.clone(), redis.clone(), channel.clone());
            async move {
                common::redis_conn::follow(
                    &redis,
                    &channel,
                    || {
                        // Writes may have been announced while not subscribed.
                        cache.forget_all();
                        async { Ok(()) }
                    },
                    |origin| {
                        if origin != cache.origin {
                            cache.forget_all();
                        }
                    },
                )
                .await
            }
        });
        cache
    }

    pub fn get(&self, key: &str) -> Option<Arc<CachedProduct>> {
        self.entries.as_ref()?.get(key)
    }

    /// Call before reading the database for an answer to [`put`](Self::put).
    pub fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::Acquire))
    }

    pub fn put(&self, key: &str, read_at: Generation, product: CachedProduct) {
        if let Some(entries) = &self.entries {
            self.keep(entries, key, read_at, product);
        }
    }

    /// The facets of the browsing search `key`, if kept.
    pub fn facets(&self, key: &str) -> Option<Arc<Facets>> {
        self.facets.as_ref()?.get(key)
    }

    pub fn put_facets(&self, key: &str, read_at: Generation, facets: Facets) {
        if let Some(map) = &self.facets {
            self.keep(map, key, read_at, facets);
        }
    }

    /// Keeps `value` in `map` unless a write emptied the cache since `read_at`.
    fn keep<V: Send + Sync + 'static>(
        &self,
        map: &moka::sync::Cache<String, Arc<V>>,
        key: &str,
        read_at: Generation,
        value: V,
    ) {
        if self.generation.load(Ordering::Acquire) == read_at.0 {
            map.insert(key.to_owned(), Arc::new(value));
        }
        // A write that empties the cache between the check and the insert
        // bumps the generation first: look again and drop what may be stale.
        if self.generation.load(Ordering::Acquire) != read_at.0 {
            map.invalidate(key);
        }
    }

    /// After any catalog write: forget every answer, here and (through the
    /// channel, without waiting for it) in the other replicas.
    pub fn clear(&self) {
        self.forget_all();
        if let Some((redis, channel)) = &self.channel {
            let (mut conn, channel) = (redis.conn.clone(), channel.clone());
            let origin = self.origin.clone();
            tokio::spawn(async move {
                let published: Result<i64, _> = redis::cmd("PUBLISH")
                    .arg(&channel)
                    .arg(origin)
                    .query_async(&mut conn)
                    .await;
                if let Err(e) = published {
                    tracing::warn!(error = %e, "announcing a catalog write failed; other replicas' caches expire on their own");
                }
            });
        }
    }

    fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
        if let Some(facets) = &self.facets {
            facets.invalidate_all();
        }
    }
}

/// A map whose entries live `ttl`; none for a zero `ttl`.
fn map<V: Send + Sync + 'static>(
    ttl: Duration,
    capacity: u64,
) -> Option<moka::sync::Cache<String, Arc<V>>> {
    (!ttl.is_zero()).then(|| {
        moka::sync::Cache::builder()
            .max_capacity(capacity)
            .time_to_live(ttl)
            .build()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(tag: &str) -> CachedProduct {
        CachedProduct {
            etag: tag.to_owned(),
            body: Bytes::from_static(b"{}"),
        }
    }

    #[test]
    fn a_read_that_began_before_a_write_is_not_kept() {
        let cache = ProductCache::new(Duration::from_secs(60));
        let before = cache.generation();
        cache.clear();
        cache.put("mug", before, product("\"1\""));
        assert!(cache.get("mug").is_none());
        let after = cache.generation();
        cache.put("mug", after, product("\"2\""));
        assert_eq!(
            cache.get("mug").map(|p| p.etag.clone()),
            Some("\"2\"".to_owned())
        );
        cache.clear();
        assert!(cache.get("mug").is_none());
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = ProductCache::new(Duration::ZERO);
        cache.put("mug", cache.generation(), product("\"1\""));
        assert!(cache.get("mug").is_none());
    }
}
