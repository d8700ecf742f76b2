//! The cache in front of TMDB.
//!
//! Tiers: an in-memory cache (moka) in every replica, and Redis shared by all of
//! them. With Redis the memory tier is a near cache that keeps entries for a few
//! seconds; without Redis, or while Redis is failing, it is the cache.
//!
//! Coalescing: concurrent requests for one key in a replica share one fetch (the
//! first one leads, the others wait for its result); across replicas the leader
//! takes a per-key lock in Redis and the other replicas wait for the entry it
//! stores. So N concurrent requests for a cold key cost one TMDB call.
//!
//! Stale-if-error: entries are kept `stale_window` past their TTL and served when
//! TMDB errors, rate-limits or times out.

mod entry;
mod shared;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::retry::Breaker;
use moka::sync::Cache as MemoryCache;
use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;

pub use entry::{now_ms, CacheStatus, Entry};
use shared::SharedStore;

use crate::tmdb::UpstreamError;

/// How often a replica waiting on another replica's fetch looks again.
const WAIT_POLL: Duration = Duration::from_millis(20);
/// How long waiting replicas remember that a fetch failed.
const FAILURE_MARK: Duration = Duration::from_secs(3);

/// An answer and how it came about.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub entry: Arc<Entry>,
    pub status: CacheStatus,
}

type FlightResult = Result<Outcome, UpstreamError>;
type Flight = Arc<OnceCell<FlightResult>>;

#[derive(Clone)]
struct MemoryEntry {
    entry: Arc<Entry>,
    keep_for: Duration,
}

struct KeepFor;

impl moka::Expiry<String, MemoryEntry> for KeepFor {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &MemoryEntry,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.keep_for)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &MemoryEntry,
        _updated_at: std::time::Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.keep_for)
    }
}

pub struct CacheOptions {
    pub prefix: String,
    pub stale_window: Duration,
    /// How long the memory tier keeps an entry while Redis is in use (0: never).
    pub near_cache_ttl: Duration,
    pub memory_bytes: u64,
    /// Skip Redis this long after it failed.
    pub redis_retry: Duration,
    /// Longest time one fetch may take (the Redis lock lives this long).
    pub fetch_budget: Duration,
}

/// What the cache holds for a key.
pub enum Lookup {
    Hit(Outcome),
    /// Nothing fresh; the expired copy, if any, for stale-if-error.
    Miss(Option<Arc<Entry>>),
}

pub struct CatalogCache {
    memory: MemoryCache<String, MemoryEntry>,
    shared: Option<SharedStore>,
    flights: Mutex<HashMap<String, Flight>>,
    /// Skips Redis for `redis_retry` after a failure.
    breaker: Breaker,
    options: CacheOptions,
}

impl CatalogCache {
    pub fn new(redis: Option<ConnectionManager>, options: CacheOptions) -> Self {
        let memory = MemoryCache::builder()
            .max_capacity(options.memory_bytes)
            .weigher(|key: &String, value: &MemoryEntry| {
                u32::try_from(key.len() + value.entry.body.len() + 128).unwrap_or(u32::MAX)
            })
            .expire_after(KeepFor)
            .build();
        Self {
            memory,
            shared: redis.map(|conn| SharedStore::new(conn, &options.prefix)),
            flights: Mutex::new(HashMap::new()),
            breaker: Breaker::new(options.redis_retry),
            options,
        }
    }

    /// The cached answer for `key`, or `fetch`'s, coalesced and stored for `ttl`.
    pub async fn get_or_fetch<F, Fut>(
        self: &Arc<Self>,
        key: String,
        ttl: Duration,
        fetch: F,
    ) -> Result<Outcome, UpstreamError>
    where
        F: FnOnce() -> Fut + Clone + Send + 'static,
        Fut: Future<Output = Result<Bytes, UpstreamError>> + Send + 'static,
    {
        match self.lookup(&key).await {
            Lookup::Hit(outcome) => Ok(outcome),
            Lookup::Miss(stale) => {
                self.fetch_missing(key, ttl, stale, || async { Ok(()) }, fetch)
                    .await
            }
        }
    }

