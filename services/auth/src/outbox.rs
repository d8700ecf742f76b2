//! Delivers the outbox of user changes to the directory (meeting-user-sync):
//! `PUT /internal/users/{id}` for created and updated users, `DELETE` for disabled
//! ones, with a service token auth signs for itself. Woken at once by local
//! changes, and every poll interval for retries and other replicas' events;
//! failures are retried with exponential backoff (capped), forever.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use rand::Rng;
use serde_json::json;
use tokio::sync::Notify;

use crate::db;
use crate::db::outbox::PendingEvent;
use crate::state::AppState;

const BATCH: i64 = 50;
/// A claimed event is not claimed again before this, even by another replica.
const LEASE: Duration = Duration::from_secs(30);
/// Delivered events are kept this long, then pruned.
const KEEP_DELIVERED_DAYS: i64 = 7;

pub struct OutboxSettings {
    /// meeting-user-sync's base URL.
    pub directory_url: String,
    pub poll: Duration,
    pub max_backoff: Duration,
}

/// Runs the delivery loop until the task is aborted.
pub fn spawn(
    state: web::Data<AppState>,
    settings: OutboxSettings,
    wake: Arc<Notify>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10))
        .build()?;
    Ok(tokio::spawn(async move {
        let mut rounds: u64 = 0;
        loop {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(settings.poll) => {}
            }
            if let Err(e) = deliver_due(&state, &settings, &http).await {
                tracing::warn!(error = %e, "outbox round failed");
            }
            rounds += 1;
            if rounds.is_multiple_of(600) {
                let age = chrono::Duration::days(KEEP_DELIVERED_DAYS);
                match state
                    .db
                    .run(move |conn| db::outbox::prune_delivered(conn, age))
                    .await
                {
                    Ok(pruned) if pruned > 0 => {
                        tracing::info!(pruned, "delivered outbox events pruned")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "outbox prune failed"),
                }
            }
        }
    }))
}

/// Delivers every due event, batch after batch.
async fn deliver_due(
    state: &AppState,
    settings: &OutboxSettings,
    http: &reqwest::Client,
) -> anyhow::Result<()> {
    loop {
        let batch = state
            .db
            .run(|conn| db::outbox::claim(conn, BATCH, LEASE))
            .await
            .map_err(|e| anyhow::anyhow!("claiming events: {e}"))?;
        if batch.is_empty() {
            return Ok(());
        }
        let (token, _) = crate::tokens::service_token_for(state, "auth")
            .map_err(|e| anyhow::anyhow!("signing a service token: {e}"))?;
        for event in batch {
            let id = event.id;
            match send(http, &settings.directory_url, &token, &event).await {
                Ok(()) => {
                    metrics::counter!("auth_outbox_delivered_total").increment(1);
                    state
                        .db
                        .run(move |conn| db::outbox::mark_delivered(conn, id))
                        .await
                        .map_err(|e| anyhow::anyhow!("marking delivered: {e}"))?;
                }
                Err(error) => {
                    let wait = backoff(event.attempts, settings.max_backoff);
                    tracing::warn!(event.id = id, attempts = event.attempts, retry_in = ?wait, %error, "outbox delivery failed");
                    metrics::counter!("auth_outbox_failures_total").increment(1);
                    let retry_at = chrono::Utc::now()
                        + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(60));
                    state
                        .db
                        .run(move |conn| db::outbox::mark_failed(conn, id, retry_at, &error))
                        .await
                        .map_err(|e| anyhow::anyhow!("scheduling a retry: {e}"))?;
                }
            }
        }
    }
}

async fn send(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    event: &PendingEvent,
) -> Result<(), String> {
    let url = format!(
        "{}/internal/users/{}",
        base.trim_end_matches('/'),
        event.user_id
    );
    let request = if event.event_type == "user.disabled" {
        http.delete(&url).query(&[
            ("issuer", "reelstack".to_owned()),
            ("version", event.version.to_string()),
        ])
    } else {
        http.put(&url).json(&json!({
            "issuer": "reelstack",
            "email": event.payload["email"],
            "name": event.payload["name"],
            "imageUrl": event.payload["imageUrl"],
            "version": event.version,
        }))
    };
    let response = request
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("directory answered {}", response.status()))
    }
}

/// 1 s, 2 s, 4 s ... up to `max`, plus up to a quarter of jitter.
fn backoff(attempts: i32, max: Duration) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    let base = Duration::from_secs(1u64 << exp).min(max);
    let jitter = rand::thread_rng().gen_range(0..=base.as_millis() as u64 / 4);
    base + Duration::from_millis(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let max = Duration::from_secs(60);
        assert!(
            backoff(1, max) >= Duration::from_secs(1)
                && backoff(1, max) <= Duration::from_millis(1250)
        );
        assert!(backoff(4, max) >= Duration::from_secs(8));
        assert!(backoff(30, max) <= Duration::from_secs(75));
        assert!(backoff(30, Duration::from_secs(1)) <= Duration::from_millis(1250));
    }
}
