//! auth's own error codes, each defined once with its status and message.

use actix_web::http::StatusCode;
use common::ApiError;
use serde_json::json;

pub const EMAIL_TAKEN: &str = "EMAIL_TAKEN";
pub const INVALID_CREDENTIALS: &str = "INVALID_CREDENTIALS";
pub const ACCOUNT_DISABLED: &str = "ACCOUNT_DISABLED";
pub const INVALID_REFRESH_TOKEN: &str = "INVALID_REFRESH_TOKEN";
pub const REFRESH_TOKEN_REUSED: &str = "REFRESH_TOKEN_REUSED";
pub const EMAIL_ALREADY_VERIFIED: &str = "EMAIL_ALREADY_VERIFIED";
pub const INVALID_CODE: &str = "INVALID_CODE";
pub const CODE_EXPIRED: &str = "CODE_EXPIRED";
pub const TOO_MANY_ATTEMPTS: &str = "TOO_MANY_ATTEMPTS";
pub const INVALID_RESET_TOKEN: &str = "INVALID_RESET_TOKEN";
pub const CANNOT_CHANGE_SELF: &str = "CANNOT_CHANGE_SELF";
pub const INVALID_CLIENT: &str = "INVALID_CLIENT";

pub fn email_taken() -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        EMAIL_TAKEN,
        "An account with this email already exists",
    )
}

/// The same answer for an unknown email and a wrong password.
pub fn invalid_credentials() -> ApiError {
    ApiError::coded(
        StatusCode::UNAUTHORIZED,
        INVALID_CREDENTIALS,
        "Email or password is incorrect",
    )
}

pub fn account_disabled() -> ApiError {
    ApiError::coded(
        StatusCode::FORBIDDEN,
        ACCOUNT_DISABLED,
        "This account is disabled",
    )
}

pub fn invalid_refresh_token(message: &str) -> ApiError {
    ApiError::coded(StatusCode::UNAUTHORIZED, INVALID_REFRESH_TOKEN, message)
}

pub fn refresh_token_reused() -> ApiError {
    ApiError::coded(
        StatusCode::UNAUTHORIZED,
        REFRESH_TOKEN_REUSED,
        "This refresh token was already used; the session has been revoked",
    )
}

pub fn email_already_verified() -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        EMAIL_ALREADY_VERIFIED,
        "The email is already verified",
    )
}

pub fn invalid_code(attempts_remaining: i32) -> ApiError {
    ApiError::coded(
        StatusCode::BAD_REQUEST,
        INVALID_CODE,
        "The code is incorrect",
    )
    .with_details(json!({ "attemptsRemaining": attempts_remaining }))
}

pub fn code_expired() -> ApiError {
    ApiError::coded(
        StatusCode::BAD_REQUEST,
        CODE_EXPIRED,
        "No valid code is pending; request a new one",
    )
}

pub fn too_many_attempts() -> ApiError {
    ApiError::coded(
        StatusCode::BAD_REQUEST,
        TOO_MANY_ATTEMPTS,
        "Too many wrong codes; request a new one",
    )
}

pub fn invalid_reset_token() -> ApiError {
    ApiError::coded(
        StatusCode::BAD_REQUEST,
        INVALID_RESET_TOKEN,
        "The reset token is invalid, used or expired",
    )
}

pub fn cannot_change_self() -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        CANNOT_CHANGE_SELF,
        "Admins cannot disable or demote themselves",
    )
}

pub fn invalid_client() -> ApiError {
    ApiError::coded(
        StatusCode::UNAUTHORIZED,
        INVALID_CLIENT,
        "Unknown client or wrong secret",
    )
}
