//! Redis connections with bounded timeouts, so a slow or lost Redis degrades
//! features instead of hanging requests; the one way to follow a pub/sub channel
//! across disconnections. Callers skip a Redis that failed with
//! [`crate::retry::Breaker`].

use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::retry::Backoff;

/// A client (for pub/sub) and a reconnecting multiplexed connection (for commands).
#[derive(Clone)]
pub struct RedisHandle {
    pub client: redis::Client,
    pub conn: ConnectionManager,
}

impl RedisHandle {
    /// Connects within 5 s or fails: a replica that cannot see Redis at start
    /// should crash-loop visibly rather than hang. Later losses are retried.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(Duration::from_millis(500))
            .set_number_of_retries(2);
        let conn = tokio::time::timeout(
            Duration::from_secs(5),
            client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| anyhow::anyhow!("Redis did not answer within 5 s"))??;
        Ok(Self { client, conn })
    }

    pub async fn ping(&self) -> Result<(), redis::RedisError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
    }
}

/// Waits between two subscription attempts: 250 ms doubling to 5 s.
const RESUBSCRIBE: Backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(5), 0.5);

/// Follows a pub/sub `channel` until the task is stopped: subscribes, runs
/// `on_subscribed` (to catch up on what was published while not subscribed:
/// load a snapshot, drop a cache), then gives every message's payload to
/// `on_message`. After any loss it subscribes again, with a backoff.
pub async fn follow<S, SF, M>(
    redis: &RedisHandle,
    channel: &str,
    mut on_subscribed: S,
    mut on_message: M,
) -> anyhow::Result<()>
where
    S: FnMut() -> SF,
    SF: std::future::Future<Output = Result<(), redis::RedisError>>,
    M: FnMut(&str),
{
    let mut failures = 0u32;
    loop {
        let outcome = async {
            let mut pubsub = redis.client.get_async_pubsub().await?;
            pubsub.subscribe(channel).await?;
            on_subscribed().await?;
            failures = 0;
            let mut messages = pubsub.on_message();
            while let Some(message) = messages.next().await {
                if let Ok(payload) = message.get_payload::<String>() {
                    on_message(&payload);
                }
            }
            Ok::<_, redis::RedisError>(())
        }
        .await;
        match outcome {
            Ok(()) => tracing::warn!(channel, "Redis subscription ended; subscribing again"),
            Err(e) => {
                tracing::warn!(channel, error = %e, "Redis subscription lost; subscribing again")
            }
        }
        failures = failures.saturating_add(1);
        tokio::time::sleep(RESUBSCRIBE.delay(failures)).await;
    }
}
