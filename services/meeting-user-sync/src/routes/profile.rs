//! The caller's own profile: sync from the issuer, read (syncing on first use),
//! and edit the fields that are the user's own.

use actix_web::{web, HttpResponse};
use common::domain::{bounded_multiline, bounded_text, double_option};
use common::ratelimit::Limit;
use common::tokens::AuthUser;
use common::{ApiError, FieldErrors};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::db;
use crate::db::profiles::ProfileEdits;
use crate::directory::sync::{deleted, own_profile, sync};
use crate::dto::{ErrorEnvelope, ProfileDto, SyncResult};
use crate::state::AppState;

const MAX_BIO_CHARS: usize = 500;
const MAX_PREFERENCES_BYTES: usize = 16 * 1024;

#[utoipa::path(post, path = "/api/user/sync", tag = "directory", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's profile, fetched from its issuer and stored", body = SyncResult),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorEnvelope),
        (status = 404, description = "The issuer has no such user, or the profile was deleted", body = ErrorEnvelope),
        (status = 429, description = "Too many syncs by this user", body = ErrorEnvelope),
        (status = 503, description = "The issuer's API is unreachable; the stored profile is unchanged", body = ErrorEnvelope),
    ))]
pub async fn sync_me(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    // Each sync costs a call to the issuer's API (Clerk's is rate-limited per app).
    state
        .limiter
        .check(
            &Limit::per_minute("directory_sync", state.settings.sync_per_user_per_min),
            &format!("{}:{}", user.issuer, user.subject),
        )
        .await?;
    let (profile, created) = sync(&state, &user).await?;
    Ok(HttpResponse::Ok().json(SyncResult {
        user: profile.into(),
        created,
    }))
}

#[utoipa::path(get, path = "/api/user/profile", tag = "directory", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's profile (synced on first use)", body = ProfileDto),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 404, description = "Deleted, or unknown to its issuer", body = ErrorEnvelope),
        (status = 503, description = "No profile yet and the issuer is unreachable", body = ErrorEnvelope),
    ))]
pub async fn get_profile(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let profile = own_profile(&state, &user).await?;
    Ok(HttpResponse::Ok().json(ProfileDto::from(profile.as_ref().clone())))
}

/// Any field may be left out; `bio: null` clears the bio.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatchProfileRequest {
    /// Up to 100 characters, not only white space; once set here, the issuer's
    /// name no longer replaces it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, format = "text", max_length = 100)]
    pub name: Option<Option<String>>,
    /// Up to 500 characters, line breaks allowed; blank or `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = "multiline-or-blank", max_length = 500)]
    pub bio: Option<Option<String>>,
    /// A JSON object of at most 16 KB, replacing the stored one; no key or
    /// string in it may hold U+0000 (PostgreSQL cannot store it).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Object)]
    pub preferences: Option<Option<Value>>,
}

/// Whether a key or string anywhere in `value` holds U+0000.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

fn edits_of(body: PatchProfileRequest) -> Result<ProfileEdits, ApiError> {
    let mut errors = FieldErrors::new();
    let mut edits = ProfileEdits::default();
    match body.name {
        Some(Some(raw)) => match bounded_text(&raw, 100) {
            Ok(name) => edits.name = Some(name),
            Err(e) => errors.add("name", e),
        },
        Some(None) => errors.add("name", "must not be null"),
        None => {}
    }
    match body.bio {
        Some(Some(raw)) => match bounded_multiline(&raw, MAX_BIO_CHARS) {
            Ok(bio) => edits.bio = Some(bio),
            Err(e) => errors.add("bio", e),
        },
        Some(None) => edits.bio = Some(None),
        None => {}
    }
    match body.preferences {
        Some(Some(value)) if value.is_object() => {
            if value.to_string().len() > MAX_PREFERENCES_BYTES {
                errors.add("preferences", "must be at most 16 KB of JSON");
            } else if holds_nul(&value) {
                // PostgreSQL's jsonb cannot hold U+0000 in a key or string.
                errors.add("preferences", "must not contain NUL characters (\\u0000)");
            } else {
                edits.preferences = Some(value);
            }
        }
        Some(_) => errors.add("preferences", "must be a JSON object"),
        None => {}
    }
    errors.into_result()?;
    Ok(edits)
}

#[utoipa::path(patch, path = "/api/user/profile", tag = "directory", security(("bearer" = [])),
    request_body = PatchProfileRequest,
    responses(
        (status = 200, description = "The updated profile", body = ProfileDto),
        (status = 400, description = "Malformed JSON or wrong types", body = ErrorEnvelope),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 422, description = "Invalid name, bio or preferences", body = ErrorEnvelope),
    ))]
pub async fn patch_profile(
    state: web::Data<AppState>,
    user: AuthUser,
    body: common::Json<PatchProfileRequest>,
) -> Result<HttpResponse, ApiError> {
    let edits = edits_of(body.into_inner())?;
    own_profile(&state, &user).await?;
    let (issuer, subject) = (user.issuer.clone(), user.subject.clone());
    let profile = state
        .db
        .run(move |conn| db::profiles::edit(conn, &issuer, &subject, &edits))
        .await?
        .ok_or_else(deleted)?;
    state.profiles.changed(&user.issuer, &user.subject).await;
    Ok(HttpResponse::Ok().json(ProfileDto::from(profile)))
}
