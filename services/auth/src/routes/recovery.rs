//! Email verification by 6-digit code and password reset by emailed token.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use common::net::ClientIp;
use common::ratelimit::Limit;
use common::tokens::{AuthUser, Role};
use common::{ApiError, FieldErrors};
use diesel::Connection;
use rand::Rng;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::account::user_id_of;
use super::dto::{Accepted, ErrorEnvelope, UserDto};
use super::me::load_user;
use super::required;
use crate::db;
use crate::domain::email::redact;
use crate::domain::{Email, NewPassword};
use crate::errors;
use crate::state::AppState;
use crate::tokens;

const CODE_TTL_MINUTES: i64 = 10;
const CODE_MAX_ATTEMPTS: i32 = 5;
const RESET_TTL_MINUTES: i64 = 30;

#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyEmailRequest {
    /// The 6-digit code from the mail.
    #[schema(value_type = String, required = true, pattern = "^[0-9]{6}$")]
    pub code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetRequest {
    #[schema(value_type = String, required = true, format = Email, max_length = 254)]
    pub email: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetPasswordRequest {
    /// The token from the mail.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 256)]
    pub token: Option<String>,
    /// 8-128 characters, not rated weak (zxcvbn).
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128)]
    pub new_password: Option<String>,
}

/// Codes are hashed with the user id, so equal codes of two users differ.
fn code_hash(user_id: Uuid, code: &str) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(user_id.as_bytes());
    hasher.update(code.as_bytes());
    hasher.finalize().to_vec()
}

#[utoipa::path(post, path = "/api/auth/email/verify/request", tag = "email", security(("bearer" = [])),
    responses(
        (status = 202, description = "A code was mailed; any earlier code is replaced", body = Accepted),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 409, description = "EMAIL_ALREADY_VERIFIED", body = ErrorEnvelope),
        (status = 429, description = "Too many codes requested", body = ErrorEnvelope),
    ))]
pub async fn request_verification(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let id = user_id_of(&user)?;
    let account = load_user(&state, id).await?;
    if account.email_verified {
        return Err(errors::email_already_verified());
    }
    state
        .limiter
        .check(
            &Limit::per_hour("otp", state.settings.auth_rl_otp_per_account_per_hour),
            &id.to_string(),
        )
        .await?;
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32));
    let hash = code_hash(id, &code);
    let expires = Utc::now() + Duration::minutes(CODE_TTL_MINUTES);
    state
        .db
        .run(move |conn| db::codes::put_verification(conn, id, hash, expires))
        .await?;
    let body = format!(
        "Hello {},\n\nYour Reelstack verification code is {code}\n\nIt is valid for {CODE_TTL_MINUTES} minutes.\nIf you did not ask for it, ignore this mail.\n",
        account.name
    );
    state
        .mailer
        .send(&account.email, "Your Reelstack verification code", body)
        .await?;
    tracing::info!(user.id = %id, "verification code sent");
    Ok(HttpResponse::Accepted().json(Accepted { status: "accepted" }))
}

enum CodeCheck {
    Verified(crate::db::models::User),
    Wrong { remaining: i32 },
    Exhausted,
    Missing,
}

#[utoipa::path(post, path = "/api/auth/email/verify", tag = "email", security(("bearer" = [])), request_body = VerifyEmailRequest,
    responses(
        (status = 200, description = "Email verified", body = UserDto),
        (status = 400, description = "INVALID_CODE (details.attemptsRemaining), CODE_EXPIRED or TOO_MANY_ATTEMPTS", body = ErrorEnvelope),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 422, description = "The code is not 6 digits", body = ErrorEnvelope),
        (status = 429, description = "Too many code submissions from this address", body = ErrorEnvelope),
    ))]
