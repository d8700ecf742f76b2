//! meeting-user-sync's own error codes, each defined once with its status.

use actix_web::http::StatusCode;
use common::ApiError;

pub const MEETING_ENDED: &str = "MEETING_ENDED";
pub const NOT_PRESENT: &str = "NOT_PRESENT";
pub const REMOVED_FROM_MEETING: &str = "REMOVED_FROM_MEETING";
pub const CANNOT_REMOVE_HOST: &str = "CANNOT_REMOVE_HOST";
pub const INVALID_SIGNATURE: &str = "INVALID_SIGNATURE";

pub fn meeting_ended() -> ApiError {
    ApiError::coded(StatusCode::CONFLICT, MEETING_ENDED, "The meeting has ended")
}

/// A participant who left: `action` says what they tried ("chat", "go live").
pub fn not_present(action: &str) -> ApiError {
    ApiError::coded(
        StatusCode::FORBIDDEN,
        NOT_PRESENT,
        format!("Join the meeting again to {action}"),
    )
}

pub fn removed_from_meeting() -> ApiError {
    ApiError::coded(
        StatusCode::FORBIDDEN,
        REMOVED_FROM_MEETING,
        "The host removed you from this meeting",
    )
}

pub fn cannot_remove_host() -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        CANNOT_REMOVE_HOST,
        "The host cannot remove themselves; end the meeting instead",
    )
}

pub fn invalid_signature(reason: String) -> ApiError {
    ApiError::coded(StatusCode::UNAUTHORIZED, INVALID_SIGNATURE, reason)
}

/// The identity provider (Clerk's API, auth's internal API) did not answer.
pub fn identity_provider_unavailable() -> ApiError {
    ApiError::coded(
        StatusCode::SERVICE_UNAVAILABLE,
        common::error::code::UPSTREAM_UNAVAILABLE,
        "The identity provider is unavailable, retry later",
    )
}
