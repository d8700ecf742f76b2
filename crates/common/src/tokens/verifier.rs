use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;

use sha2::{Digest, Sha256};

use super::{AuthUser, RevocationList, Role, ACCESS_TOKEN_TYP};

/// Verified tokens remembered at most this long (and never past their `exp`).
const VERIFIED_TTL: Duration = Duration::from_secs(60);
const VERIFIED_CAPACITY: u64 = 4096;
use crate::config::{split_list, CommonSettings};
use crate::error::ApiError;

/// Where an issuer's public keys come from.
#[derive(Clone)]
pub enum JwksSource {
    /// A JWKS document fetched over HTTP and cached.
    Http(String),
    /// A key set held in memory by this process (auth verifying its own tokens).
    Shared(Arc<RwLock<JwkSet>>),
}

/// One trusted issuer.
#[derive(Clone)]
pub struct IssuerConfig {
    /// The name services store beside the subject (`reelstack`, `clerk`).
    pub name: String,
    /// The exact `iss` value.
    pub issuer: String,
    pub jwks: JwksSource,
    /// Required `aud`; `None` skips the check (Clerk session tokens carry none).
    pub audience: Option<String>,
    pub algorithms: Vec<Algorithm>,
    /// Required `typ` header, compared case-insensitively, `application/` prefix allowed.
    pub required_typ: Option<String>,
    /// Accepted `azp` values; a token with another `azp` is refused.
    pub authorized_parties: Option<Vec<String>>,
    /// Only first-party tokens may carry the `admin` and `service` roles and
    /// session ids that the revocation list speaks about.
    pub first_party: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("untrusted issuer")]
    UntrustedIssuer,
    #[error("algorithm not allowed")]
    AlgorithmNotAllowed,
    #[error("wrong token type")]
    WrongType,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("invalid signature")]
    InvalidSignature,
    #[error("invalid claims")]
    InvalidClaims,
    #[error("unauthorized party")]
    UnauthorizedParty,
    #[error("session revoked")]
    Revoked,
    #[error("keys unavailable")]
    KeysUnavailable,
}