    /// A fresh entry for `key` from memory or Redis, or the expired copy found.
    pub async fn lookup(&self, key: &str) -> Lookup {
        let now = now_ms();
        let mut stale = None;
        if let Some(found) = self.memory.get(key) {
            if found.entry.is_fresh(now) {
                return Lookup::Hit(self.served(found.entry, CacheStatus::Hit));
            }
            stale = Some(found.entry);
        }
        if let Some(found) = self.shared_get(key).await {
            if found.is_fresh(now) {
                let found = Arc::new(found);
                self.remember(key, found.clone());
                return Lookup::Hit(self.served(found, CacheStatus::Hit));
            }
            stale = Some(Arc::new(found));
        }
        Lookup::Miss(stale)
    }

    /// After a [`Lookup::Miss`]: `fetch`'s answer, coalesced with every other
    /// request for `key` here and in other replicas, and stored for `ttl`.
    /// `admit` runs for the request that leads the fetch, before it: a request
    /// that joins another's fetch costs nothing, and when a leader is not
    /// admitted, the requests that joined it try again on their own.
    pub async fn fetch_missing<A, AFut, F, Fut>(
        self: &Arc<Self>,
        key: String,
        ttl: Duration,
        stale: Option<Arc<Entry>>,
        admit: A,
        fetch: F,
    ) -> Result<Outcome, UpstreamError>
    where
        A: FnOnce() -> AFut + Clone + Send + 'static,
        AFut: Future<Output = Result<(), UpstreamError>> + Send,
        F: FnOnce() -> Fut + Clone + Send + 'static,
        Fut: Future<Output = Result<Bytes, UpstreamError>> + Send + 'static,
    {
        let mut joined_refused = 0;
        let (result, led) = loop {
            let this = self.clone();
            let (lead_key, stale, admit, fetch) =
                (key.clone(), stale.clone(), admit.clone(), fetch.clone());
            let (result, led) = self
                .coalesce(&key, move || async move {
                    admit().await?;
                    // A task of its own: a client that goes away does not cancel a
                    // fetch that other requests and replicas are waiting for.
                    tokio::spawn(async move { this.refresh(lead_key, ttl, stale, fetch).await })
                        .await
                        .unwrap_or_else(|e| {
                            Err(UpstreamError::Unavailable(format!(
                                "fetch task failed: {e}"
                            )))
                        })
                })
                .await;
            if !led
                && matches!(result, Err(UpstreamError::NotAdmitted { .. }))
                && joined_refused < 8
            {
                joined_refused += 1;
                continue;
            }
            break (result, led);
        };
        let outcome = match result {
            Ok(mut outcome) => {
                if !led {
                    if let CacheStatus::Fetched { collapsed, .. } = &mut outcome.status {
                        *collapsed = true;
                    }
                }
                outcome
            }
            Err(e) => {
                metrics::counter!("catalog_cache_total", "result" => "error").increment(1);
                return Err(e);
            }
        };
        metrics::counter!("catalog_cache_total", "result" => outcome.status.metric()).increment(1);
        Ok(outcome)
    }

    fn served(&self, entry: Arc<Entry>, status: CacheStatus) -> Outcome {
        metrics::counter!("catalog_cache_total", "result" => status.metric()).increment(1);
        Outcome { entry, status }
    }

