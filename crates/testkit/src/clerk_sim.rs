//! clerk-sim: a fake of Clerk for the tests and for `make run` (the `clerk-sim`
//! binary, port 8091): RS256 session tokens with Clerk's v2 claims and their JWKS,
//! the Backend API's `GET /v1/users/{id}` behind the secret key, and Svix-signed
//! `user.*` webhooks.
//!
//! HTTP: `GET /.well-known/jwks.json`, `GET /v1/users/{id}` (Bearer secret key), and
//! for tests and local use `POST /__sim/users {firstName, lastName, email, imageUrl?}`,
//! `PATCH /__sim/users/{id}`, `DELETE /__sim/users/{id}`,
//! `POST /__sim/sessions {userId, azp?, ttlSecs?}` -> `{token}`,
//! `POST /__sim/webhooks {url, type, userId}` (delivers a signed event) and
//! `POST /__sim/outage {down}` (the Backend API answers 503).

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde::Deserialize;
use serde_json::{json, Value};

pub const DEFAULT_SECRET_KEY: &str = "sk_test_clerksim";
pub const DEFAULT_AUTHORIZED_PARTY: &str = "http://localhost:3000";

/// One RSA key per process: generating one takes a while even optimized.
struct SigningKey {
    kid: String,
    der: Vec<u8>,
    n: String,
    e: String,
}

fn signing_key() -> anyhow::Result<&'static SigningKey> {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    if let Some(key) = KEY.get() {
        return Ok(key);
    }
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)?;
    let der = private.to_pkcs1_der()?.as_bytes().to_vec();
    let key = SigningKey {
        kid: format!("ins_{}", random_id(12)),
        n: URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
        e: URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        der,
    };
    Ok(KEY.get_or_init(|| key))
}