impl TokenError {
    fn reason(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UntrustedIssuer => "untrusted_issuer",
            Self::AlgorithmNotAllowed => "algorithm_not_allowed",
            Self::WrongType => "wrong_type",
            Self::UnknownKey => "unknown_key",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::InvalidSignature => "invalid_signature",
            Self::InvalidClaims => "invalid_claims",
            Self::UnauthorizedParty => "unauthorized_party",
            Self::Revoked => "session_revoked",
            Self::KeysUnavailable => "keys_unavailable",
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(err: TokenError) -> Self {
        if err == TokenError::KeysUnavailable {
            return ApiError::Unavailable("Token keys unavailable, retry later".to_owned());
        }
        ApiError::Coded {
            status: actix_web::http::StatusCode::UNAUTHORIZED,
            code: "UNAUTHENTICATED",
            message: format!("Invalid access token: {err}"),
            details: Some(json!({ "reason": err.reason() })),
        }
    }
}

/// A published key, with the algorithm its JWK names (`alg`), if it names one.
#[derive(Clone)]
struct PublishedKey {
    key: DecodingKey,
    alg: Option<String>,
}

struct IssuerState {
    config: IssuerConfig,
    keys: RwLock<HashMap<String, PublishedKey>>,
    /// When a refetch for an unknown `kid` last happened; also serializes fetches.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    fetches: AtomicU64,
}

/// Verifies access tokens of the configured issuers. Cheap to share (`web::Data`).
pub struct TokenVerifier {
    issuers: Vec<IssuerState>,
    http: reqwest::Client,
    leeway: u64,
    min_refetch: Duration,
    revocations: RevocationList,
    /// SHA-256 of a token that passed every check, to the caller it proved. A client
    /// sends the same token for minutes; this skips the signature check, never the
    /// expiry or revocation checks.
    verified: moka::sync::Cache<[u8; 32], AuthUser>,
}

#[derive(Deserialize)]
struct PeekClaims {
    iss: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

impl TokenVerifier {
    pub fn new(
        issuers: Vec<IssuerConfig>,
        leeway: u64,
        min_refetch: Duration,
        revocations: RevocationList,
    ) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            issuers: issuers
                .into_iter()
                .map(|config| IssuerState {
                    config,
                    keys: RwLock::new(HashMap::new()),
                    last_fetch: tokio::sync::Mutex::new(None),
                    fetches: AtomicU64::new(0),
                })
                .collect(),
            http,
            leeway,
            min_refetch,
            revocations,
            verified: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_CAPACITY)
                .time_to_live(VERIFIED_TTL)
                .build(),
        }
    }

    /// The first-party issuer (keys from `AUTH_JWKS_URL`, or `own_keys` inside auth)
    /// and Clerk when `CLERK_ISSUER` is set.
    pub fn from_settings(
        settings: &CommonSettings,
        own_keys: Option<Arc<RwLock<JwkSet>>>,
        revocations: RevocationList,
    ) -> Self {
        let mut issuers = vec![IssuerConfig {
            name: crate::issuer::FIRST_PARTY.to_owned(),
            issuer: settings.auth_issuer.clone(),
            jwks: match own_keys {
                Some(keys) => JwksSource::Shared(keys),
                None => JwksSource::Http(settings.auth_jwks_url.clone()),
            },
            audience: Some(settings.jwt_audience.clone()),
            // auth signs with Ed25519 only; any other algorithm is a forgery attempt.
            algorithms: vec![Algorithm::EdDSA],
            required_typ: Some(ACCESS_TOKEN_TYP.to_owned()),
            authorized_parties: None,
            first_party: true,
        }];
        if let Some(clerk_issuer) = settings.clerk_issuer.as_ref().filter(|s| !s.is_empty()) {
            let jwks_url = settings
                .clerk_jwks_url
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| {
                    format!(
                        "{}/.well-known/jwks.json",
                        clerk_issuer.trim_end_matches('/')
                    )
                });
            issuers.push(IssuerConfig {
                name: crate::issuer::CLERK.to_owned(),
                issuer: clerk_issuer.clone(),
                jwks: JwksSource::Http(jwks_url),
                audience: None,
                algorithms: vec![Algorithm::RS256],
                required_typ: None,
                authorized_parties: settings
                    .clerk_authorized_parties
                    .as_deref()
                    .map(split_list)
                    .filter(|l| !l.is_empty()),
                first_party: false,
            });
        }
        Self::new(
            issuers,
            settings.jwt_leeway_secs,
            Duration::from_secs(settings.jwks_min_refetch_secs),
            revocations,
        )
    }

    pub async fn verify(&self, token: &str) -> Result<AuthUser, TokenError> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(user) = self.verified.get(&digest) {
            let now = chrono::Utc::now().timestamp();
            let leeway = i64::try_from(self.leeway).unwrap_or(0);
            if user.expires_at + leeway >= now {
                self.check_revocation(&user)?;
                return Ok(user);
            }
            self.verified.invalidate(&digest);
        }
        let user = self.verify_uncached(token).await?;
        self.verified.insert(digest, user.clone());
        self.check_revocation(&user)?;
        Ok(user)
    }

    fn check_revocation(&self, user: &AuthUser) -> Result<(), TokenError> {
        let first_party = self
            .issuers
            .iter()
            .any(|i| i.config.first_party && i.config.name == user.issuer);
        match &user.session_id {
            Some(sid) if first_party && self.revocations.contains(sid) => Err(TokenError::Revoked),
            _ => Ok(()),
        }
    }

    /// Every check but revocation, which [`Self::verify`] makes for cached and
    /// fresh tokens alike.
    async fn verify_uncached(&self, token: &str) -> Result<AuthUser, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        let iss = peek_issuer(token)?;
        let issuer = self
            .issuers
            .iter()
            .find(|i| i.config.issuer == iss)
            .ok_or(TokenError::UntrustedIssuer)?;
        let config = &issuer.config;
        if !config.algorithms.contains(&header.alg) {
            return Err(TokenError::AlgorithmNotAllowed);
        }
        if let Some(required) = &config.required_typ {
            let typ = header.typ.as_deref().unwrap_or("").to_ascii_lowercase();
            let typ = typ.strip_prefix("application/").unwrap_or(&typ);
            if typ != required.as_str() {
                return Err(TokenError::WrongType);
            }
        }
        let kid = header.kid.as_deref().ok_or(TokenError::UnknownKey)?;
        let published = self.key_for(issuer, kid).await?;
        // A key published for one algorithm never verifies a token of another.
        if published
            .alg
            .as_deref()
            .is_some_and(|alg| Some(alg) != algorithm_name(header.alg).as_deref())
        {
            return Err(TokenError::AlgorithmNotAllowed);
        }
        let key = published.key;

        let mut validation = Validation::new(header.alg);
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        validation.set_issuer(&[&config.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        match &config.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        let data =
            jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(map_jwt_error)?;
        let claims = data.claims;

        if let (Some(parties), Some(azp)) = (&config.authorized_parties, &claims.azp) {
            if !parties.iter().any(|p| p == azp) {
                return Err(TokenError::UnauthorizedParty);
            }
        }
        let role = if config.first_party {
            claims
                .role
                .as_deref()
                .map(|r| Role::parse(r).ok_or(TokenError::InvalidClaims))
                .transpose()?
                .unwrap_or(Role::User)
        } else {
            Role::User
        };
        Ok(AuthUser {
            subject: claims.sub,
            issuer: config.name.clone(),
            role,
            session_id: claims.sid,
            email: claims.email,
            expires_at: claims.exp,
        })
    }

    async fn key_for(&self, issuer: &IssuerState, kid: &str) -> Result<PublishedKey, TokenError> {
        if let Some(key) = cached_key(issuer, kid) {
            return Ok(key);
        }
        // One refetch at a time per issuer, and not more often than `min_refetch`,
        // so a flood of tokens with made-up `kid`s cannot hammer the issuer.
        // The first load is free; refetches for an unknown `kid` are limited.
        let mut last = issuer.last_fetch.lock().await;
        if let Some(key) = cached_key(issuer, kid) {
            return Ok(key);
        }
        // A failed fetch also waits, so an issuer that is down is not hit per request.
        let loaded = issuer.fetches.load(Ordering::SeqCst) > 0;
        if last.is_some_and(|at| at.elapsed() < self.min_refetch) {
            return Err(if loaded {
                TokenError::UnknownKey
            } else {
                TokenError::KeysUnavailable
            });
        }
        if loaded {
            *last = Some(Instant::now());
        }
        let set = match self.fetch(&issuer.config.jwks).await {
            Ok(set) => set,
            Err(e) => {
                *last = Some(Instant::now());
                return Err(e);
            }
        };
        issuer.fetches.fetch_add(1, Ordering::SeqCst);
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(id) = jwk.common.key_id.clone() else {
                continue;
            };
            if matches!(
                jwk.common.public_key_use,
                Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
            ) {
                continue;
            }
            let alg = jwk
                .common
                .key_algorithm
                .and_then(|a| serde_json::to_value(a).ok())
                .and_then(|v| v.as_str().map(str::to_owned));
            match DecodingKey::from_jwk(jwk) {
                Ok(key) => {
                    keys.insert(id, PublishedKey { key, alg });
                }
                Err(e) => {
                    tracing::warn!(issuer = %issuer.config.name, kid = %id, error = %e, "unusable JWK skipped")
                }
            }
        }
        let found = keys.get(kid).cloned();
        if let Ok(mut guard) = issuer.keys.write() {
            *guard = keys;
        }
        found.ok_or(TokenError::UnknownKey)
    }

    async fn fetch(&self, source: &JwksSource) -> Result<JwkSet, TokenError> {
        match source {
            JwksSource::Shared(set) => set
                .read()
                .map(|s| s.clone())
                .map_err(|_| TokenError::KeysUnavailable),
            JwksSource::Http(url) => {
                let response = self.http.get(url).send().await.map_err(|e| {
                    tracing::warn!(%url, error = %e, "JWKS fetch failed");
                    TokenError::KeysUnavailable
                })?;
                if !response.status().is_success() {
                    tracing::warn!(%url, status = %response.status(), "JWKS fetch refused");
                    return Err(TokenError::KeysUnavailable);
                }
                response.json::<JwkSet>().await.map_err(|e| {
                    tracing::warn!(%url, error = %e, "JWKS document not understood");
                    TokenError::KeysUnavailable
                })
            }
        }
    }
}

