//! Access-token verification for every service: trusted issuers with cached JWKS,
//! algorithm allow-list, `iss`/`aud`/`exp`/`nbf`/`typ` checks, Clerk's `azp`, and
//! session revocation held in memory (fed through Redis), so no request needs a
//! network round-trip to know a session was revoked.

mod extract;
mod revocation;
mod verifier;

use serde::{Deserialize, Serialize};

pub use extract::{bearer_token, AdminUser, MaybeUser, ServiceCaller};
pub use revocation::{RevocationList, REVOCATION_CHANNEL, REVOCATION_SET};
pub use verifier::{IssuerConfig, JwksSource, TokenError, TokenVerifier};

/// The `typ` header of first-party access tokens (RFC 9068).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Roles carried by first-party tokens; tokens of external issuers are always `User`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
    Service,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
            Self::Service => "service",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "user" => Some(Self::User),
            "admin" => Some(Self::Admin),
            "service" => Some(Self::Service),
            _ => None,
        }
    }
}

/// The caller, as proven by a verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    /// `sub`: our users are UUIDs, Clerk users `user_…`.
    pub subject: String,
    /// The configured name of the issuer (`reelstack`, `clerk`).
    pub issuer: String,
    pub role: Role,
    /// `sid`, when the token belongs to a session.
    pub session_id: Option<String>,
    pub email: Option<String>,
    /// `exp` of the token, seconds since the epoch.
    pub expires_at: i64,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Claims of a first-party access token, as auth signs them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
}
