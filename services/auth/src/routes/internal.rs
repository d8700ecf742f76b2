//! JWKS, and the routes for other services (never routed by the gateway).

use actix_web::{web, HttpResponse};
use common::tokens::ServiceCaller;
use common::{ApiError, FieldErrors};
use secrecy::ExposeSecret;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::dto::{AdminUserDto, ErrorEnvelope, ServiceTokenResponse, UserBatch};
use crate::db;
use crate::errors;
use crate::state::AppState;
use crate::tokens;

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "keys",
    responses((status = 200, description = "Public signing keys (Ed25519, OKP)", body = Object)))]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(state.keys.jwks_document())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    #[schema(value_type = String, required = true)]
    pub client_id: Option<String>,
    #[schema(value_type = String, required = true)]
    pub client_secret: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchRequest {
    /// At most 100 user ids.
    #[schema(value_type = Vec<String>, required = true, max_items = 100)]
    pub ids: Option<Vec<String>>,
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

#[utoipa::path(post, path = "/internal/token", tag = "internal", request_body = TokenRequest,
    responses(
        (status = 200, description = "A service token (client credentials)", body = ServiceTokenResponse),
        (status = 401, description = "INVALID_CLIENT", body = ErrorEnvelope),
    ))]
pub async fn service_token(
    state: web::Data<AppState>,
    body: common::Json<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let invalid = || errors::invalid_client();
    let (Some(id), Some(secret)) = (body.client_id.as_deref(), body.client_secret.as_deref())
    else {
        return Err(invalid());
    };
    // Compare digests, so the comparison time says nothing about the secret.
    let presented = digest(secret);
    let known = state
        .settings
        .internal_clients()
        .into_iter()
        .any(|(cid, s)| cid == id && digest(s.expose_secret()) == presented);
    if !known {
        tracing::warn!(client.id = %id, "service token refused");
        return Err(invalid());
    }
    let (access_token, expires_in) = tokens::service_token_for(&state, id)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(ServiceTokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in,
        }))
}

#[utoipa::path(get, path = "/internal/users/{id}", tag = "internal", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = AdminUserDto),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 403, description = "Not a service token", body = ErrorEnvelope),
        (status = 404, description = "No such user", body = ErrorEnvelope),
    ))]
pub async fn user_by_id(
    state: web::Data<AppState>,
    _caller: ServiceCaller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let user = state
        .db
        .run(move |conn| db::users::find(conn, id))
        .await?
        .ok_or_else(|| ApiError::not_found("User"))?;
    Ok(HttpResponse::Ok().json(AdminUserDto::from(user)))
}

#[utoipa::path(post, path = "/internal/users/batch", tag = "internal", security(("bearer" = [])), request_body = BatchRequest,
    responses(
        (status = 200, description = "The users found, in no particular order", body = UserBatch),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 403, description = "Not a service token", body = ErrorEnvelope),
        (status = 422, description = "ids missing, over 100, or not UUIDs", body = ErrorEnvelope),
    ))]
pub async fn users_batch(
    state: web::Data<AppState>,
    _caller: ServiceCaller,
    body: common::Json<BatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = FieldErrors::new();
    let ids = match &body.ids {
        None => {
            errors.add("ids", "is required");
            Vec::new()
        }
        Some(ids) if ids.len() > 100 => {
            errors.add("ids", "must hold at most 100 ids");
            Vec::new()
        }
        Some(ids) => ids
            .iter()
            .filter_map(|raw| match Uuid::parse_str(raw) {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.add(
                        "ids",
                        format!(
                            "{} is not a user id",
                            raw.chars().take(64).collect::<String>()
                        ),
                    );
                    None
                }
            })
            .collect(),
    };
    errors.into_result()?;
    let users = state
        .db
        .run(move |conn| db::users::find_many(conn, &ids))
        .await?;
    Ok(HttpResponse::Ok().json(UserBatch {
        items: users.into_iter().map(AdminUserDto::from).collect(),
    }))
}