pub async fn verify_email(
    state: web::Data<AppState>,
    user: AuthUser,
    ip: ClientIp,
    body: common::Json<VerifyEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = user_id_of(&user)?;
    state
        .limiter
        .check(
            &Limit::per_minute("verify_ip", state.settings.auth_rl_verify_per_ip_per_min),
            ip.as_str(),
        )
        .await?;
    let mut errors = FieldErrors::new();
    let code = required(&mut errors, "code", body.code.as_deref(), |c| {
        if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) {
            Ok(c.to_owned())
        } else {
            Err("must be 6 digits")
        }
    });
    errors.into_result()?;
    let Some(code) = code else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let presented = code_hash(id, &code);
    let admins = state.settings.bootstrap_admins();
    let outcome = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let Some(pending) = db::codes::pending_verification(conn, id)? else {
                    return Ok(CodeCheck::Missing);
                };
                if pending.expires_at <= Utc::now() {
                    db::codes::delete_verification(conn, id)?;
                    return Ok(CodeCheck::Missing);
                }
                if pending.attempts >= CODE_MAX_ATTEMPTS {
                    db::codes::delete_verification(conn, id)?;
                    return Ok(CodeCheck::Exhausted);
                }
                if pending.code_hash == presented {
                    db::codes::delete_verification(conn, id)?;
                    let user = db::users::mark_email_verified(conn, id)?;
                    // The bootstrap list names admins by address: the address
                    // is theirs only once it is verified.
                    if admins.contains(&user.email) && user.role != Role::Admin.as_str() {
                        db::users::promote_admins(conn, std::slice::from_ref(&user.email))?;
                        tracing::info!(user.id = %id, "bootstrap admin promoted at verification");
                        return Ok(CodeCheck::Verified(
                            db::users::find(conn, id)?
                                .ok_or_else(|| ApiError::not_found("User"))?,
                        ));
                    }
                    return Ok(CodeCheck::Verified(user));
                }
                let attempts = db::codes::count_attempt(conn, id)?;
                if attempts >= CODE_MAX_ATTEMPTS {
                    db::codes::delete_verification(conn, id)?;
                    return Ok(CodeCheck::Exhausted);
                }
                Ok(CodeCheck::Wrong {
                    remaining: CODE_MAX_ATTEMPTS - attempts,
                })
            })
        })
        .await?;
    match outcome {
        CodeCheck::Verified(user) => Ok(HttpResponse::Ok().json(UserDto::from(user))),
        CodeCheck::Wrong { remaining } => Err(errors::invalid_code(remaining)),
        CodeCheck::Exhausted => Err(errors::too_many_attempts()),
        CodeCheck::Missing => Err(errors::code_expired()),
    }
}

#[utoipa::path(post, path = "/api/auth/password/reset/request", tag = "password-reset", request_body = ResetRequest,
    responses(
        (status = 202, description = "Accepted whether or not the account exists; a token is mailed when it does", body = Accepted),
        (status = 422, description = "Not an email address", body = ErrorEnvelope),
        (status = 429, description = "Too many requests from this address", body = ErrorEnvelope),
    ))]
