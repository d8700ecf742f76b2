use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use redis::AsyncCommands;
use tokio::sync::Notify;

use crate::redis_conn::RedisHandle;
use crate::tasks::Tasks;

/// Pub/sub channel carrying `sid:until` for each revoked session.
pub const REVOCATION_CHANNEL: &str = "reelstack:revoked-sessions";
/// Sorted set of revoked session ids scored by the time they stop mattering (the
/// last access token of the session has expired by then); loaded on (re)connect.
pub const REVOCATION_SET: &str = "reelstack:revoked-sessions:z";

/// Revoked session ids held in memory, each until its tokens can no longer be valid.
#[derive(Clone, Default)]
pub struct RevocationList {
    inner: Arc<RwLock<HashMap<String, i64>>>,
    /// Revocations this process made that Redis has not taken yet; retried by
    /// the republisher until it does, and reported by readiness meanwhile.
    unpublished: Arc<Mutex<HashMap<String, i64>>>,
    retry: Arc<Notify>,
}

/// How long one publication may wait for Redis: a dead Redis must not hold up a logout.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(1);
/// How often unpublished revocations are tried again.
const REPUBLISH_EVERY: Duration = Duration::from_secs(1);

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

    fn pending(&self) -> MutexGuard<'_, HashMap<String, i64>> {
        self.unpublished.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Revocations of this process that Redis has not taken yet.
    pub fn unpublished(&self) -> usize {
        let now = chrono::Utc::now().timestamp();
        let mut pending = self.pending();
        pending.retain(|_, until| *until >= now);
        pending.len()
    }

    /// Records revocations locally and, when Redis is configured, for every other
    /// process: `ZADD` for processes that connect later, `PUBLISH` for those
    /// listening. When Redis does not take them, they are kept and retried by the
    /// republisher (see [`Self::spawn_republisher`]) until it does.
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
        let batch: Vec<(String, i64)> = sids.iter().map(|s| (s.clone(), until)).collect();
        match send(redis, &batch).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.pending().extend(batch);
                self.retry.notify_one();
                Err(e)
            }
        }
    }

    /// Keeps trying to hand Redis the revocations it did not take, every second,
    /// until it does.
    pub fn spawn_republisher(&self, tasks: &mut Tasks, redis: RedisHandle) {
        let list = self.clone();
        tasks.spawn("revocation-republisher", move || {
            let (list, redis) = (list.clone(), redis.clone());
            async move {
                loop {
                    tokio::select! {
                        _ = list.retry.notified() => {}
                        _ = tokio::time::sleep(REPUBLISH_EVERY) => {}
                    }
                    if list.unpublished() == 0 {
                        continue;
                    }
                    tokio::time::sleep(REPUBLISH_EVERY).await;
                    let batch: Vec<(String, i64)> = list
                        .pending()
                        .iter()
                        .map(|(sid, until)| (sid.clone(), *until))
                        .collect();
                    match send(&redis, &batch).await {
                        Ok(()) => {
                            let mut pending = list.pending();
                            for (sid, until) in &batch {
                                if pending.get(sid) == Some(until) {
                                    pending.remove(sid);
                                }
                            }
                            tracing::info!(sessions = batch.len(), "unpublished revocations now published");
                        }
                        Err(e) => tracing::warn!(error = %e, sessions = batch.len(), "revocations still not published; retrying"),
                    }
                }
            }
        });
    }

    /// Keeps this list in step with Redis for the life of the process: subscribes,
    /// then loads the set (so nothing published in between is missed), and starts
    /// over after any disconnection.
    pub fn spawn_listener(&self, tasks: &mut Tasks, redis: RedisHandle) {
        let list = self.clone();
        tasks.spawn("revocation-listener", move || {
            let (list, redis) = (list.clone(), redis.clone());
            async move {
                crate::redis_conn::follow(
                    &redis,
                    REVOCATION_CHANNEL,
                    || list.load_snapshot(&redis),
                    |payload| list.apply_message(payload),
                )
                .await
            }
        });
    }

    /// Loads every revocation still in force from Redis: what was published
    /// while this process was not subscribed.
    pub async fn load_snapshot(&self, redis: &RedisHandle) -> Result<(), redis::RedisError> {
        let mut conn = redis.conn.clone();
        let now = chrono::Utc::now().timestamp();
        let snapshot: Vec<(String, i64)> = conn
            .zrangebyscore_withscores(REVOCATION_SET, now, "+inf")
            .await?;
        for (sid, until) in &snapshot {
            self.insert(sid, *until);
        }
        tracing::debug!(loaded = snapshot.len(), "revocation list loaded");
        Ok(())
    }

    /// Applies one `sid:until` message of [`REVOCATION_CHANNEL`].
    pub fn apply_message(&self, payload: &str) {
        if let Some((sid, until)) = payload.rsplit_once(':') {
            if let Ok(until) = until.parse::<i64>() {
                self.insert(sid, until);
            }
        }
    }
}

async fn send(redis: &RedisHandle, batch: &[(String, i64)]) -> Result<(), redis::RedisError> {
    let mut conn = redis.conn.clone();
    let mut pipe = redis::pipe();
    for (sid, until) in batch {
        pipe.zadd(REVOCATION_SET, sid, *until).ignore();
        pipe.publish(REVOCATION_CHANNEL, format!("{sid}:{until}"))
            .ignore();
    }
    pipe.zrembyscore(REVOCATION_SET, "-inf", chrono::Utc::now().timestamp() - 1)
        .ignore();
    match tokio::time::timeout(PUBLISH_TIMEOUT, pipe.query_async::<()>(&mut conn)).await {
        Ok(result) => result,
        Err(_) => Err(redis::RedisError::from((
            redis::ErrorKind::IoError,
            "revocation publish timed out",
        ))),
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
