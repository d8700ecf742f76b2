//! A user's profile from their issuer: fetched and stored on sync, read from the
//! per-replica cache or the database otherwise (synced the first time).

use std::sync::Arc;

use common::tokens::AuthUser;
use common::ApiError;

use super::SourceError;
use crate::db;
use crate::db::models::Profile;
use crate::db::profiles::Applied;
use crate::errors;
use crate::state::AppState;

fn source_error(err: SourceError) -> ApiError {
    match err {
        SourceError::NotFound => {
            ApiError::NotFound("The identity provider has no such user".to_owned())
        }
        SourceError::Unavailable(cause) => {
            tracing::warn!(%cause, "identity provider unavailable");
            errors::identity_provider_unavailable()
        }
    }
}

pub fn deleted() -> ApiError {
    ApiError::not_found("Profile")
}

/// Fetches the caller from their issuer and stores it; `(profile, created)`.
pub async fn sync(state: &AppState, user: &AuthUser) -> Result<(Profile, bool), ApiError> {
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
pub async fn own_profile(state: &AppState, user: &AuthUser) -> Result<Arc<Profile>, ApiError> {
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
