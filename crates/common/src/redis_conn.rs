//! Redis connections with bounded timeouts, so a slow or lost Redis degrades
//! features instead of hanging requests.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

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
