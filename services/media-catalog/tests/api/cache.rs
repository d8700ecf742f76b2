//! The cache in front of TMDB: the TTL policy, coalescing (one replica and two),
//! stale-if-error, TMDB's failures and rate limits, and losing Redis.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use redis::AsyncCommands;
use reqwest::StatusCode;
use serde_json::Value;
use testkit::tmdb_sim::FailureMode;
use testkit::RedisServer;

use crate::helpers::*;

async fn redis_at(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// The Redis key of a cached request (`path?sorted params|poster size`).
fn entry_key(app: &TestApp, request_key: &str) -> String {
    format!("{}:e:{request_key}", app.shared.prefix)
}

const DAY: u64 = 24 * 3600;

#[tokio::test]
async fn the_ttl_policy_sets_max_age_and_how_long_redis_keeps_entries() {
    let app = spawn_app().await;
    let mut redis = redis_at(&testkit::redis_url()).await;
    for (path, key, ttl) in [
        (
            "/api/movies/trending",
            "trending/movie/day?page=1|w500",
            3 * 3600,
        ),
        (
            "/api/movies/now-playing",
            "movie/now_playing?page=1|w500",
            6 * 3600,
        ),
        (
            "/api/tv/airing-today",
            "tv/airing_today?page=1|w500",
            6 * 3600,
        ),
        (
            "/api/movies/popular",
            "movie/popular?page=1|w500",
            12 * 3600,
        ),
        (
            "/api/movies/discover",
            "discover/movie?page=1&sort_by=popularity.desc|w500",
            12 * 3600,
        ),
        (
            "/api/search?q=harbor",
            "search/multi?page=1&query=harbor|w500",
            3600,
        ),
        ("/api/movies/10000", "movie/10000?|w500", 7 * DAY),
        (
            "/api/movies/10000/credits",
            "movie/10000/credits?|w500",
            7 * DAY,
        ),
        ("/api/tv/genres", "genre/tv/list?|w500", 30 * DAY),
        ("/api/catalog/config", "configuration?|w500", 30 * DAY),
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let age = max_age(&resp);
        assert!(
            (ttl - 2..=ttl).contains(&age),
            "{path}: max-age {age}, policy {ttl}"
        );
        // Redis keeps the entry for its TTL plus the 7-day stale window.
        let kept: i64 = redis.pttl(entry_key(&app, key)).await.unwrap();
        let expected = i64::try_from((ttl + 7 * DAY) * 1000).unwrap();
        assert!(
            (expected - 5_000..=expected).contains(&kept),
            "{path}: Redis keeps {key} {kept} ms, expected about {expected}"
        );
    }
}

#[tokio::test]
async fn the_ttl_policy_is_configuration() {
    let app = spawn_app_with(&[
        ("CATALOG_TTL_LISTS_SECS", "77"),
        ("CATALOG_TTL_SEARCH_SECS", "33"),
    ])
    .await;
    assert!((75..=77).contains(&max_age(&app.get("/api/tv/popular").await)));
    assert!((31..=33).contains(&max_age(&app.get("/api/movies/search?q=echo").await)));
}

#[tokio::test]
async fn entries_are_fetched_again_once_their_ttl_has_passed() {
    let app = spawn_app_with(&[("CATALOG_TTL_LISTS_SECS", "1")]).await;
    let first = app.get("/api/movies/popular").await;
    assert_eq!(
        header(&first, "cache-status"),
        "reelstack; fwd=miss; stored"
    );
    let second = app.get("/api/movies/popular").await;
    assert!(header(&second, "cache-status").starts_with("reelstack; hit"));
    assert_eq!(app.sim().requests("/3/movie/popular"), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let third = app.get("/api/movies/popular").await;
    assert_eq!(
        header(&third, "cache-status"),
        "reelstack; fwd=stale; stored"
    );
    assert_eq!(app.sim().requests("/3/movie/popular"), 2);
}

#[tokio::test]
async fn two_hundred_concurrent_cold_requests_make_one_upstream_call() {
    let app = spawn_app().await;
    app.sim().set_latency(Duration::from_millis(300));
    let responses = join_all((0..200).map(|_| app.get("/api/movies/top-rated"))).await;
    let mut statuses = Vec::new();
    let mut bodies = std::collections::HashSet::new();
    for resp in responses {
        assert_eq!(resp.status(), StatusCode::OK);
        statuses.push(header(&resp, "cache-status"));
        bodies.insert(resp.bytes().await.unwrap());
    }
    assert_eq!(app.sim().requests("/3/movie/top_rated"), 1);
    assert_eq!(bodies.len(), 1, "everyone got the same answer");
    let stored = statuses
        .iter()
        .filter(|s| *s == "reelstack; fwd=miss; stored")
        .count();
    let collapsed = statuses
        .iter()
        .filter(|s| *s == "reelstack; fwd=miss; collapsed")
        .count();
    // Requests that arrive after the fetch finished are plain hits.
    let hits = statuses
        .iter()
        .filter(|s| s.starts_with("reelstack; hit; ttl="))
        .count();
    assert_eq!(stored, 1, "{statuses:?}");
    assert!(
        collapsed > 0,
        "some requests waited for the fetch: {statuses:?}"
    );
    assert_eq!(stored + collapsed + hits, 200, "{statuses:?}");
}

#[tokio::test]
async fn coalescing_holds_across_two_replicas_sharing_redis() {
    let a = spawn_app().await;
    let b = a.spawn_replica().await;
    a.sim().set_latency(Duration::from_millis(300));
    let requests = (0..200).map(|n| {
        let app = if n % 2 == 0 { &a } else { &b };
        app.get("/api/tv/popular?page=3")
    });
    let responses = join_all(requests).await;
    let mut bodies = std::collections::HashSet::new();
    for resp in responses {
        assert_eq!(resp.status(), StatusCode::OK);
        bodies.insert(resp.bytes().await.unwrap());
    }
    assert_eq!(a.sim().requests("/3/tv/popular"), 1);
    assert_eq!(bodies.len(), 1);
    // What one replica stored, the other serves.
    let from_b = b.get("/api/tv/popular?page=3").await;
    assert!(header(&from_b, "cache-status").starts_with("reelstack; hit"));
}

#[tokio::test]
async fn a_stale_copy_stands_in_when_tmdb_errors_or_rate_limits() {
    let app = spawn_app_with(&[("CATALOG_TTL_LISTS_SECS", "1")]).await;
    let fresh = app.get("/api/movies/popular").await;
    let body = fresh.bytes().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;

    app.sim().fail(FailureMode::Error, None);
    let stale = app.get("/api/movies/popular").await;
    assert_eq!(stale.status(), StatusCode::OK);
    assert_eq!(
        header(&stale, "cache-status"),
        "reelstack; fwd=stale; fwd-status=500; detail=stale-if-error"
    );
    assert_eq!(header(&stale, "cache-control"), "public, max-age=0");
    assert_eq!(stale.bytes().await.unwrap(), body);

    // A 429 with a long Retry-After: stale copy, and this replica leaves TMDB alone
    // until the Retry-After has passed.
    app.sim().rate_limit(30, None);
    let limited = app.get("/api/movies/popular").await;
    assert_eq!(limited.status(), StatusCode::OK);
    assert_eq!(
        header(&limited, "cache-status"),
        "reelstack; fwd=stale; fwd-status=429; detail=stale-if-error"
    );
    let calls = app.sim().requests("/3/movie/popular");
    app.sim().heal();
    let paused = app.get("/api/movies/popular").await;
    assert_eq!(paused.status(), StatusCode::OK);
    assert!(header(&paused, "cache-status").contains("fwd=stale"));
    assert_eq!(
        app.sim().requests("/3/movie/popular"),
        calls,
        "TMDB's Retry-After honoured"
    );
}

#[tokio::test]
async fn timeouts_serve_a_stale_copy_or_answer_504() {
    let app = spawn_app_with(&[("CATALOG_TTL_LISTS_SECS", "1"), ("TMDB_TIMEOUT_MS", "300")]).await;
    app.get("/api/movies/top-rated").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.sim().fail(FailureMode::Timeout, None);
    let stale = app.get("/api/movies/top-rated").await;
    assert_eq!(stale.status(), StatusCode::OK);
    assert_eq!(
        header(&stale, "cache-status"),
        "reelstack; fwd=stale; detail=stale-if-error"
    );
    assert_error(
        app.get("/api/tv/top-rated").await,
        StatusCode::GATEWAY_TIMEOUT,
        "UPSTREAM_TIMEOUT",
    )
    .await;
}

#[tokio::test]
async fn with_nothing_cached_a_failing_tmdb_is_503() {
    let app = spawn_app().await;
    app.sim().fail(FailureMode::Error, None);
    assert_error(
        app.get("/api/movies/popular").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "UPSTREAM_UNAVAILABLE",
    )
    .await;
    // GETs are retried (2 retries by default) before giving up.
    assert_eq!(app.sim().requests("/3/movie/popular"), 3);
    // Nothing was cached: once TMDB is back, the next request is answered.
    app.sim().heal();
    assert_eq!(
        app.get("/api/movies/popular").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_tmdb_rate_limit_with_nothing_cached_is_503_with_retry_after() {
    let app = spawn_app().await;
    app.sim().rate_limit(30, None);
    let resp = app.get("/api/movies/upcoming").await;
    assert_eq!(header(&resp, "retry-after"), "30");
    let body = assert_error(
        resp,
        StatusCode::SERVICE_UNAVAILABLE,
        "UPSTREAM_UNAVAILABLE",
    )
    .await;
    assert_eq!(body["error"]["details"]["retryAfter"], 30);
    assert_eq!(
        app.sim().requests("/3/movie/upcoming"),
        1,
        "no retry inside a long Retry-After"
    );
}

#[tokio::test]
async fn a_short_retry_after_is_waited_out_and_the_request_succeeds() {
    let app = spawn_app().await;
    app.sim().rate_limit(1, Some(1));
    let started = Instant::now();
    let resp = app.get("/api/tv/on-the-air").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited for Retry-After"
    );
    assert_eq!(app.sim().requests("/3/tv/on_the_air"), 2);
}

#[tokio::test]
async fn wrong_tmdb_credentials_are_a_502_not_the_callers_fault() {
    let app = spawn_app_with(&[("TMDB_API_KEY", "not-the-key")]).await;
    let body = assert_error(
        app.get("/api/movies/popular").await,
        StatusCode::BAD_GATEWAY,
        "BAD_GATEWAY",
    )
    .await;
    assert!(!body.to_string().contains("not-the-key"));
    assert_eq!(
        app.sim().requests("/3/movie/popular"),
        1,
        "a 401 is not retried"
    );
}

#[tokio::test]
async fn the_read_access_token_is_sent_as_a_bearer_token() {
    let app = spawn_app_with(&[
        ("TMDB_API_KEY", ""),
        (
            "TMDB_READ_ACCESS_TOKEN",
            testkit::tmdb_sim::DEFAULT_READ_TOKEN,
        ),
    ])
    .await;
    assert_eq!(
        app.get("/api/movies/popular").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn losing_redis_never_turns_into_errors_and_the_cache_recovers() {
    let mut redis = RedisServer::start().unwrap();
    let url = redis.url();
    let app = spawn_app_with(&[
        ("REDIS_URL", url.as_str()),
        ("CATALOG_LOCAL_CACHE_SECS", "0"),
        ("CATALOG_REDIS_RETRY_SECS", "1"),
    ])
    .await;
    assert_eq!(
        app.get("/api/movies/popular").await.status(),
        StatusCode::OK
    );
    let mut conn = redis_at(&url).await;
    let stored: bool = conn
        .exists(entry_key(&app, "movie/popular?page=1|w500"))
        .await
        .unwrap();
    assert!(stored, "entries go to Redis while it is up");

    redis.stop();
    for path in [
        "/api/movies/popular",
        "/api/movies/top-rated",
        "/api/movies/top-rated",
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path} without Redis");
    }
    // Meanwhile the memory tier holds what was fetched.
    let remembered = app.get("/api/movies/top-rated").await;
    assert!(header(&remembered, "cache-status").starts_with("reelstack; hit"));
    let ready = app.get("/health/ready").await;
    assert_eq!(
        ready.status(),
        StatusCode::OK,
        "Redis is optional for readiness"
    );
    let health: Value = ready.json().await.unwrap();
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["checks"]["redis"], "down");

    redis.restart().unwrap();
    // The connection comes back on its own; readiness says when.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let health: Value = app.get("/health/ready").await.json().await.unwrap();
        if health["checks"]["redis"] == "ok" {
            break;
        }
        assert!(Instant::now() < deadline, "Redis never came back: {health}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        app.get("/api/movies/upcoming").await.status(),
        StatusCode::OK
    );
    let mut conn = redis_at(&url).await;
    let stored: bool = conn
        .exists(entry_key(&app, "movie/upcoming?page=1|w500"))
        .await
        .unwrap();
    assert!(stored, "entries go to Redis again once it is back");
}

#[tokio::test]
async fn without_redis_the_memory_cache_is_the_cache() {
    let app = spawn_app_with(&[("REDIS_URL", "")]).await;
    assert_eq!(
        header(&app.get("/api/movies/popular").await, "cache-status"),
        "reelstack; fwd=miss; stored"
    );
    let again = app.get("/api/movies/popular").await;
    assert!(header(&again, "cache-status").starts_with("reelstack; hit"));
    assert_eq!(app.sim().requests("/3/movie/popular"), 1);
    let health: Value = app.get("/health/ready").await.json().await.unwrap();
    assert_eq!(health["checks"]["redis"], "disabled");
}
