//! social's own error codes, each defined once with its status.

use actix_web::http::StatusCode;
use common::ApiError;

pub const CANNOT_FOLLOW_SELF: &str = "CANNOT_FOLLOW_SELF";

pub fn video_not_found() -> ApiError {
    ApiError::not_found("Video")
}

pub fn comment_not_found() -> ApiError {
    ApiError::not_found("Comment")
}

pub fn user_not_found() -> ApiError {
    ApiError::not_found("User")
}

pub fn cannot_follow_self() -> ApiError {
    ApiError::coded(
        StatusCode::UNPROCESSABLE_ENTITY,
        CANNOT_FOLLOW_SELF,
        "You cannot follow yourself",
    )
}

/// The directory could not say whether a user exists.
pub fn directory_unavailable() -> ApiError {
    ApiError::coded(
        StatusCode::SERVICE_UNAVAILABLE,
        common::error::code::UPSTREAM_UNAVAILABLE,
        "The user directory is unavailable, retry later",
    )
}
