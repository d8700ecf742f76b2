//! A short-lived cache of public product answers (`GET /api/products/{idOrSlug}`
//! of an active product for a caller who is not an admin), per replica.
//!
//! A product's page is the shop's hottest read and costs five queries; for
//! `PRODUCT_CACHE_SECS` (2 by default, 0 turns the cache off) a replica answers
//! it from memory. Every catalog write of the replica empties the cache, so a
//! replica never serves what it has itself replaced; other replicas may serve
//! the earlier answer until it expires, and so may stock counts (`available`)
//! that orders changed meanwhile. Admins always read the database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

/// The most products kept at once.
const CAPACITY: u64 = 10_000;

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
    generation: AtomicU64,
}

impl ProductCache {
    /// Entries live `ttl`; a zero `ttl` caches nothing.
    pub fn new(ttl: Duration) -> Self {
        let entries = (!ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build()
        });
        Self {
            entries,
            generation: AtomicU64::new(0),
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<CachedProduct>> {
        self.entries.as_ref()?.get(key)
    }

    /// Call before reading the database for an answer to [`put`](Self::put).
    pub fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::Acquire))
    }

    pub fn put(&self, key: &str, read_at: Generation, product: CachedProduct) {
        let Some(entries) = &self.entries else {
            return;
        };
        if self.generation.load(Ordering::Acquire) == read_at.0 {
            entries.insert(key.to_owned(), Arc::new(product));
        }
        // A write that empties the cache between the check and the insert
        // bumps the generation first: look again and drop what may be stale.
        if self.generation.load(Ordering::Acquire) != read_at.0 {
            entries.invalidate(key);
        }
    }

    /// After any catalog write: forget every answer.
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }
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
