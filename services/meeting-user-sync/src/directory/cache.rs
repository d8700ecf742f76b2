//! A read cache of profiles in each replica. Every write to a profile goes through
//! this service, which drops the entry here and tells the other replicas on a
//! Redis channel; entries also expire after [`TTL`], which bounds how stale a
//! replica can be if it missed a message (Redis down, or reconnecting).

use std::sync::Arc;
use std::time::Duration;

use common::redis_conn::RedisHandle;
use common::tasks::Tasks;
use moka::sync::Cache;

use crate::db::models::Profile;

use common::events::{parse_profile_changed, profile_changed, PROFILE_CHANGED_CHANNEL};

const TTL: Duration = Duration::from_secs(30);
const CAPACITY: u64 = 100_000;

type Key = (String, String);

pub struct ProfileCache {
    entries: Cache<Key, Arc<Profile>>,
    redis: Option<RedisHandle>,
}

fn key(issuer: &str, subject: &str) -> Key {
    (issuer.to_owned(), subject.to_owned())
}

impl ProfileCache {
    pub fn new(redis: Option<RedisHandle>) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TTL)
                .build(),
            redis,
        }
    }

    pub fn get(&self, issuer: &str, subject: &str) -> Option<Arc<Profile>> {
        self.entries.get(&key(issuer, subject))
    }

    pub fn put(&self, profile: Profile) -> Arc<Profile> {
        let profile = Arc::new(profile);
        self.entries
            .insert(key(&profile.issuer, &profile.subject), profile.clone());
        profile
    }

    /// A profile changed: forget it here at once, and in the other replicas.
    pub async fn changed(&self, issuer: &str, subject: &str) {
        self.entries.invalidate(&key(issuer, subject));
        let Some(redis) = &self.redis else {
            return;
        };
        let mut conn = redis.conn.clone();
        let published = tokio::time::timeout(
            Duration::from_millis(500),
            redis::cmd("PUBLISH")
                .arg(PROFILE_CHANGED_CHANNEL)
                .arg(profile_changed(issuer, subject))
                .query_async::<i64>(&mut conn),
        )
        .await;
        if !matches!(published, Ok(Ok(_))) {
            tracing::warn!("profile change not published; other replicas catch up within 30 s");
        }
    }

    /// Drops entries other replicas say changed, for the life of the process;
    /// after a lost subscription it starts from an empty cache (changes may have
    /// been missed meanwhile).
    pub fn spawn_listener(self: &Arc<Self>, tasks: &mut Tasks, redis: RedisHandle) {
        let cache = self.clone();
        tasks.spawn("profile-cache-channel", move || {
            let (cache, redis) = (cache.clone(), redis.clone());
            async move {
                common::redis_conn::follow(
                    &redis,
                    PROFILE_CHANGED_CHANNEL,
                    || {
                        cache.entries.invalidate_all();
                        async { Ok(()) }
                    },
                    |payload| {
                        if let Some((issuer, subject)) = parse_profile_changed(payload) {
                            cache.entries.invalidate(&key(issuer, subject));
                        }
                    },
                )
                .await
            }
        });
    }
}
