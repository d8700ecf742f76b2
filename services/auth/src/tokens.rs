//! Issuing tokens: access JWTs for users and services, opaque refresh tokens,
//! and the cookie that carries the refresh token in browsers.

use actix_web::cookie::{time, Cookie, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::tokens::{AccessClaims, Role};
use common::ApiError;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::models::User;
use crate::state::AppState;

pub const REFRESH_COOKIE: &str = "reelstack_refresh";

/// A fresh 256-bit opaque token and the hash stored in its place.
pub fn new_opaque_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Signs an access token for a user's session; returns it with its lifetime.
pub fn access_token_for(
    state: &AppState,
    user: &User,
    session_id: Uuid,
) -> Result<(String, i64), ApiError> {
    let ttl = state.settings.auth_access_token_ttl_secs;
    let role = Role::parse(&user.role).unwrap_or(Role::User);
    let claims = claims(
        state,
        user.id.to_string(),
        role,
        Some(session_id.to_string()),
        ttl,
        Some((user.email.clone(), user.email_verified)),
    );
    Ok((state.keys.sign(&claims)?, ttl))
}

/// Signs a client-credentials token for another service.
pub fn service_token_for(state: &AppState, client_id: &str) -> Result<(String, i64), ApiError> {
    let ttl = state.settings.auth_service_token_ttl_secs;
    let claims = claims(
        state,
        format!("service:{client_id}"),
        Role::Service,
        None,
        ttl,
        None,
    );
    Ok((state.keys.sign(&claims)?, ttl))
}

fn claims(
    state: &AppState,
    sub: String,
    role: Role,
    sid: Option<String>,
    ttl: i64,
    email: Option<(String, bool)>,
) -> AccessClaims {
    let now = chrono::Utc::now().timestamp();
    let (email, email_verified) = match email {
        Some((e, v)) => (Some(e), v),
        None => (None, false),
    };
    AccessClaims {
        iss: state.common.auth_issuer.clone(),
        sub,
        aud: state.common.jwt_audience.clone(),
        exp: now + ttl,
        iat: now,
        nbf: now,
        jti: Uuid::now_v7().to_string(),
        sid,
        role,
        email,
        email_verified,
    }
}

pub fn refresh_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(REFRESH_COOKIE, token.to_owned())
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/api/auth")
        .secure(state.common.behind_tls)
        .max_age(time::Duration::seconds(
            state.settings.auth_refresh_token_ttl_secs,
        ))
        .finish()
}

pub fn cleared_cookie(state: &AppState) -> Cookie<'static> {
    let mut cookie = refresh_cookie(state, "");
    cookie.make_removal();
    cookie
}
