//! The caller's own profile: sync from the issuer, read (syncing on first use),
//! and edit the fields that are the user's own.

use actix_web::{web, HttpResponse};
use common::domain::{bounded_text, double_option};
use common::tokens::AuthUser;
use common::{ApiError, FieldErrors};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::dto::{ErrorEnvelope, ProfileDto, SyncResult};
use crate::db;
use crate::db::models::Profile;
use crate::db::profiles::{Applied, ProfileEdits};
use crate::directory::SourceError;
use crate::state::AppState;

const MAX_BIO_CHARS: usize = 500;
const MAX_PREFERENCES_BYTES: usize = 16 * 1024;

fn source_error(err: SourceError) -> ApiError {
    match err {
        SourceError::NotFound => {
            ApiError::NotFound("The identity provider has no such user".to_owned())
        }
        SourceError::Unavailable(cause) => {
            tracing::warn!(%cause, "identity provider unavailable");
            ApiError::coded(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "UPSTREAM_UNAVAILABLE",
                "The identity provider is unavailable, retry later",
            )
        }
    }
}

fn deleted() -> ApiError {
    ApiError::not_found("Profile")
}

/// Fetches the caller from their issuer and stores it; `(profile, created)`.
pub(crate) async fn sync(state: &AppState, user: &AuthUser) -> Result<(Profile, bool), ApiError> {
    let identity = state.sources.fetch(user).await.map_err(source_error)?;
    let (issuer, subject) = (user.issuer.clone(), user.subject.clone());
    let (profile, applied) = state
        .db
        .run(move |conn| db::profiles::apply_identity(conn, &issuer, &subject, &identity))
        .await?;
    if applied != Applied::Stale {
        state.profiles.changed(&user.issuer, &user.subject).await;
    }
    if profile.is_deleted() {
        return Err(deleted());
    }
    Ok((profile, applied == Applied::Created))
}

/// The caller's profile (from the cache when it can), synced from the issuer the
/// first time.
pub(crate) async fn own_profile(
    state: &AppState,
    user: &AuthUser,
) -> Result<Arc<Profile>, ApiError> {
    let cached = state.profiles.get(&user.issuer, &user.subject);
    let found = match cached {
        Some(profile) => Some(profile),
        None => {
            let (issuer, subject) = (user.issuer.clone(), user.subject.clone());
            state
                .db
                .run(move |conn| db::profiles::find(conn, &issuer, &subject))
                .await?
                .map(|p| state.profiles.put(p))
        }
    };
    match found {
        Some(p) if p.is_deleted() => Err(deleted()),
        Some(p) => Ok(p),
        None => sync(state, user).await.map(|(p, _)| Arc::new(p)),
    }
}

#[utoipa::path(post, path = "/api/user/sync", tag = "directory", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's profile, fetched from its issuer and stored", body = SyncResult),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorEnvelope),
        (status = 404, description = "The issuer has no such user, or the profile was deleted", body = ErrorEnvelope),
        (status = 503, description = "The issuer's API is unreachable; the stored profile is unchanged", body = ErrorEnvelope),
    ))]
pub async fn sync_me(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
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
    /// 1-100 characters; once set here, the issuer's name no longer replaces it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// Up to 500 characters.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub bio: Option<Option<String>>,
    /// A JSON object of at most 16 KB, replacing the stored one.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub preferences: Option<Option<Value>>,
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
        Some(Some(raw)) => {
            let bio = raw.trim();
            if bio.chars().count() > MAX_BIO_CHARS {
                errors.add("bio", format!("must be at most {MAX_BIO_CHARS} characters"));
            } else if bio
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                errors.add("bio", "must not contain control characters");
            } else {
                edits.bio = Some((!bio.is_empty()).then(|| bio.to_owned()));
            }
        }
        Some(None) => edits.bio = Some(None),
        None => {}
    }
    match body.preferences {
        Some(Some(value)) if value.is_object() => {
            if value.to_string().len() > MAX_PREFERENCES_BYTES {
                errors.add("preferences", "must be at most 16 KB of JSON");
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
    body: web::Json<PatchProfileRequest>,
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