pub async fn request_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: common::Json<ResetRequest>,
) -> Result<HttpResponse, ApiError> {
    let ip = state.client_ip(&req);
    state
        .limiter
        .check(
            &Limit::per_hour("reset_ip", state.settings.auth_rl_reset_per_ip_per_hour),
            &ip,
        )
        .await?;
    let mut errors = FieldErrors::new();
    let email = required(&mut errors, "email", body.email.as_deref(), Email::parse);
    errors.into_result()?;
    let Some(email) = email else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let accepted = HttpResponse::Accepted().json(Accepted { status: "accepted" });
    // Past the per-account limit the answer stays 202 (no enumeration); no mail goes out.
    let per_account = Limit::per_hour(
        "reset_account",
        state.settings.auth_rl_reset_per_account_per_hour,
    );
    if state
        .limiter
        .check(&per_account, email.as_str())
        .await
        .is_err()
    {
        tracing::info!(user.email = %redact(email.as_str()), "reset request over the per-account limit");
        return Ok(accepted);
    }
    let lookup = email.into_inner();
    let Some(user) = state
        .db
        .run(move |conn| db::users::find_by_email(conn, &lookup))
        .await?
    else {
        return Ok(accepted);
    };
    if user.disabled {
        return Ok(accepted);
    }
    // Mail in the background so the answer takes as long for unknown accounts.
    let state = state.into_inner();
    tokio::spawn(async move {
        let (token, hash) = tokens::new_opaque_token();
        let (id, expires) = (user.id, Utc::now() + Duration::minutes(RESET_TTL_MINUTES));
        if let Err(e) = state
            .db
            .run(move |conn| db::codes::insert_reset(conn, id, hash, expires))
            .await
        {
            tracing::error!(error = %e, "reset token not stored");
            return;
        }
        let body = format!(
            "Hello {},\n\nUse this token to reset your Reelstack password:\n\n{token}\n\nIt is valid for {RESET_TTL_MINUTES} minutes and can be used once.\nIf you did not ask for it, ignore this mail.\n",
            user.name
        );
        if let Err(e) = state
            .mailer
            .send(&user.email, "Reset your Reelstack password", body)
            .await
        {
            tracing::error!(error = %e, "reset mail not sent");
        }
    });
    Ok(accepted)
}

#[utoipa::path(post, path = "/api/auth/password/reset", tag = "password-reset", request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password replaced; every session of the account is revoked"),
        (status = 400, description = "INVALID_RESET_TOKEN: unknown, used or expired (checked before the new password)", body = ErrorEnvelope),
        (status = 422, description = "Missing token or newPassword, or a weak newPassword", body = ErrorEnvelope),
        (status = 429, description = "Too many reset submissions from this address", body = ErrorEnvelope),
    ))]
pub async fn reset_password(
    state: web::Data<AppState>,
    ip: ClientIp,
    body: common::Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    state
        .limiter
        .check(
            &Limit::per_minute(
                "reset_submit_ip",
                state.settings.auth_rl_reset_submit_per_ip_per_min,
            ),
            ip.as_str(),
        )
        .await?;
    let mut errors = FieldErrors::new();
    let token = required(&mut errors, "token", body.token.as_deref(), |t| {
        if t.is_empty() || t.len() > 256 {
            Err("is not a reset token")
        } else {
            Ok(t.to_owned())
        }
    });
    if body.new_password.is_none() {
        errors.add("newPassword", "is required");
    }
    errors.into_result()?;
    let (Some(token), Some(raw_password)) = (token, body.new_password.as_deref()) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    // The token first: a made-up token costs one indexed read, never a
    // strength estimate or an Argon2 hash.
    let token_hash = tokens::hash_token(&token);
    let lookup = token_hash.clone();
    let owner = state
        .db
        .run(move |conn| {
            let Some(reset) = db::codes::find_reset(conn, &lookup)? else {
                return Ok(None);
            };
            db::users::find(conn, reset.user_id)
        })
        .await?
        .ok_or_else(errors::invalid_reset_token)?;
    let new_password =
        NewPassword::parse(raw_password, &[owner.email.as_str(), owner.name.as_str()])
            .map_err(|e| ApiError::validation("newPassword", &e.to_string()))?;
    let hash = state.passwords.hash(new_password.into_secret()).await?;
    let revoked = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let Some(reset) = db::codes::consume_reset(conn, &token_hash)? else {
                    return Ok(None);
                };
                db::users::set_password_hash(conn, reset.user_id, &hash)?;
                db::codes::retire_resets(conn, reset.user_id)?;
                Ok(Some(db::sessions::revoke_all(
                    conn,
                    reset.user_id,
                    None,
                    "password_reset",
                )?))
            })
        })
        .await?
        .ok_or_else(errors::invalid_reset_token)?;
    state.publish_revocations(&revoked).await;
    Ok(HttpResponse::NoContent().finish())
}
