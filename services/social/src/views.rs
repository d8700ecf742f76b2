//! Views: at most one per viewer per video in a window (30 minutes), buffered in
//! Redis and written to PostgreSQL in batches every `VIEWS_FLUSH_MS`; straight to
//! PostgreSQL while Redis is unavailable.
//!
//! A batch is taken from Redis by renaming the pending keys (atomically, in one
//! script) to keys of the batch, listed in a registry. The replica that took it
//! applies it in one transaction that also records the batch's id, then deletes
//! it; a batch left behind by a replica that stopped is taken up by any replica
//! once it is 30 s old, and a batch applied before is deleted without counting.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::db::Db;
use common::redis_conn::RedisHandle;
use common::retry::Breaker;
use common::tasks::Tasks;
use common::ApiError;
use redis::AsyncCommands;
use uuid::Uuid;

use crate::db;
use crate::db::views::Seen;
use crate::domain::Person;

/// Redis round trips of a view; slower, and the view is counted in PostgreSQL.
const REDIS_TIMEOUT: Duration = Duration::from_millis(300);
/// A batch nobody finished for this long is taken up by another replica.
const ABANDONED_AFTER_MS: i64 = 30_000;

const RECORD: &str = r"
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
  if ARGV[3] ~= '' then redis.call('SADD', KEYS[3], ARGV[3]) end
  return 1
end
return 0
";

/// KEYS: pending counts, pending seen, batch counts, batch seen, registry.
const TAKE: &str = r"
local taken = 0
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[3]); taken = 1 end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', KEYS[2], KEYS[4]); taken = 1 end
if taken == 1 then redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1]) end
return taken
";

/// Who is viewing: a signed-in user, or an anonymous client by address and agent.
pub enum Viewer {
    User(Person),
    Anonymous { address: String, agent: String },
}

impl Viewer {
    fn key(&self) -> String {
        use sha2::{Digest, Sha256};
        match self {
            Self::User(p) => format!("u:{}:{}", p.issuer, p.subject),
            Self::Anonymous { address, agent } => {
                let digest = Sha256::digest(format!("{address}\n{agent}").as_bytes());
                let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
                format!("a:{hex}")
            }
        }
    }

    fn person(&self) -> Option<&Person> {
        match self {
            Self::User(p) => Some(p),
            Self::Anonymous { .. } => None,
        }
    }
}

pub struct Views {
    db: Db,
    redis: Option<RedisHandle>,
    breaker: Breaker,
    prefix: String,
    window_secs: u64,
    record: redis::Script,
    take: redis::Script,
}

fn seen_member(person: &Person, video: Uuid, at: DateTime<Utc>) -> String {
    format!(
        "{}\n{}\n{}\n{}",
        person.issuer,
        person.subject,
        video,
        at.timestamp_millis()
    )
}

fn parse_seen(member: &str) -> Option<Seen> {
    let mut parts = member.split('\n');
    let (issuer, subject, video, at) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    Some(Seen {
        person: Person {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
        },
        video: Uuid::parse_str(video).ok()?,
        at: DateTime::from_timestamp_millis(at.parse().ok()?)?,
    })
}

impl Views {
    pub fn new(db: Db, redis: Option<RedisHandle>, prefix: &str, window_secs: u64) -> Self {
        Self {
            db,
            redis,
            breaker: Breaker::new(Duration::from_secs(5)),
            prefix: prefix.to_owned(),
            window_secs: window_secs.max(1),
            record: redis::Script::new(RECORD),
            take: redis::Script::new(TAKE),
        }
    }

    fn key(&self, name: &str) -> String {
        format!("{}:views:{name}", self.prefix)
    }

    /// Counts a view of `video` unless `viewer` was counted on it within the
    /// window; true when counted.
    pub async fn record(&self, video: Uuid, viewer: &Viewer) -> Result<bool, ApiError> {
        let key = viewer.key();
        if let Some(redis) = self.redis.as_ref().filter(|_| self.breaker.allows()) {
            let seen = viewer
                .person()
                .map(|p| seen_member(p, video, Utc::now()))
                .unwrap_or_default();
            let mut conn = redis.conn.clone();
            let mut invocation = self.record.prepare_invoke();
            invocation
                .key(self.key(&format!("mark:{video}:{key}")))
                .key(self.key("pending"))
                .key(self.key("pending-seen"))
                .arg(self.window_secs)
                .arg(video.to_string())
                .arg(seen);
            match tokio::time::timeout(REDIS_TIMEOUT, invocation.invoke_async::<i64>(&mut conn))
                .await
            {
                Ok(Ok(counted)) => return Ok(counted == 1),
                outcome => {
                    if self.breaker.trip() {
                        let cause = match outcome {
                            Ok(Err(e)) => e.to_string(),
                            _ => "timed out".to_owned(),
                        };
                        tracing::warn!(error = %cause, "views counted in PostgreSQL while Redis is unavailable");
                    }
                }
            }
        }
        let (window, person) = (self.window_secs as i64, viewer.person().cloned());
        self.db
            .run(move |conn| {
                Ok(db::views::count_directly(
                    conn,
                    video,
                    &key,
                    window,
                    person.as_ref(),
                )?)
            })
            .await
    }