fn cached_key(issuer: &IssuerState, kid: &str) -> Option<PublishedKey> {
    issuer.keys.read().ok()?.get(kid).cloned()
}

/// The JOSE name of an algorithm (`EdDSA`, `RS256`), as a JWK's `alg` spells it.
fn algorithm_name(alg: Algorithm) -> Option<String> {
    serde_json::to_value(alg)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

fn peek_issuer(token: &str) -> Result<String, TokenError> {
    let payload = token.split('.').nth(1).ok_or(TokenError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Malformed)?;
    let peek: PeekClaims = serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
    peek.iss.ok_or(TokenError::InvalidClaims)
}

fn map_jwt_error(err: jsonwebtoken::errors::Error) -> TokenError {
    use jsonwebtoken::errors::ErrorKind as K;
    match err.kind() {
        K::ExpiredSignature => TokenError::Expired,
        K::ImmatureSignature => TokenError::NotYetValid,
        K::InvalidSignature => TokenError::InvalidSignature,
        K::InvalidAlgorithm | K::InvalidAlgorithmName => TokenError::AlgorithmNotAllowed,
        K::InvalidIssuer | K::InvalidAudience | K::MissingRequiredClaim(_) | K::InvalidSubject => {
            TokenError::InvalidClaims
        }
        K::InvalidToken | K::Base64(_) | K::Json(_) | K::Utf8(_) => TokenError::Malformed,
        _ => TokenError::InvalidSignature,
    }
}
