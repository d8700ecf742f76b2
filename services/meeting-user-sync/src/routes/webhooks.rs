//! `POST /api/webhooks/clerk`: Clerk's user events, Svix-signed.

use actix_web::{web, HttpRequest, HttpResponse};
use common::ApiError;
use serde_json::Value;

use crate::db;
use crate::directory::{clerk_identity, svix};
use crate::dto::{ErrorEnvelope, EventResult};
use crate::errors;
use crate::state::AppState;
use common::issuer::CLERK;

#[utoipa::path(post, path = "/api/webhooks/clerk", tag = "webhooks",
    request_body(content = Object, description = "A Clerk event (`user.created`, `user.updated`, `user.deleted`), signed by Svix: headers `svix-id`, `svix-timestamp`, `svix-signature`"),
    responses(
        (status = 200, description = "Applied, or a replay / unknown type / older event (a no-op)", body = EventResult),
        (status = 400, description = "A signed body that is not a Clerk user event", body = ErrorEnvelope),
        (status = 401, description = "Missing, bad or stale signature (INVALID_SIGNATURE)", body = ErrorEnvelope),
        (status = 503, description = "CLERK_WEBHOOK_SECRET is not configured", body = ErrorEnvelope),
    ))]
pub async fn clerk(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let secret = state.settings.clerk_webhook_secret().ok_or_else(|| {
        ApiError::Unavailable("Clerk webhooks are not configured here".to_owned())
    })?;
    let svix_id = svix::verify(
        &secret,
        req.headers(),
        &body,
        state.settings.webhook_tolerance_secs,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|e| {
        tracing::warn!(error = %e, "webhook refused");
        errors::invalid_signature(e.to_string())
    })?;
    let event: Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::BadRequest("Malformed JSON body".to_owned()))?;
    let event_type = event["type"].as_str().unwrap_or_default().to_owned();
    if !matches!(
        event_type.as_str(),
        "user.created" | "user.updated" | "user.deleted"
    ) {
        tracing::info!(event.type = %event_type, "webhook ignored");
        return Ok(HttpResponse::Ok().json(EventResult { applied: "ignored" }));
    }
    let subject = event["data"]["id"]
        .as_str()
        .filter(|id| !id.is_empty() && id.len() <= 128)
        .ok_or_else(|| ApiError::BadRequest("The event has no user id".to_owned()))?
        .to_owned();
    let changed_subject = subject.clone();
    let applied = state
        .db
        .run(move |conn| {
            conn.build_transaction().run(|conn| {
                if !db::profiles::record_delivery(conn, &svix_id, &event_type)? {
                    return Ok("replayed");
                }
                let applied = if event_type == "user.deleted" {
                    // A deletion carries no user version: the event's time stands in.
                    let version = event["timestamp"]
                        .as_i64()
                        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
                    db::profiles::mark_deleted(conn, CLERK, &subject, version)?
                } else {
                    let identity = clerk_identity(&event["data"]);
                    db::profiles::apply_identity(conn, CLERK, &subject, &identity)?.1
                };
                Ok::<_, ApiError>(applied.as_str())
            })
        })
        .await?;
    if matches!(applied, "created" | "updated") {
        state.profiles.changed(CLERK, &changed_subject).await;
    }
    tracing::info!(applied, "Clerk webhook processed");
    Ok(HttpResponse::Ok().json(EventResult { applied }))
}