    /// Runs `lead` once for all concurrent callers with the same key; returns its
    /// result and whether this caller was the one that ran it.
    async fn coalesce<L, LFut>(&self, key: &str, lead: L) -> (FlightResult, bool)
    where
        L: FnOnce() -> LFut,
        LFut: Future<Output = FlightResult>,
    {
        let flight = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            flights
                .entry(key.to_owned())
                .or_insert_with(|| Arc::new(OnceCell::new()))
                .clone()
        };
        let mut led = false;
        let result = flight
            .get_or_init(|| {
                led = true;
                lead()
            })
            .await
            .clone();
        // Whoever finishes forgets the flight, so the next request starts afresh.
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if flights.get(key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            flights.remove(key);
        }
        (result, led)
    }

    /// The leader's work: fetch (under the Redis lock when Redis is in use), store,
    /// or fall back to the stale copy.
    async fn refresh<F, Fut>(
        self: Arc<Self>,
        key: String,
        ttl: Duration,
        stale: Option<Arc<Entry>>,
        fetch: F,
    ) -> FlightResult
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, UpstreamError>>,
    {
        let was_stale = stale.is_some();
        let fetched = CacheStatus::Fetched {
            was_stale,
            collapsed: false,
        };
        let Some(store) = self.shared_store() else {
            return self.fetch_and_store(&key, ttl, stale, fetch).await;
        };
        let token = uuid::Uuid::now_v7().to_string();
        let deadline =
            tokio::time::Instant::now() + self.options.fetch_budget + Duration::from_secs(1);
        loop {
            match store
                .try_lock(&key, &token, self.options.fetch_budget)
                .await
            {
                Ok(true) => {
                    // Another replica may have stored a fresh entry a moment ago.
                    if let Ok(Some(found)) = store.get(&key).await {
                        if found.is_fresh(now_ms()) {
                            let _ = store.unlock(&key, &token).await;
                            let found = Arc::new(found);
                            self.remember(&key, found.clone());
                            return Ok(Outcome {
                                entry: found,
                                status: CacheStatus::Hit,
                            });
                        }
                    }
                    let result = fetch().await;
                    if let Err(e) = &result {
                        if let Err(redis_error) = store.mark_failed(&key, e, FAILURE_MARK).await {
                            self.redis_failed(&redis_error);
                        }
                    }
                    let outcome = self
                        .store_or_fall_back(&key, ttl, stale, result, fetched)
                        .await;
                    if let Err(e) = store.unlock(&key, &token).await {
                        self.redis_failed(&e);
                    }
                    return outcome;
                }
                Ok(false) => {
                    match self
                        .wait_for_other_replica(store, &key, stale.as_deref(), deadline)
                        .await
                    {
                        Waited::Stored(entry) => {
                            return Ok(Outcome {
                                entry,
                                status: CacheStatus::Fetched {
                                    was_stale,
                                    collapsed: true,
                                },
                            })
                        }
                        Waited::Failed(error) => return self.fall_back(stale, error),
                        Waited::LockReleased => continue,
                        Waited::GaveUp => break,
                    }
                }
                Err(e) => {
                    self.redis_failed(&e);
                    break;
                }
            }
        }
        self.fetch_and_store(&key, ttl, stale, fetch).await
    }

    async fn wait_for_other_replica(
        &self,
        store: &SharedStore,
        key: &str,
        stale: Option<&Entry>,
        deadline: tokio::time::Instant,
    ) -> Waited {
        let newer_than = stale.map_or(i64::MIN, |s| s.stored_at);
        loop {
            if tokio::time::Instant::now() >= deadline {
                return Waited::GaveUp;
            }
            tokio::time::sleep(WAIT_POLL).await;
            match store.is_locked(key).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    self.redis_failed(&e);
                    return Waited::GaveUp;
                }
            }
            match store.get(key).await {
                Ok(Some(found)) if found.stored_at > newer_than => {
                    let found = Arc::new(found);
                    self.remember(key, found.clone());
                    return Waited::Stored(found);
                }
                Ok(_) => {}
                Err(e) => {
                    self.redis_failed(&e);
                    return Waited::GaveUp;
                }
            }
            return match store.failure(key).await {
                Ok(Some(error)) => Waited::Failed(error),
                Ok(None) => Waited::LockReleased,
                Err(e) => {
                    self.redis_failed(&e);
                    Waited::GaveUp
                }
            };
        }
    }

    async fn fetch_and_store<F, Fut>(
        &self,
        key: &str,
        ttl: Duration,
        stale: Option<Arc<Entry>>,
        fetch: F,
    ) -> FlightResult
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, UpstreamError>>,
    {
        let status = CacheStatus::Fetched {
            was_stale: stale.is_some(),
            collapsed: false,
        };
        let result = fetch().await;
        self.store_or_fall_back(key, ttl, stale, result, status)
            .await
    }

    async fn store_or_fall_back(
        &self,
        key: &str,
        ttl: Duration,
        stale: Option<Arc<Entry>>,
        result: Result<Bytes, UpstreamError>,
        status: CacheStatus,
    ) -> FlightResult {
        match result {
            Ok(body) => {
                let entry = Arc::new(Entry::new(body, ttl, self.options.stale_window));
                if let Some(store) = self.shared_store() {
                    let keep = entry.lifetime(entry.stored_at);
                    if let Err(e) = store.put(key, &entry, keep).await {
                        self.redis_failed(&e);
                    }
                }
                self.remember(key, entry.clone());
                Ok(Outcome { entry, status })
            }
            Err(error) => self.fall_back(stale, error),
        }
    }

    /// The stale copy when the error allows it and the copy is still usable.
    fn fall_back(&self, stale: Option<Arc<Entry>>, error: UpstreamError) -> FlightResult {
        match stale {
            Some(entry) if error.allows_stale() && entry.is_usable(now_ms()) => {
                tracing::warn!(error = %error, "TMDB failed; serving a stale copy");
                Ok(Outcome {
                    entry,
                    status: CacheStatus::StaleOnError {
                        upstream_status: error.upstream_status(),
                    },
                })
            }
            _ => Err(error),
        }
    }

    /// Keeps an entry in memory: briefly while Redis holds it, for its whole life
    /// when memory is the only tier.
    fn remember(&self, key: &str, entry: Arc<Entry>) {
        let keep_for = if self.shared_store().is_some() {
            self.options.near_cache_ttl.min(entry.lifetime(now_ms()))
        } else {
            entry.lifetime(now_ms())
        };
        if !keep_for.is_zero() {
            self.memory
                .insert(key.to_owned(), MemoryEntry { entry, keep_for });
        }
    }

    async fn shared_get(&self, key: &str) -> Option<Entry> {
        let store = self.shared_store()?;
        match store.get(key).await {
            Ok(found) => found,
            Err(e) => {
                self.redis_failed(&e);
                None
            }
        }
    }

    /// Redis, unless it is not configured or failed a moment ago.
    fn shared_store(&self) -> Option<&SharedStore> {
        let store = self.shared.as_ref()?;
        self.breaker.allows().then_some(store)
    }

    fn redis_failed(&self, error: &shared::SharedError) {
        if self.breaker.trip() {
            tracing::warn!(%error, retry_in = ?self.options.redis_retry, "Redis failed; the catalog cache uses memory and TMDB meanwhile");
        }
        metrics::counter!("catalog_cache_redis_errors_total").increment(1);
    }
}