    /// Takes what is pending as a new batch and applies it, then any batch left
    /// behind by a replica that stopped.
    pub async fn flush(&self) -> anyhow::Result<()> {
        let Some(redis) = &self.redis else {
            return Ok(());
        };
        let mut conn = redis.conn.clone();
        let batch = Uuid::now_v7().to_string();
        let now_ms = Utc::now().timestamp_millis();
        let taken: i64 = self
            .take
            .key(self.key("pending"))
            .key(self.key("pending-seen"))
            .key(self.key(&format!("batch:{batch}:counts")))
            .key(self.key(&format!("batch:{batch}:seen")))
            .key(self.key("batches"))
            .arg(&batch)
            .arg(now_ms)
            .invoke_async(&mut conn)
            .await?;
        if taken == 1 {
            self.apply(&mut conn, &batch).await?;
        }
        let abandoned: Vec<String> = conn
            .zrangebyscore(self.key("batches"), "-inf", now_ms - ABANDONED_AFTER_MS)
            .await?;
        for batch in abandoned {
            tracing::info!(%batch, "applying a view batch another replica left behind");
            self.apply(&mut conn, &batch).await?;
        }
        Ok(())
    }

    async fn apply(
        &self,
        conn: &mut redis::aio::ConnectionManager,
        batch: &str,
    ) -> anyhow::Result<()> {
        let counts_key = self.key(&format!("batch:{batch}:counts"));
        let seen_key = self.key(&format!("batch:{batch}:seen"));
        let counts: HashMap<String, i64> = conn.hgetall(&counts_key).await?;
        let members: Vec<String> = conn.smembers(&seen_key).await?;
        let mut counts: Vec<(Uuid, i64)> = counts
            .into_iter()
            .filter_map(|(id, n)| Some((Uuid::parse_str(&id).ok()?, n)))
            .collect();
        counts.sort();
        let seen: Vec<Seen> = members.iter().filter_map(|m| parse_seen(m)).collect();
        let id = batch.to_owned();
        let applied = self
            .db
            .run(move |conn| Ok(db::views::apply_batch(conn, &id, &counts, &seen)?))
            .await
            .map_err(|e| anyhow::anyhow!("view batch not applied: {e}"))?;
        if !applied {
            tracing::info!(%batch, "view batch applied before; dropped");
        }
        redis::pipe()
            .del(&counts_key)
            .del(&seen_key)
            .zrem(self.key("batches"), batch)
            .query_async::<()>(conn)
            .await?;
        Ok(())
    }

    /// Flushes every `every`.
    pub fn spawn_flusher(self: &Arc<Self>, tasks: &mut Tasks, every: Duration) {
        let views = self.clone();
        let every = every.max(Duration::from_millis(50));
        tasks.every("view-flusher", every, move || {
            let views = views.clone();
            async move {
                if let Err(e) = views.flush().await {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "view flush failed; retried next tick"
                    );
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_members_round_trip() {
        let person = Person {
            issuer: "clerk".into(),
            subject: "user_1".into(),
        };
        let video = Uuid::now_v7();
        let at = DateTime::from_timestamp_millis(1_764_600_000_123).unwrap();
        let seen = parse_seen(&seen_member(&person, video, at)).unwrap();
        assert_eq!((seen.person, seen.video, seen.at), (person, video, at));
        assert!(parse_seen("a\nb").is_none());
    }

    #[test]
    fn anonymous_viewers_are_hashed_by_address_and_agent() {
        let a = Viewer::Anonymous {
            address: "10.0.0.1".into(),
            agent: "curl".into(),
        };
        let b = Viewer::Anonymous {
            address: "10.0.0.1".into(),
            agent: "firefox".into(),
        };
        assert_ne!(a.key(), b.key());
        assert!(a.key().starts_with("a:") && !a.key().contains("10.0.0.1"));
    }
}
