//! Signup, login, refresh, logout.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use common::ratelimit::Limit;
use common::tokens::AuthUser;
use common::{ApiError, FieldErrors};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::dto::{AuthResponse, ErrorEnvelope};
use super::required;
use crate::db;
use crate::db::models::{NewUser, User};
use crate::db::outbox::UserEvent;
use crate::db::sessions::RefreshOutcome;
use crate::domain::email::redact;
use crate::domain::{DisplayName, Email, NewPassword};
use crate::errors;
use crate::state::AppState;
use crate::tokens::{self, REFRESH_COOKIE};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignupRequest {
    /// Up to 100 characters, not only white space.
    #[schema(value_type = String, required = true, format = "text", max_length = 100)]
    pub name: Option<String>,
    #[schema(value_type = String, required = true, format = Email, max_length = 254)]
    pub email: Option<String>,
    /// 8-128 characters, not rated weak (zxcvbn), not the name or email.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128)]
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    #[schema(value_type = String, required = true, max_length = 254)]
    pub email: Option<String>,
    #[schema(value_type = String, required = true, max_length = 1024)]
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    /// The refresh token; without it, the `reelstack_refresh` cookie is used.
    #[schema(max_length = 256)]
    pub refresh_token: Option<String>,
}

fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(512).collect())
}

/// Opens a session and answers with the user, the token pair and the cookie.
async fn start_session(
    state: &AppState,
    req: &HttpRequest,
    user: User,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let (refresh, hash) = tokens::new_opaque_token();
    let ttl = chrono::Duration::seconds(state.settings.auth_refresh_token_ttl_secs);
    let (ua, ip, user_id) = (user_agent(req), Some(state.client_ip(req)), user.id);
    let session = state
        .db
        .run(move |conn| db::sessions::create(conn, user_id, ua, ip, hash, ttl))
        .await?;
    token_response(state, user, session.id, refresh, status)
}

fn token_response(
    state: &AppState,
    user: User,
    session_id: Uuid,
    refresh: String,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let (access, expires_in) = tokens::access_token_for(state, &user, session_id)?;
    Ok(HttpResponse::build(status)
        .cookie(tokens::refresh_cookie(state, &refresh))
        .insert_header(("Cache-Control", "no-store"))
        .json(AuthResponse {
            user: user.into(),
            access_token: access,
            token_type: "Bearer",
            expires_in,
            refresh_token: refresh,
        }))
}

#[utoipa::path(post, path = "/api/auth/signup", tag = "account", request_body = SignupRequest,
    responses(
        (status = 201, description = "Account created, session started", body = AuthResponse),
        (status = 400, description = "Malformed JSON", body = ErrorEnvelope),
        (status = 409, description = "EMAIL_TAKEN", body = ErrorEnvelope),
        (status = 422, description = "Invalid name, email or password", body = ErrorEnvelope),
        (status = 429, description = "Too many signups from this address", body = ErrorEnvelope),
    ))]
pub async fn signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: common::Json<SignupRequest>,
) -> Result<HttpResponse, ApiError> {
    let ip = state.client_ip(&req);
    state
        .limiter
        .check(
            &Limit::per_hour("signup_ip", state.settings.auth_rl_signup_per_ip_per_hour),
            &ip,
        )
        .await?;
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let name = required(
        &mut errors,
        "name",
        body.name.as_deref(),
        DisplayName::parse,
    );
    let email = required(&mut errors, "email", body.email.as_deref(), Email::parse);
    let inputs: Vec<&str> = [body.name.as_deref(), body.email.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let password = required(&mut errors, "password", body.password.as_deref(), |p| {
        NewPassword::parse(p, &inputs)
    });
    errors.into_result()?;
    let (Some(name), Some(email), Some(password)) = (name, email, password) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let email = email.into_inner();
    let lookup = email.clone();
    if state
        .db
        .run(move |conn| db::users::find_by_email(conn, &lookup))
        .await?
        .is_some()
    {
        return Err(errors::email_taken());
    }
    let password_hash = state.passwords.hash(password.into_secret()).await?;
    // A bootstrap admin email gets the role when it is verified, not at signup:
    // whoever signs up first with the address must not become admin.
    let new = NewUser {
        id: Uuid::now_v7(),
        email,
        name: name.into_inner(),
        password_hash,
        role: "user".to_owned(),
    };
    let user = state
        .db
        .run(move |conn| {
            use diesel::Connection;
            conn.transaction(|conn| {
                let user = db::users::insert(conn, &new)?;
                db::outbox::record(conn, &user, UserEvent::Created)?;
                Ok(user)
            })
        })
        .await?;
    state.outbox_wake.notify_one();
    tracing::info!(user.id = %user.id, user.email = %redact(&user.email), "account created");
    start_session(&state, &req, user, StatusCode::CREATED).await
}

#[utoipa::path(post, path = "/api/auth/login", tag = "account", request_body = LoginRequest,
    responses(
        (status = 200, description = "Session started", body = AuthResponse),
        (status = 401, description = "INVALID_CREDENTIALS, for an unknown email and a wrong password alike", body = ErrorEnvelope),
        (status = 403, description = "ACCOUNT_DISABLED", body = ErrorEnvelope),
        (status = 422, description = "Missing email or password", body = ErrorEnvelope),
        (status = 429, description = "Too many attempts", body = ErrorEnvelope),
    ))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: common::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let ip = state.client_ip(&req);
    state
        .limiter
        .check(
            &Limit::per_minute("login_ip", state.settings.auth_rl_login_per_ip_per_min),
            &ip,
        )
        .await?;
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let email = required(&mut errors, "email", body.email.as_deref(), |e| {
        Ok::<_, &str>(e.trim().to_lowercase())
    });
    let password = required(&mut errors, "password", body.password.as_deref(), |p| {
        if p.chars().count() > 1024 {
            Err("must be at most 1024 characters")
        } else {
            Ok(SecretString::from(p.to_owned()))
        }
    });
    errors.into_result()?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    state
        .limiter
        .check(
            &Limit::per_minute(
                "login_account",
                state.settings.auth_rl_login_per_account_per_min,
            ),
            &email,
        )
        .await?;
    let lookup = email.clone();
    let user = state
        .db
        .run(move |conn| db::users::find_by_email(conn, &lookup))
        .await?;
    let Some(user) = user else {
        state.passwords.verify_dummy(password).await?;
        tracing::info!(user.email = %redact(&email), "login failed: unknown account");
        return Err(errors::invalid_credentials());
    };
    let check = state
        .passwords
        .verify(&user.password_hash, password.clone())
        .await?;
    if !check.matches {
        tracing::info!(user.id = %user.id, "login failed: wrong password");
        return Err(errors::invalid_credentials());
    }
    if user.disabled {
        return Err(errors::account_disabled());
    }
    if check.needs_rehash {
        let hash = state.passwords.hash(password).await?;
        let id = user.id;
        state
            .db
            .run(move |conn| db::users::set_password_hash(conn, id, &hash))
            .await?;
        tracing::info!(user.id = %id, "password hash upgraded to current parameters");
    }
    start_session(&state, &req, user, StatusCode::OK).await
}

