//! Fixed-window rate limits: Redis-backed when configured (shared by all replicas),
//! in-process otherwise or while Redis is unreachable.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long one Redis round trip may take before the in-process count is used.
const REDIS_TIMEOUT: Duration = Duration::from_millis(200);
/// After a Redis failure, requests skip Redis this long (no waiting on a dead server).
const REDIS_BACKOFF: Duration = Duration::from_secs(5);

use sha2::{Digest, Sha256};

use crate::error::{ApiError, RateLimitInfo};
use crate::redis_conn::RedisHandle;
use crate::retry::Breaker;

/// A named limit: at most `max` hits per `window`. `max == 0` disables it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub name: &'static str,
    pub max: u64,
    pub window: Duration,
}

impl Limit {
    pub const fn per_minute(name: &'static str, max: u64) -> Self {
        Self {
            name,
            max,
            window: Duration::from_secs(60),
        }
    }

    pub const fn per_hour(name: &'static str, max: u64) -> Self {
        Self {
            name,
            max,
            window: Duration::from_secs(3600),
        }
    }
}

const SCRIPT: &str = r"
local c = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {c, ttl}
";

pub struct RateLimiter {
    redis: Option<RedisHandle>,
    script: redis::Script,
    local: Mutex<HashMap<String, (u64, Instant)>>,
    breaker: Breaker,
}

impl RateLimiter {
    pub fn new(redis: Option<RedisHandle>) -> Self {
        Self {
            redis,
            script: redis::Script::new(SCRIPT),
            local: Mutex::new(HashMap::new()),
            breaker: Breaker::new(REDIS_BACKOFF),
        }
    }

    /// Counts one hit of `key` against `limit`; `Err(RateLimited)` once over it.
    /// Keys are hashed, so emails and addresses never appear in Redis.
    pub async fn check(&self, limit: &Limit, key: &str) -> Result<(), ApiError> {
        if limit.max == 0 {
            return Ok(());
        }
        let digest = Sha256::digest(key.as_bytes());
        let hashed: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let bucket = format!("rl:{}:{}", limit.name, hashed);
        let (count, remaining_ms) = match self.usable_redis() {
            Some(redis) => match tokio::time::timeout(
                REDIS_TIMEOUT,
                self.hit_redis(redis, &bucket, limit.window),
            )
            .await
            {
                Ok(Ok(v)) => v,
                outcome => {
                    let cause = match outcome {
                        Ok(Err(e)) => e.to_string(),
                        _ => "timed out".to_owned(),
                    };
                    if self.breaker.trip() {
                        tracing::warn!(error = %cause, "rate limiter falling back to in-process counts");
                    }
                    self.hit_local(&bucket, limit.window)
                }
            },
            None => self.hit_local(&bucket, limit.window),
        };
        if count > limit.max {
            tracing::info!(limit = limit.name, "rate limit exceeded");
            return Err(ApiError::RateLimited(RateLimitInfo {
                limit: limit.max,
                retry_after_secs: remaining_ms.div_ceil(1000).max(1),
            }));
        }
        Ok(())
    }

    /// Redis, unless it failed within the last few seconds.
    fn usable_redis(&self) -> Option<&RedisHandle> {
        self.redis.as_ref().filter(|_| self.breaker.allows())
    }

    async fn hit_redis(
        &self,
        redis: &RedisHandle,
        bucket: &str,
        window: Duration,
    ) -> Result<(u64, u64), redis::RedisError> {
        let mut conn = redis.conn.clone();
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        let (count, ttl): (u64, i64) = self
            .script
            .key(bucket)
            .arg(window_ms)
            .invoke_async(&mut conn)
            .await?;
        Ok((count, u64::try_from(ttl).unwrap_or(window_ms)))
    }

    fn hit_local(&self, bucket: &str, window: Duration) -> (u64, u64) {
        let now = Instant::now();
        let mut map = match self.local.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() > 100_000 {
            map.retain(|_, (_, start)| now.duration_since(*start) < window);
        }
        let entry = map.entry(bucket.to_owned()).or_insert((0, now));
        if now.duration_since(entry.1) >= window {
            *entry = (0, now);
        }
        entry.0 += 1;
        let remaining = window.saturating_sub(now.duration_since(entry.1));
        (entry.0, u64::try_from(remaining.as_millis()).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_process_limit_refuses_past_max_with_retry_after() {
        let limiter = RateLimiter::new(None);
        let limit = Limit::per_minute("test", 3);
        for _ in 0..3 {
            limiter.check(&limit, "1.2.3.4").await.unwrap();
        }
        match limiter.check(&limit, "1.2.3.4").await {
            Err(ApiError::RateLimited(info)) => {
                assert_eq!(info.limit, 3);
                assert!((1..=60).contains(&info.retry_after_secs));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Another key has its own budget.
        limiter.check(&limit, "5.6.7.8").await.unwrap();
    }

    #[tokio::test]
    async fn zero_disables_a_limit() {
        let limiter = RateLimiter::new(None);
        let limit = Limit::per_minute("off", 0);
        for _ in 0..100 {
            limiter.check(&limit, "k").await.unwrap();
        }
    }
}