fn random_id(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut raw);
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A user as the fake keeps it.
#[derive(Debug, Clone)]
pub struct ClerkUser {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub image_url: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ClerkUser {
    /// Clerk's Backend API User object.
    pub fn to_json(&self) -> Value {
        let email_id = format!("idn_{}", self.id.trim_start_matches("user_"));
        json!({
            "id": self.id,
            "object": "user",
            "username": null,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "image_url": self.image_url,
            "has_image": self.image_url.is_some(),
            "primary_email_address_id": email_id,
            "email_addresses": [{
                "id": email_id,
                "object": "email_address",
                "email_address": self.email,
                "verification": {"status": "verified", "strategy": "email_code"},
            }],
            "public_metadata": {},
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub image_url: Option<String>,
}

/// A webhook as Svix would send it: the body and its three headers.
#[derive(Debug, Clone)]
pub struct SignedWebhook {
    pub id: String,
    pub timestamp: i64,
    pub body: String,
    pub signature: String,
}

impl SignedWebhook {
    pub fn headers(&self) -> [(&'static str, String); 3] {
        [
            ("svix-id", self.id.clone()),
            ("svix-timestamp", self.timestamp.to_string()),
            ("svix-signature", self.signature.clone()),
        ]
    }
}

pub struct ClerkState {
    issuer: String,
    secret_key: String,
    webhook_secret: String,
    users: Mutex<HashMap<String, ClerkUser>>,
    down: AtomicBool,
    api_requests: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl ClerkState {
    pub fn create_user(&self, first: &str, last: &str, email: &str) -> ClerkUser {
        let now = now_ms();
        let user = ClerkUser {
            id: format!("user_{}", random_id(12)),
            email: email.to_owned(),
            first_name: Some(first.to_owned()),
            last_name: Some(last.to_owned()),
            image_url: None,
            created_at: now,
            updated_at: now,
        };
        lock(&self.users).insert(user.id.clone(), user.clone());
        user
    }

    pub fn update_user(&self, id: &str, changes: &UserChanges) -> Option<ClerkUser> {
        let mut users = lock(&self.users);
        let user = users.get_mut(id)?;
        if let Some(v) = &changes.first_name {
            user.first_name = Some(v.clone());
        }
        if let Some(v) = &changes.last_name {
            user.last_name = Some(v.clone());
        }
        if let Some(v) = &changes.email {
            user.email = v.clone();
        }
        if let Some(v) = &changes.image_url {
            user.image_url = Some(v.clone());
        }
        // Clerk's timestamps are milliseconds; keep them strictly increasing.
        user.updated_at = now_ms().max(user.updated_at + 1);
        Some(user.clone())
    }

    pub fn delete_user(&self, id: &str) -> bool {
        lock(&self.users).remove(id).is_some()
    }

    pub fn user(&self, id: &str) -> Option<ClerkUser> {
        lock(&self.users).get(id).cloned()
    }

    /// A session token for `user_id`; `extra` claims override the defaults.
    pub fn session_token(&self, user_id: &str, extra: &Value) -> anyhow::Result<String> {
        let key = signing_key()?;
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "azp": DEFAULT_AUTHORIZED_PARTY,
            "exp": now + 60,
            "fva": [0, -1],
            "iat": now,
            "iss": self.issuer,
            "jti": random_id(10),
            "nbf": now - 5,
            "sid": format!("sess_{}", random_id(12)),
            "sub": user_id,
            "v": 2,
        });
        if let (Some(base), Some(overrides)) = (claims.as_object_mut(), extra.as_object()) {
            for (k, v) in overrides {
                base.insert(k.clone(), v.clone());
            }
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        Ok(jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_rsa_der(&key.der),
        )?)
    }

    /// A `user.created`, `user.updated` or `user.deleted` event, signed now.
    pub fn webhook(&self, event_type: &str, user_id: &str) -> SignedWebhook {
        let data = match (event_type, self.user(user_id)) {
            ("user.deleted", _) | (_, None) => {
                json!({"deleted": true, "id": user_id, "object": "user"})
            }
            (_, Some(user)) => user.to_json(),
        };
        let body = json!({
            "data": data,
            "object": "event",
            "type": event_type,
            "timestamp": now_ms(),
            "instance_id": "ins_clerksim",
        })
        .to_string();
        self.sign(
            &format!("msg_{}", random_id(12)),
            chrono::Utc::now().timestamp(),
            body,
        )
    }

    /// Signs `body` as Svix does: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`
    /// keyed with the decoded part of `whsec_…`.
    pub fn sign(&self, id: &str, timestamp: i64, body: String) -> SignedWebhook {
        let signature = svix_signature(&self.webhook_secret, id, timestamp, &body);
        SignedWebhook {
            id: id.to_owned(),
            timestamp,
            body,
            signature: format!("v1,{signature}"),
        }
    }

    pub fn webhook_secret(&self) -> &str {
        &self.webhook_secret
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Requests to the Backend API (`/v1/...`) so far.
    pub fn api_requests(&self) -> u64 {
        self.api_requests.load(Ordering::SeqCst)
    }
}

/// The base64 HMAC-SHA256 Svix puts after `v1,`.
pub fn svix_signature(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let key_bytes = STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap_or_default();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key_bytes);
    let tag = ring::hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    STANDARD.encode(tag.as_ref())
}

async fn jwks() -> HttpResponse {
    match signing_key() {
        Ok(key) => HttpResponse::Ok().json(json!({"keys": [{
            "use": "sig", "kty": "RSA", "kid": key.kid, "alg": "RS256", "n": key.n, "e": key.e,
        }]})),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

fn clerk_error(status: actix_web::http::StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "errors": [{"message": message, "long_message": message, "code": code}],
        "clerk_trace_id": random_id(8),
    }))
}

async fn backend_user(
    req: HttpRequest,
    state: web::Data<ClerkState>,
    id: web::Path<String>,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    state.api_requests.fetch_add(1, Ordering::SeqCst);
    if state.down.load(Ordering::SeqCst) {
        return clerk_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "Unavailable",
        );
    }
    let authorized = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        == Some(state.secret_key.as_str());
    if !authorized {
        return clerk_error(
            StatusCode::UNAUTHORIZED,
            "authentication_invalid",
            "Invalid authentication",
        );
    }
    match state.user(&id) {
        Some(user) => HttpResponse::Ok().json(user.to_json()),
        None => clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewUser {
    first_name: String,
    last_name: String,
    email: String,
    image_url: Option<String>,
}

async fn create_user(state: web::Data<ClerkState>, body: web::Json<NewUser>) -> HttpResponse {
    let user = state.create_user(&body.first_name, &body.last_name, &body.email);
    let user = match &body.image_url {
        Some(url) => state
            .update_user(
                &user.id,
                &UserChanges {
                    image_url: Some(url.clone()),
                    ..UserChanges::default()
                },
            )
            .unwrap_or(user),
        None => user,
    };
    HttpResponse::Created().json(user.to_json())
}

async fn update_user(
    state: web::Data<ClerkState>,
    id: web::Path<String>,
    body: web::Json<UserChanges>,
) -> HttpResponse {
    match state.update_user(&id, &body) {
        Some(user) => HttpResponse::Ok().json(user.to_json()),
        None => HttpResponse::NotFound().finish(),
    }
}

async fn delete_user(state: web::Data<ClerkState>, id: web::Path<String>) -> HttpResponse {
    if state.delete_user(&id) {
        HttpResponse::NoContent().finish()
    } else {
        HttpResponse::NotFound().finish()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionRequest {
    user_id: String,
    azp: Option<String>,
    ttl_secs: Option<i64>,
}

async fn create_session(
    state: web::Data<ClerkState>,
    body: web::Json<SessionRequest>,
) -> HttpResponse {
    let mut extra = json!({});
    if let Some(azp) = &body.azp {
        extra["azp"] = json!(azp);
    }
    if let Some(ttl) = body.ttl_secs {
        extra["exp"] = json!(chrono::Utc::now().timestamp() + ttl);
    }
    match state.session_token(&body.user_id, &extra) {
        Ok(token) => HttpResponse::Ok().json(json!({"token": token})),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

#[derive(Deserialize)]
struct DeliverRequest {
    url: String,
    #[serde(rename = "type")]
    event_type: String,
    #[serde(rename = "userId")]
    user_id: String,
}

async fn deliver_webhook(
    state: web::Data<ClerkState>,
    body: web::Json<DeliverRequest>,
) -> HttpResponse {
    let hook = state.webhook(&body.event_type, &body.user_id);
    let mut request = reqwest::Client::new()
        .post(&body.url)
        .header("content-type", "application/json")
        .body(hook.body.clone());
    for (name, value) in hook.headers() {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(resp) => {
            HttpResponse::Ok().json(json!({"svixId": hook.id, "status": resp.status().as_u16()}))
        }
        Err(e) => HttpResponse::BadGateway().json(json!({"error": e.to_string()})),
    }
}

#[derive(Deserialize)]
struct OutageRequest {
    down: bool,
}

async fn outage(state: web::Data<ClerkState>, body: web::Json<OutageRequest>) -> HttpResponse {
    state.set_down(body.down);
    HttpResponse::NoContent().finish()
}

/// What a fake is started with; `None` picks a default.
#[derive(Debug, Clone, Default)]
pub struct ClerkSimOptions {
    /// The `iss` of its tokens (default: its own URL).
    pub issuer: Option<String>,
    /// The Backend API secret key (default `sk_test_clerksim`).
    pub secret_key: Option<String>,
    /// `whsec_…` (default: a fresh random one).
    pub webhook_secret: Option<String>,
}

/// A running clerk-sim, in this process.
pub struct ClerkSim {
    /// `http://127.0.0.1:<port>`; also the token issuer (`iss`).
    pub url: String,
    pub jwks_url: String,
    /// The Backend API base (`CLERK_API_URL`).
    pub api_url: String,
    pub secret_key: String,
    /// `whsec_…` (`CLERK_WEBHOOK_SECRET`).
    pub webhook_secret: String,
    pub authorized_party: String,
    state: Arc<ClerkState>,
    handle: ServerHandle,
}

impl ClerkSim {
    /// Starts a fake on a free loopback port with fresh secrets.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_on("127.0.0.1:0", ClerkSimOptions::default())
    }

    pub fn start_on(addr: &str, options: ClerkSimOptions) -> anyhow::Result<Self> {
        signing_key()?;
        let listener = TcpListener::bind(addr)?;
        let port = listener.local_addr()?.port();
        let url = format!("http://127.0.0.1:{port}");
        let webhook_secret = options.webhook_secret.unwrap_or_else(|| {
            let mut secret = [0u8; 24];
            rand::thread_rng().fill_bytes(&mut secret);
            format!("whsec_{}", STANDARD.encode(secret))
        });
        let state = Arc::new(ClerkState {
            issuer: options.issuer.unwrap_or_else(|| url.clone()),
            secret_key: options
                .secret_key
                .unwrap_or_else(|| DEFAULT_SECRET_KEY.to_owned()),
            webhook_secret,
            users: Mutex::new(HashMap::new()),
            down: AtomicBool::new(false),
            api_requests: AtomicU64::new(0),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/.well-known/jwks.json", web::get().to(jwks))
                .route("/v1/users/{id}", web::get().to(backend_user))
                .route("/__sim/users", web::post().to(create_user))
                .route("/__sim/users/{id}", web::patch().to(update_user))
                .route("/__sim/users/{id}", web::delete().to(delete_user))
                .route("/__sim/sessions", web::post().to(create_session))
                .route("/__sim/webhooks", web::post().to(deliver_webhook))
                .route("/__sim/outage", web::post().to(outage))
                .route(
                    "/health",
                    web::get().to(|| async { HttpResponse::Ok().json(json!({"status": "ok"})) }),
                )
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self {
            jwks_url: format!("{url}/.well-known/jwks.json"),
            api_url: url.clone(),
            webhook_secret: state.webhook_secret.clone(),
            secret_key: state.secret_key.clone(),
            authorized_party: DEFAULT_AUTHORIZED_PARTY.to_owned(),
            url,
            state,
            handle,
        })
    }

    pub fn state(&self) -> &ClerkState {
        &self.state
    }

    pub fn issuer(&self) -> &str {
        &self.state.issuer
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

impl std::ops::Deref for ClerkSim {
    type Target = ClerkState;

    fn deref(&self) -> &ClerkState {
        &self.state
    }
}

/// A token of any RSA algorithm, header `typ` and claims, signed with the key
/// clerk-sim publishes (as `RS256`), for tests of what verifiers refuse.
pub fn rsa_token(alg: Algorithm, typ: Option<&str>, claims: &Value) -> anyhow::Result<String> {
    let key = signing_key()?;
    let mut header = Header::new(alg);
    header.kid = Some(key.kid.clone());
    header.typ = typ.map(str::to_owned);
    Ok(jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_der(&key.der),
    )?)
}