#[utoipa::path(post, path = "/api/auth/refresh", tag = "account", request_body(content = Option<RefreshRequest>, description = "Optional when the refresh cookie is sent"),
    responses(
        (status = 200, description = "A new token pair; the presented refresh token is rotated out", body = AuthResponse),
        (status = 401, description = "INVALID_REFRESH_TOKEN, or REFRESH_TOKEN_REUSED (the session is revoked)", body = ErrorEnvelope),
        (status = 429, description = "Too many refreshes", body = ErrorEnvelope),
    ))]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let ip = state.client_ip(&req);
    state
        .limiter
        .check(
            &Limit::per_minute("refresh_ip", state.settings.auth_rl_refresh_per_ip_per_min),
            &ip,
        )
        .await?;
    // The body is optional (browsers send the cookie): empty or `null` is none.
    let from_body = common::json::optional_object::<RefreshRequest>(&body)?
        .and_then(|parsed| parsed.refresh_token);
    let presented = from_body
        .or_else(|| req.cookie(REFRESH_COOKIE).map(|c| c.value().to_owned()))
        .filter(|t| !t.is_empty() && t.len() <= 256)
        .ok_or_else(|| errors::invalid_refresh_token("A refresh token is required"))?;
    let presented_hash = tokens::hash_token(&presented);
    let ttl = chrono::Duration::seconds(state.settings.auth_refresh_token_ttl_secs);
    let grace = chrono::Duration::seconds(state.settings.auth_refresh_grace_secs);
    let outcome = state
        .db
        .run(move |conn| {
            db::sessions::rotate(
                conn,
                &presented_hash,
                tokens::new_opaque_token(),
                ttl,
                grace,
            )
        })
        .await?;
    match outcome {
        RefreshOutcome::Issued {
            user,
            session_id,
            token,
        } => token_response(&state, user, session_id, token, StatusCode::OK),
        RefreshOutcome::Reused { session_id } => {
            tracing::warn!(session.id = %session_id, "rotated refresh token reused; session revoked");
            state.publish_revocations(&[session_id]).await;
            Err(errors::refresh_token_reused())
        }
        RefreshOutcome::Invalid => Err(errors::invalid_refresh_token(
            "The refresh token is invalid or expired",
        )),
    }
}

fn session_of(user: &AuthUser) -> Option<Uuid> {
    user.session_id
        .as_deref()
        .and_then(|s| Uuid::parse_str(s).ok())
}

pub(crate) fn user_id_of(user: &AuthUser) -> Result<Uuid, ApiError> {
    if user.issuer != common::issuer::FIRST_PARTY {
        return Err(ApiError::Forbidden(
            "Only accounts of this service can use this route".to_owned(),
        ));
    }
    Uuid::parse_str(&user.subject).map_err(|_| ApiError::Forbidden("Not a user token".to_owned()))
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "account", security(("bearer" = [])),
    responses(
        (status = 204, description = "The current session is revoked and the cookie cleared"),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorEnvelope),
    ))]
pub async fn logout(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let user_id = user_id_of(&user)?;
    if let Some(sid) = session_of(&user) {
        let revoked = state
            .db
            .run(move |conn| db::sessions::revoke_one(conn, user_id, sid, "logout"))
            .await?;
        if revoked {
            state.publish_revocations(&[sid]).await;
        }
    }
    Ok(HttpResponse::NoContent()
        .cookie(tokens::cleared_cookie(&state))
        .finish())
}

#[utoipa::path(post, path = "/api/auth/logout-all", tag = "account", security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session of the user is revoked"),
        (status = 401, description = "Missing, invalid or revoked token", body = ErrorEnvelope),
    ))]
pub async fn logout_all(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let user_id = user_id_of(&user)?;
    let revoked = state
        .db
        .run(move |conn| db::sessions::revoke_all(conn, user_id, None, "logout_all"))
        .await?;
    state.publish_revocations(&revoked).await;
    Ok(HttpResponse::NoContent()
        .cookie(tokens::cleared_cookie(&state))
        .finish())
}
