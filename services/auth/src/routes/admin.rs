//! Admin-only user management.

use actix_web::{web, HttpResponse};
use common::pagination::{Page, PageQuery};
use common::tokens::AdminUser;
use common::{ApiError, FieldErrors};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dto::{AdminUserDto, AdminUserPage, ErrorEnvelope};
use crate::db;
use crate::db::outbox::UserEvent;
use crate::db::users::AdminChanges;
use crate::errors;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminUserQuery {
    /// Page number, 1-10000 (default 1).
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<i64>,
    /// Items per page, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Matches email or name, case-insensitively (at most 100 characters; blank: all).
    #[param(format = "text-or-blank", max_length = 100)]
    pub q: Option<String>,
}

/// The roles an admin can give.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code, reason = "documentation only")]
pub enum AssignableRole {
    User,
    Admin,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AdminUpdateRequest {
    #[schema(value_type = Option<AssignableRole>, inline)]
    pub role: Option<String>,
    /// `true` disables the account and ends its sessions.
    pub disabled: Option<bool>,
}

#[utoipa::path(get, path = "/api/auth/admin/users", tag = "admin", security(("bearer" = [])), params(AdminUserQuery),
    responses(
        (status = 200, description = "Users, newest first", body = AdminUserPage),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 403, description = "Not an admin", body = ErrorEnvelope),
        (status = 422, description = "Invalid page, limit or q", body = ErrorEnvelope),
    ))]
pub async fn list_users(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<AdminUserQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let params = PageQuery {
        page: query.page,
        limit: query.limit,
    }
    .validate()?;
    let q = query
        .q
        .as_deref()
        .map(|q| common::domain::optional_text(q, 100))
        .transpose()
        .map_err(|e| ApiError::validation("q", &e))?
        .flatten();
    let (users, total) = state
        .db
        .run(move |conn| db::users::admin_list(conn, q.as_deref(), params.limit, params.offset()))
        .await?;
    let items: Vec<AdminUserDto> = users.into_iter().map(AdminUserDto::from).collect();
    Ok(HttpResponse::Ok().json(Page::new(items, params, total)))
}

#[utoipa::path(patch, path = "/api/auth/admin/users/{id}", tag = "admin", security(("bearer" = [])), request_body = AdminUpdateRequest,
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The updated user; disabling or a role change revokes every session of the user", body = AdminUserDto),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 403, description = "Not an admin", body = ErrorEnvelope),
        (status = 404, description = "No such user", body = ErrorEnvelope),
        (status = 409, description = "CANNOT_CHANGE_SELF: admins cannot disable or demote themselves", body = ErrorEnvelope),
        (status = 422, description = "Invalid role", body = ErrorEnvelope),
    ))]
pub async fn update_user(
    state: web::Data<AppState>,
    admin: AdminUser,
    path: web::Path<Uuid>,
    body: common::Json<AdminUpdateRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    if let Some(role) = &body.role {
        if role != "user" && role != "admin" {
            errors.add("role", "must be user or admin");
        }
    }
    errors.into_result()?;
    let demotes_self = body.role.as_deref() == Some("user") || body.disabled == Some(true);
    if demotes_self && admin.0.subject == id.to_string() {
        return Err(errors::cannot_change_self());
    }
    let changes = AdminChanges {
        role: body.role,
        disabled: body.disabled,
    };
    let disable = changes.disabled == Some(true);
    let (user, revoked) = state
        .db
        .run(move |conn| {
            use diesel::Connection;
            conn.transaction(|conn| {
                let Some(before) = db::users::find(conn, id)? else {
                    return Ok((None, Vec::new()));
                };
                let Some(user) = db::users::admin_update(conn, id, &changes)? else {
                    return Ok((None, Vec::new()));
                };
                // Tokens carry the role: after a change, every session must sign
                // in again, or a demoted admin's token would still say admin.
                let role_changed = user.role != before.role;
                // The directory hears of disabling, and of enabling again (as an update
                // that brings the profile back); a role change is none of its business.
                match changes.disabled {
                    Some(true) => db::outbox::record(conn, &user, UserEvent::Disabled)?,
                    Some(false) => db::outbox::record(conn, &user, UserEvent::Updated)?,
                    None => {}
                }
                let revoked = if disable {
                    db::sessions::revoke_all(conn, id, None, "account_disabled")?
                } else if role_changed {
                    db::sessions::revoke_all(conn, id, None, "role_changed")?
                } else {
                    Vec::new()
                };
                Ok((Some(user), revoked))
            })
        })
        .await?;
    let user = user.ok_or_else(|| ApiError::not_found("User"))?;
    state.outbox_wake.notify_one();
    state.publish_revocations(&revoked).await;
    tracing::info!(admin.id = %admin.0.subject, user.id = %id, revoked = revoked.len(), "user updated by admin");
    Ok(HttpResponse::Ok().json(AdminUserDto::from(user)))
}
