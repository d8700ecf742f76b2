//! Delivers the outbox of user changes to the directory (meeting-user-sync):
//! `PUT /internal/users/{id}` for created and updated users, `DELETE` for disabled
//! ones, with a service token auth signs for itself. Woken at once by local
//! changes, and every poll interval for retries and other replicas' events;
//! failures are retried with exponential backoff (capped), forever.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use common::events;
use common::retry::Backoff;
use common::tasks::Tasks;
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

/// Runs the delivery loop as a supervised background task.
pub fn spawn(
    tasks: &mut Tasks,
    state: web::Data<AppState>,
    settings: OutboxSettings,
    wake: Arc<Notify>,
) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10))
        .build()?;
    let settings = Arc::new(settings);
    tasks.spawn("outbox-worker", move || {
        let (state, settings, wake, http) =
            (state.clone(), settings.clone(), wake.clone(), http.clone());
        async move {
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
                    prune(&state).await;
                }
            }
        }
    });
    Ok(())
}

async fn prune(state: &AppState) {
    let age = chrono::Duration::days(KEEP_DELIVERED_DAYS);
    match state
        .db
        .run(move |conn| db::outbox::prune_delivered(conn, age))
        .await
    {
        Ok(pruned) if pruned > 0 => tracing::info!(pruned, "delivered outbox events pruned"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "outbox prune failed"),
    }
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
        "{}{}",
        base.trim_end_matches('/'),
        events::user_path(&event.user_id.to_string())
    );
    let issuer = Some(common::issuer::FIRST_PARTY.to_owned());
    let request = if event.event_type == db::outbox::UserEvent::Disabled.as_str() {
        http.delete(&url).query(&events::UserDeletion {
            issuer,
            version: Some(event.version),
        })
    } else {
        let text = |field: &str| event.payload[field].as_str().map(str::to_owned);
        http.put(&url).json(&events::UserUpsert {
            issuer,
            email: text("email"),
            name: text("name"),
            image_url: text("imageUrl"),
            version: Some(event.version),
        })
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
    Backoff::new(Duration::from_secs(1), max, 0.25).delay(u32::try_from(attempts).unwrap_or(1))
}
