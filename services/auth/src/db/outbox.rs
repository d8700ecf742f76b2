//! The outbox of user changes for the directory: events are written in the same
//! transaction as the change, claimed by a worker under a short lease (several
//! auth replicas never deliver one event at once), and retried with backoff.

use chrono::{DateTime, Utc};
use common::ApiError;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Interval, Jsonb, Text, Uuid as SqlUuid};
use serde_json::{json, Value};
use uuid::Uuid;

use super::models::User;
use super::schema::user_events;

/// What happened to a user, as the directory is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserEvent {
    Created,
    Updated,
    Disabled,
}

impl UserEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "user.created",
            Self::Updated => "user.updated",
            Self::Disabled => "user.disabled",
        }
    }
}

/// Writes an event about `user` as it is now (call it inside the change's transaction).
pub fn record(conn: &mut PgConnection, user: &User, event: UserEvent) -> Result<(), ApiError> {
    diesel::insert_into(user_events::table)
        .values((
            user_events::user_id.eq(user.id),
            user_events::event_type.eq(event.as_str()),
            user_events::version.eq(user.updated_at.timestamp_micros()),
            user_events::payload.eq(json!({
                "email": user.email,
                "name": user.name,
                "imageUrl": user.image_url,
            })),
        ))
        .execute(conn)?;
    Ok(())
}

/// An event claimed for delivery.
#[derive(Debug, Clone, QueryableByName)]
pub struct PendingEvent {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = BigInt)]
    pub version: i64,
    #[diesel(sql_type = Jsonb)]
    pub payload: Value,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// Claims up to `limit` due events for `lease` (they are not due again before it
/// ends), oldest first; other replicas skip the rows this one holds.
pub fn claim(
    conn: &mut PgConnection,
    limit: i64,
    lease: std::time::Duration,
) -> Result<Vec<PendingEvent>, ApiError> {
    let lease = diesel::data_types::PgInterval::from_microseconds(
        i64::try_from(lease.as_micros()).unwrap_or(i64::MAX),
    );
    Ok(diesel::sql_query(
        "UPDATE user_events SET next_attempt_at = now() + $1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM user_events \
                      WHERE delivered_at IS NULL AND next_attempt_at <= now() \
                      ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) \
         RETURNING id, user_id, event_type, version, payload, attempts",
    )
    .bind::<Interval, _>(lease)
    .bind::<BigInt, _>(limit)
    .load(conn)?)
}

pub fn mark_delivered(conn: &mut PgConnection, id: i64) -> Result<(), ApiError> {
    diesel::update(user_events::table.find(id))
        .set((
            user_events::delivered_at.eq(Some(Utc::now())),
            user_events::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Schedules the next attempt of a failed delivery.
pub fn mark_failed(
    conn: &mut PgConnection,
    id: i64,
    retry_at: DateTime<Utc>,
    error: &str,
) -> Result<(), ApiError> {
    diesel::update(user_events::table.find(id))
        .set((
            user_events::next_attempt_at.eq(retry_at),
            user_events::last_error.eq(Some(error.chars().take(500).collect::<String>())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes delivered events older than `age`; returns how many.
pub fn prune_delivered(conn: &mut PgConnection, age: chrono::Duration) -> Result<usize, ApiError> {
    Ok(diesel::delete(
        user_events::table
            .filter(user_events::delivered_at.is_not_null())
            .filter(user_events::delivered_at.lt(Some(Utc::now() - age))),
    )
    .execute(conn)?)
}

/// Events still waiting, for readiness of the pipeline in tests and metrics.
pub fn pending_count(conn: &mut PgConnection) -> Result<i64, ApiError> {
    Ok(user_events::table
        .filter(user_events::delivered_at.is_null())
        .count()
        .get_result(conn)?)
}
