//! The caller's own account: read, edit, change password.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use common::domain::double_option;
use common::ratelimit::Limit;
use common::tokens::AuthUser;
use common::{ApiError, FieldErrors};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::account::user_id_of;
use super::dto::{ErrorEnvelope, UserDto};
use super::required;
use crate::db;
use crate::db::outbox::UserEvent;
use crate::db::users::ProfileChanges;
use crate::domain::{DisplayName, ImageUrl, NewPassword};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatchMeRequest {
    /// Up to 100 characters, not only white space.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, format = "text", max_length = 100)]
    pub name: Option<Option<String>>,
    /// An http(s) URL of at most 2048 characters, or `null` to remove the image.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = "image-url", max_length = 2048)]
    pub image_url: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    #[schema(value_type = String, required = true, max_length = 1024)]
    pub current_password: Option<String>,
    /// 8-128 characters, not rated weak (zxcvbn).
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128)]
    pub new_password: Option<String>,
}

pub(crate) async fn load_user(
    state: &AppState,
    id: Uuid,
) -> Result<crate::db::models::User, ApiError> {
    state
        .db
        .run(move |conn| db::users::find(conn, id))
        .await?
        .ok_or_else(|| ApiError::not_found("User"))
}

#[utoipa::path(get, path = "/api/auth/me", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserDto),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorEnvelope),
    ))]
pub async fn get_me(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let user = load_user(&state, user_id_of(&user)?).await?;
    Ok(HttpResponse::Ok().json(UserDto::from(user)))
}

#[utoipa::path(patch, path = "/api/auth/me", tag = "me", security(("bearer" = [])), request_body = PatchMeRequest,
    responses(
        (status = 200, description = "The updated user", body = UserDto),
        (status = 400, description = "Malformed JSON or wrong types", body = ErrorEnvelope),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 422, description = "Invalid name or imageUrl", body = ErrorEnvelope),
    ))]
pub async fn patch_me(
    state: web::Data<AppState>,
    user: AuthUser,
    body: common::Json<PatchMeRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = user_id_of(&user)?;
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let mut changes = ProfileChanges::default();
    match body.name {
        None => {}
        Some(None) => errors.add("name", "must not be null"),
        Some(Some(raw)) => match DisplayName::parse(&raw) {
            Ok(name) => changes.name = Some(name.into_inner()),
            Err(e) => errors.add("name", e),
        },
    }
    match body.image_url {
        None => {}
        Some(None) => changes.image_url = Some(None),
        Some(Some(raw)) => match ImageUrl::parse(&raw) {
            Ok(url) => changes.image_url = Some(Some(url.into_inner())),
            Err(e) => errors.add("imageUrl", e),
        },
    }
    errors.into_result()?;
    let updated = state
        .db
        .run(move |conn| {
            use diesel::Connection;
            conn.transaction(|conn| {
                let user = db::users::update_profile(conn, id, &changes)?;
                db::outbox::record(conn, &user, UserEvent::Updated)?;
                Ok(user)
            })
        })
        .await?;
    state.outbox_wake.notify_one();
    Ok(HttpResponse::Ok().json(UserDto::from(updated)))
}

#[utoipa::path(post, path = "/api/auth/password", tag = "me", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed; the user's other sessions are revoked"),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 422, description = "currentPassword is incorrect, or newPassword is invalid", body = ErrorEnvelope),
        (status = 429, description = "Too many attempts", body = ErrorEnvelope),
    ))]
pub async fn change_password(
    state: web::Data<AppState>,
    user: AuthUser,
    body: common::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = user_id_of(&user)?;
    state
        .limiter
        .check(
            &Limit::per_minute(
                "password_change",
                state.settings.auth_rl_login_per_account_per_min,
            ),
            &id.to_string(),
        )
        .await?;
    let account = load_user(&state, id).await?;
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let current = required(
        &mut errors,
        "currentPassword",
        body.current_password.as_deref(),
        |p| Ok::<_, &str>(SecretString::from(p.chars().take(1024).collect::<String>())),
    );
    let inputs = [account.name.as_str(), account.email.as_str()];
    let new = required(
        &mut errors,
        "newPassword",
        body.new_password.as_deref(),
        |p| NewPassword::parse(p, &inputs),
    );
    errors.into_result()?;
    let (Some(current), Some(new)) = (current, new) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    if !state
        .passwords
        .verify(&account.password_hash, current)
        .await?
        .matches
    {
        return Err(ApiError::validation("currentPassword", "is incorrect"));
    }
    let hash = state.passwords.hash(new.into_secret()).await?;
    let keep = user
        .session_id
        .as_deref()
        .and_then(|s| Uuid::parse_str(s).ok());
    let revoked = state
        .db
        .run(move |conn| {
            use diesel::Connection;
            conn.transaction(|conn| {
                db::users::set_password_hash(conn, id, &hash)?;
                db::sessions::revoke_all(conn, id, keep, "password_changed")
            })
        })
        .await?;
    state.publish_revocations(&revoked).await;
    tracing::info!(user.id = %id, revoked = revoked.len(), "password changed");
    Ok(HttpResponse::build(StatusCode::NO_CONTENT).finish())
}
