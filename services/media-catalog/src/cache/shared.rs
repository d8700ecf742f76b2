//! The cache's Redis side, shared by every replica: entries, the per-key fetch lock
//! that lets one replica call TMDB while the others wait, and a short-lived marker
//! telling the waiters that the call failed. Every command has a short timeout.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::AsyncCommands;

use super::entry::Entry;
use crate::tmdb::UpstreamError;

/// Longest wait for one Redis command before the cache carries on without Redis.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(300);

#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer within {COMMAND_TIMEOUT:?}")]
    Timeout,
}

pub struct SharedStore {
    conn: ConnectionManager,
    prefix: String,
    unlock: redis::Script,
}

async fn bounded<T>(
    fut: impl std::future::Future<Output = Result<T, redis::RedisError>>,
) -> Result<T, SharedError> {
    tokio::time::timeout(COMMAND_TIMEOUT, fut)
        .await
        .map_err(|_| SharedError::Timeout)?
        .map_err(SharedError::from)
}

fn px(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl SharedStore {
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
            // Only the holder of the lock may release it.
            unlock: redis::Script::new(
                "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
            ),
        }
    }

    fn key(&self, kind: &str, key: &str) -> String {
        format!("{}:{kind}:{key}", self.prefix)
    }

    pub async fn get(&self, key: &str) -> Result<Option<Entry>, SharedError> {
        let mut conn = self.conn.clone();
        let raw: Option<Vec<u8>> = bounded(conn.get(self.key("e", key))).await?;
        Ok(raw.and_then(|r| Entry::decode(&r)))
    }

    pub async fn put(&self, key: &str, entry: &Entry, keep: Duration) -> Result<(), SharedError> {
        let mut conn = self.conn.clone();
        let options = redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(px(keep)));
        bounded(conn.set_options::<_, _, ()>(self.key("e", key), entry.encode(), options)).await
    }

    /// Takes the fetch lock for `key` unless another replica holds it.
    pub async fn try_lock(
        &self,
        key: &str,
        token: &str,
        ttl: Duration,
    ) -> Result<bool, SharedError> {
        let mut conn = self.conn.clone();
        let options = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(px(ttl)));
        let set: Option<String> =
            bounded(conn.set_options(self.key("lock", key), token, options)).await?;
        Ok(set.is_some())
    }

    pub async fn unlock(&self, key: &str, token: &str) -> Result<(), SharedError> {
        let mut conn = self.conn.clone();
        let mut invocation = self.unlock.key(self.key("lock", key));
        invocation.arg(token);
        bounded(invocation.invoke_async::<i64>(&mut conn))
            .await
            .map(|_| ())
    }

    pub async fn is_locked(&self, key: &str) -> Result<bool, SharedError> {
        let mut conn = self.conn.clone();
        bounded(conn.exists(self.key("lock", key))).await
    }

    /// Tells replicas waiting on `key` that the fetch failed, for `ttl`.
    pub async fn mark_failed(
        &self,
        key: &str,
        error: &UpstreamError,
        ttl: Duration,
    ) -> Result<(), SharedError> {
        let mut conn = self.conn.clone();
        let options = redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(px(ttl)));
        bounded(conn.set_options::<_, _, ()>(self.key("fail", key), encode_error(error), options))
            .await
    }

    pub async fn failure(&self, key: &str) -> Result<Option<UpstreamError>, SharedError> {
        let mut conn = self.conn.clone();
        let raw: Option<String> = bounded(conn.get(self.key("fail", key))).await?;
        Ok(raw.map(|r| decode_error(&r)))
    }
}

fn encode_error(error: &UpstreamError) -> String {
    match error {
        UpstreamError::NotFound => "not_found".to_owned(),
        UpstreamError::Unauthorized => "unauthorized".to_owned(),
        UpstreamError::RateLimited { retry_after_secs } => {
            format!("rate_limited:{retry_after_secs}")
        }
        UpstreamError::Timeout => "timeout".to_owned(),
        UpstreamError::Status(status) => format!("status:{status}"),
        // A refusal of our own never reaches other replicas (it happens before any fetch).
        UpstreamError::Unavailable(_) | UpstreamError::NotAdmitted { .. } => {
            "unavailable".to_owned()
        }
    }
}

fn decode_error(raw: &str) -> UpstreamError {
    match raw.split_once(':') {
        Some(("rate_limited", secs)) => UpstreamError::RateLimited {
            retry_after_secs: secs.parse().unwrap_or(1),
        },
        Some(("status", status)) => UpstreamError::Status(status.parse().unwrap_or(502)),
        _ => match raw {
            "not_found" => UpstreamError::NotFound,
            "unauthorized" => UpstreamError::Unauthorized,
            "timeout" => UpstreamError::Timeout,
            _ => UpstreamError::Unavailable("failed in another replica".to_owned()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_markers_round_trip() {
        for error in [
            UpstreamError::NotFound,
            UpstreamError::Unauthorized,
            UpstreamError::RateLimited {
                retry_after_secs: 7,
            },
            UpstreamError::Timeout,
            UpstreamError::Status(500),
        ] {
            assert_eq!(decode_error(&encode_error(&error)), error);
        }
        assert!(matches!(
            decode_error(&encode_error(&UpstreamError::Unavailable("x".into()))),
            UpstreamError::Unavailable(_)
        ));
    }
}
