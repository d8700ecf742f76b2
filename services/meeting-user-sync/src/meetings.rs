//! The rules of a meeting, for the HTTP routes and the live sockets alike: who
//! takes part (everyone else gets 404), who hosts, and what an ended meeting
//! refuses.

use common::tokens::AuthUser;
use common::ApiError;
use uuid::Uuid;

use crate::db;
use crate::db::meetings::UserRef;
use crate::db::models::{Meeting, Participant};
use crate::errors;
use crate::state::AppState;

/// The caller as meetings store users: `(issuer, subject)`.
pub fn user_ref(user: &AuthUser) -> UserRef {
    UserRef {
        issuer: user.issuer.clone(),
        subject: user.subject.clone(),
    }
}

pub fn meeting_not_found() -> ApiError {
    ApiError::not_found("Meeting")
}

/// A meeting id from the path; anything but a UUID is an unknown meeting.
pub fn meeting_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| meeting_not_found())
}

/// The meeting and the caller's place in it; 404 unless the caller takes part.
pub async fn membership(
    state: &AppState,
    id: Uuid,
    user: &AuthUser,
) -> Result<(Meeting, Participant), ApiError> {
    let who = user_ref(user);
    state
        .db
        .run(move |conn| db::meetings::membership(conn, id, &who))
        .await?
        .ok_or_else(meeting_not_found)
}

pub fn require_host(participant: &Participant) -> Result<(), ApiError> {
    if participant.is_host() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("Only the host can do this".to_owned()))
    }
}

/// 403 `NOT_PRESENT` for a participant who left; `action` names what they tried.
pub fn require_present(participant: &Participant, action: &str) -> Result<(), ApiError> {
    if participant.is_present() {
        Ok(())
    } else {
        Err(errors::not_present(action))
    }
}

/// 409 `MEETING_ENDED` once the host ended the meeting.
pub fn ended_guard(meeting: &Meeting) -> Result<(), ApiError> {
    if meeting.status == "ended" {
        Err(errors::meeting_ended())
    } else {
        Ok(())
    }
}
