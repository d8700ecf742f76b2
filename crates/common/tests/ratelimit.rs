#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

//! Rate limits held in Redis are shared by every replica.

use common::ratelimit::{Limit, RateLimiter};
use common::redis_conn::RedisHandle;
use common::ApiError;

#[tokio::test]
async fn replicas_share_one_budget_through_redis() {
    let redis = RedisHandle::connect(&testkit::redis_url())
        .await
        .expect("Redis of the local stack");
    let a = RateLimiter::new(Some(redis.clone()));
    let b = RateLimiter::new(Some(redis));
    let key = uuid::Uuid::now_v7().to_string();
    let limit = Limit::per_minute("shared_test", 4);
    a.check(&limit, &key).await.unwrap();
    b.check(&limit, &key).await.unwrap();
    a.check(&limit, &key).await.unwrap();
    b.check(&limit, &key).await.unwrap();
    match a.check(&limit, &key).await {
        Err(ApiError::RateLimited(info)) => {
            assert_eq!(info.limit, 4);
            assert!((1..=60).contains(&info.retry_after_secs));
        }
        other => panic!("the fifth hit across two replicas must be refused: {other:?}"),
    }
    // Keys never hold the raw value (emails and addresses stay out of Redis).
    let mut conn = RedisHandle::connect(&testkit::redis_url())
        .await
        .unwrap()
        .conn;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("rl:shared_test:*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|k| !k.contains(&key)));
}

#[tokio::test]
async fn a_lost_redis_falls_back_to_in_process_counts() {
    // A Redis of this test's own, killed once the limiter is using it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server (installed by make test)");
    let url = format!("redis://127.0.0.1:{port}");
    let mut redis = None;
    for _ in 0..50 {
        if let Ok(r) = RedisHandle::connect(&url).await {
            redis = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let limiter = RateLimiter::new(redis);
    let limit = Limit::per_minute("fallback_test", 2);
    limiter.check(&limit, "k").await.unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let started = std::time::Instant::now();
    // Redis is gone: the next hits are counted in-process, never an error.
    limiter.check(&limit, "k").await.unwrap();
    limiter.check(&limit, "k").await.unwrap();
    match limiter.check(&limit, "k").await {
        Err(ApiError::RateLimited(_)) => {}
        other => panic!("expected the in-process count to refuse: {other:?}"),
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "fallback must not hang"
    );
}
