use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;

use crate::redis_conn::RedisHandle;

/// Pub/sub channel carrying `sid:until` for each revoked session.
pub const REVOCATION_CHANNEL: &str = "reelstack:revoked-sessions";
/// Sorted set of revoked session ids scored by the time they stop mattering (the
/// last access token of the session has expired by then); loaded on (re)connect.
pub const REVOCATION_SET: &str = "reelstack:revoked-sessions:z";

/// Revoked session ids held in memory, each until its tokens can no longer be valid.
#[derive(Clone, Default)]
pub struct RevocationList {
    inner: Arc<RwLock<HashMap<String, i64>>>,
}

impl RevocationList {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn contains(&self, sid: &str) -> bool {
        let now = chrono::Utc::now().timestamp();
        match self.inner.read() {
            Ok(map) => map.get(sid).is_some_and(|until| *until >= now),
            Err(poisoned) => poisoned
                .into_inner()
                .get(sid)
                .is_some_and(|until| *until >= now),
        }
    }

    pub fn insert(&self, sid: &str, until: i64) {
        let now = chrono::Utc::now().timestamp();
        let mut map = match self.inner.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() > 10_000 {
            map.retain(|_, until| *until >= now);
        }
        let entry = map.entry(sid.to_owned()).or_insert(until);
        *entry = (*entry).max(until);
    }

    pub fn len(&self) -> usize {
        self.inner.read().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records revocations locally and, when Redis is configured, for every other
    /// process: `ZADD` for processes that connect later, `PUBLISH` for those listening.
    pub async fn publish(
        &self,
        redis: Option<&RedisHandle>,
        sids: &[String],
        until: i64,
    ) -> Result<(), redis::RedisError> {
        for sid in sids {
            self.insert(sid, until);
        }
        let Some(redis) = redis else {
            return Ok(());
        };
        if sids.is_empty() {
            return Ok(());
        }
        let mut conn = redis.conn.clone();
        let mut pipe = redis::pipe();
        for sid in sids {
            pipe.zadd(REVOCATION_SET, sid, until).ignore();
            pipe.publish(REVOCATION_CHANNEL, format!("{sid}:{until}"))
                .ignore();
        }
        pipe.zrembyscore(REVOCATION_SET, "-inf", chrono::Utc::now().timestamp() - 1)
            .ignore();
        // Bounded: a dead Redis must not hold up a logout.
        match tokio::time::timeout(Duration::from_secs(1), pipe.query_async::<()>(&mut conn)).await
        {
            Ok(result) => result,
            Err(_) => Err(redis::RedisError::from((
                redis::ErrorKind::IoError,
                "revocation publish timed out",
            ))),
        }
    }

    /// Keeps this list in step with Redis for the life of the process: subscribes,
    /// then loads the set (so nothing published in between is missed), and starts
    /// over after any disconnection.
    pub fn spawn_listener(&self, redis: RedisHandle) -> tokio::task::JoinHandle<()> {
        let list = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = list.listen_once(&redis).await {
                    tracing::warn!(error = %e, "revocation listener disconnected; reconnecting");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    }

    async fn listen_once(&self, redis: &RedisHandle) -> Result<(), redis::RedisError> {
        let mut pubsub = redis.client.get_async_pubsub().await?;
        pubsub.subscribe(REVOCATION_CHANNEL).await?;
        let mut conn = redis.client.get_multiplexed_async_connection().await?;
        let now = chrono::Utc::now().timestamp();
        let snapshot: Vec<(String, i64)> = conn
            .zrangebyscore_withscores(REVOCATION_SET, now, "+inf")
            .await?;
        for (sid, until) in &snapshot {
            self.insert(sid, *until);
        }
        tracing::debug!(loaded = snapshot.len(), "revocation list loaded");
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let payload: String = match message.get_payload() {
                Ok(p) => p,
                Err(_) => continue,
            };
            if let Some((sid, until)) = payload.rsplit_once(':') {
                if let Ok(until) = until.parse::<i64>() {
                    self.insert(sid, until);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_their_tokens() {
        let list = RevocationList::new();
        let now = chrono::Utc::now().timestamp();
        list.insert("live", now + 60);
        list.insert("old", now - 1);
        assert!(list.contains("live"));
        assert!(!list.contains("old"));
        assert!(!list.contains("other"));
    }
}