enum Waited {
    /// The other replica stored a new entry.
    Stored(Arc<Entry>),
    /// The other replica's fetch failed.
    Failed(UpstreamError),
    /// The lock is gone without a result: try to take it.
    LockReleased,
    /// Redis failed or the wait took too long: fetch without the lock.
    GaveUp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn memory_only() -> Arc<CatalogCache> {
        Arc::new(CatalogCache::new(
            None,
            CacheOptions {
                prefix: "test".into(),
                stale_window: Duration::from_secs(60),
                near_cache_ttl: Duration::from_secs(5),
                memory_bytes: 1 << 20,
                redis_retry: Duration::from_secs(5),
                fetch_budget: Duration::from_secs(5),
            },
        ))
    }

    #[tokio::test]
    async fn concurrent_misses_in_one_replica_share_one_fetch() {
        let cache = memory_only();
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_fetch("k".into(), Duration::from_secs(60), move || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Ok(Bytes::from_static(b"{}"))
                    })
                    .await
            }));
        }
        let mut collapsed = 0;
        for task in tasks {
            let outcome = task.await.unwrap().unwrap();
            if outcome.status
                == (CacheStatus::Fetched {
                    was_stale: false,
                    collapsed: true,
                })
            {
                collapsed += 1;
            }
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(collapsed, 49);
        let again = cache
            .get_or_fetch("k".into(), Duration::from_secs(60), || async {
                Err(UpstreamError::Timeout)
            })
            .await
            .unwrap();
        assert_eq!(again.status, CacheStatus::Hit);
    }

    #[tokio::test]
    async fn stale_entries_stand_in_for_failures_but_not_for_404s() {
        let cache = memory_only();
        cache
            .get_or_fetch("k".into(), Duration::ZERO, || async {
                Ok(Bytes::from_static(b"1"))
            })
            .await
            .unwrap();
        let stale = cache
            .get_or_fetch("k".into(), Duration::ZERO, || async {
                Err(UpstreamError::Status(500))
            })
            .await
            .unwrap();
        assert_eq!(
            stale.status,
            CacheStatus::StaleOnError {
                upstream_status: Some(500)
            }
        );
        assert_eq!(&stale.entry.body[..], b"1");
        let gone = cache
            .get_or_fetch("k".into(), Duration::ZERO, || async {
                Err(UpstreamError::NotFound)
            })
            .await;
        assert_eq!(gone.unwrap_err(), UpstreamError::NotFound);
    }
}
