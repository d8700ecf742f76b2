//! Routes for other services, behind a service token and never routed by the
//! gateway: user events from auth's outbox, and batch profile lookups.

use actix_web::{web, HttpResponse};
use common::tokens::ServiceCaller;
use common::{ApiError, FieldErrors};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::db;
use crate::directory::Identity;
use crate::dto::{ErrorEnvelope, EventResult, ProfileBatch, ProfileDto};
use crate::state::AppState;
use common::events::{issuer_of, UserDeletion, UserUpsert};

const MAX_BATCH: usize = 100;

fn subject_of(raw: &str) -> Result<String, ApiError> {
    let id = raw.trim();
    if id.is_empty() || id.len() > 128 {
        return Err(ApiError::validation("id", "must be 1-128 characters"));
    }
    Ok(id.to_owned())
}

fn version_of(version: Option<i64>) -> Result<i64, ApiError> {
    match version {
        Some(v) if v >= 0 => Ok(v),
        Some(_) => Err(ApiError::validation("version", "must not be negative")),
        None => Err(ApiError::validation("version", "is required")),
    }
}

#[utoipa::path(put, path = "/internal/users/{id}", tag = "internal", security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's subject")),
    request_body = UserUpsert,
    responses(
        (status = 200, description = "`created`, `updated`, or `stale` (older than stored: ignored)", body = EventResult),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 403, description = "Not a service token", body = ErrorEnvelope),
        (status = 422, description = "Missing version or bad id", body = ErrorEnvelope),
    ))]
pub async fn upsert_user(
    state: web::Data<AppState>,
    _caller: ServiceCaller,
    path: web::Path<String>,
    body: common::Json<UserUpsert>,
) -> Result<HttpResponse, ApiError> {
    let subject = subject_of(&path)?;
    let body = body.into_inner();
    let identity = Identity {
        email: body.email,
        name: body.name,
        image_url: body.image_url,
        version: version_of(body.version)?,
    };
    let issuer = issuer_of(body.issuer.as_deref()).to_owned();
    let (who, whose) = (issuer.clone(), subject.clone());
    let (_, applied) = state
        .db
        .run(move |conn| db::profiles::apply_identity(conn, &issuer, &subject, &identity))
        .await?;
    state.profiles.changed(&who, &whose).await;
    Ok(HttpResponse::Ok().json(EventResult {
        applied: applied.as_str(),
    }))
}

#[utoipa::path(delete, path = "/internal/users/{id}", tag = "internal", security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's subject"), UserDeletion),
    responses(
        (status = 200, description = "The profile is anonymized and marked deleted (or the event was stale)", body = EventResult),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 403, description = "Not a service token", body = ErrorEnvelope),
        (status = 422, description = "Missing version", body = ErrorEnvelope),
    ))]
pub async fn delete_user(
    state: web::Data<AppState>,
    _caller: ServiceCaller,
    path: web::Path<String>,
    params: web::Query<UserDeletion>,
) -> Result<HttpResponse, ApiError> {
    let subject = subject_of(&path)?;
    let version = version_of(params.version)?;
    let issuer = issuer_of(params.issuer.as_deref()).to_owned();
    let (who, whose) = (issuer.clone(), subject.clone());
    let applied = state
        .db
        .run(move |conn| db::profiles::mark_deleted(conn, &issuer, &subject, version))
        .await?;
    state.profiles.changed(&who, &whose).await;
    Ok(HttpResponse::Ok().json(EventResult {
        applied: applied.as_str(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchRequest {
    /// Subjects, at most 100.
    #[schema(value_type = Vec<String>, required = true, max_items = 100)]
    pub ids: Option<Vec<String>>,
}

#[utoipa::path(post, path = "/internal/users/batch", tag = "internal", security(("bearer" = [])),
    request_body = BatchRequest,
    responses(
        (status = 200, description = "The live profiles found, in no particular order (deleted and unknown ids are left out)", body = ProfileBatch),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 403, description = "Not a service token", body = ErrorEnvelope),
        (status = 422, description = "ids missing or over 100", body = ErrorEnvelope),
    ))]
pub async fn batch(
    state: web::Data<AppState>,
    _caller: ServiceCaller,
    body: common::Json<BatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = FieldErrors::new();
    let ids = match body.into_inner().ids {
        None => {
            errors.add("ids", "is required");
            Vec::new()
        }
        Some(ids) if ids.len() > MAX_BATCH => {
            errors.add("ids", format!("must hold at most {MAX_BATCH} ids"));
            Vec::new()
        }
        Some(ids) => ids,
    };
    errors.into_result()?;
    let profiles = state
        .db
        .run(move |conn| db::profiles::find_many(conn, &ids))
        .await?;
    Ok(HttpResponse::Ok().json(ProfileBatch {
        items: profiles.into_iter().map(ProfileDto::from).collect(),
    }))
}
