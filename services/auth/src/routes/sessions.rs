//! The caller's sessions: list and revoke one.

use actix_web::{web, HttpResponse};
use common::tokens::AuthUser;
use common::ApiError;
use uuid::Uuid;

use super::account::user_id_of;
use super::dto::{ErrorEnvelope, SessionDto, SessionList};
use crate::db;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/auth/sessions", tag = "sessions", security(("bearer" = [])),
    responses(
        (status = 200, description = "Active sessions of the caller, most recently used first", body = SessionList),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
    ))]
pub async fn list(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let id = user_id_of(&user)?;
    let sessions = state
        .db
        .run(move |conn| db::sessions::list_active(conn, id))
        .await?;
    let current = user.session_id.as_deref();
    let items = sessions
        .into_iter()
        .map(|s| SessionDto::new(s, current))
        .collect();
    Ok(HttpResponse::Ok().json(SessionList { items }))
}

#[utoipa::path(delete, path = "/api/auth/sessions/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 204, description = "Session revoked"),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 404, description = "No active session of the caller by that id", body = ErrorEnvelope),
    ))]
pub async fn revoke(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user_id = user_id_of(&user)?;
    let session_id = path.into_inner();
    let revoked = state
        .db
        .run(move |conn| db::sessions::revoke_one(conn, user_id, session_id, "revoked_by_user"))
        .await?;
    if !revoked {
        return Err(ApiError::not_found("Session"));
    }
    state.publish_revocations(&[session_id]).await;
    Ok(HttpResponse::NoContent().finish())
}
