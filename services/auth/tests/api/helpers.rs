use std::path::PathBuf;

use actix_web::web;
use auth::config::Settings;
use auth::state::AppState;
use auth::Application;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use testkit::TestDb;

pub const PASSWORD: &str = "correct horse battery staple";
pub const ISSUER: &str = "http://reelstack.test";
pub const SERVICE_CLIENT: (&str, &str) = ("test-svc", "test-svc-secret");

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub mail_dir: PathBuf,
    /// Sent as `X-Real-IP`: this app's own client address for rate limits.
    pub ip: String,
    pub state: web::Data<AppState>,
    pub db_url: String,
    _db: Option<TestDb>,
}

/// An account created through the API.
pub struct Account {
    pub id: String,
    pub email: String,
    pub password: String,
    pub access: String,
    pub refresh: String,
}

fn migrations_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../migrations/auth")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let db =
        TestDb::create("auth", auth::db::MIGRATIONS, &migrations_dir()).expect("test database");
    let url = db.url.clone();
    let mut app = spawn_app_on(&url, overrides).await;
    app._db = Some(db);
    app
}

/// Starts another instance on an existing database (restarts, several replicas).
pub async fn spawn_app_on(db_url: &str, overrides: &[(&str, &str)]) -> TestApp {
    testkit::init_tracing();
    let mail_dir = testkit::mail::mail_dir();
    let mut vars: Vec<(String, String)> = [
        ("APP_ENV", "local"),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("WORKERS", "1"),
        ("DB_POOL_MAX_SIZE", "4"),
        ("MIGRATE_ON_START", "false"),
        ("AUTH_ISSUER", ISSUER),
        ("JWT_AUDIENCE", "reelstack"),
        ("AUTH_INTERNAL_CLIENTS", "test-svc:test-svc-secret"),
        ("AUTH_HASH_CONCURRENCY", "2"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    vars.push(("DATABASE_URL".into(), db_url.to_owned()));
    vars.push(("MAIL_DIR".into(), mail_dir.display().to_string()));
    for (k, v) in overrides {
        vars.retain(|(key, _)| key != k);
        vars.push((k.to_string(), v.to_string()));
    }
    let settings = Settings::load_from(vars).expect("settings");
    let app = Application::build(settings)
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        mail_dir,
        ip: testkit::unique_ip(),
        state,
        db_url: db_url.to_owned(),
        _db: None,
    }
}

pub fn unique_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::now_v7().simple())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("x-real-ip", &self.ip);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self.request(method, path, token);
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.expect("request sent")
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send(Method::POST, path, token, Some(body)).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.send(Method::GET, path, token, None).await
    }

    /// Sends raw bytes with a content type, for malformed-input tests.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Response {
        self.request(Method::POST, path, token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn signup(&self, name: &str, email: &str, password: &str) -> Response {
        self.post(
            "/api/auth/signup",
            None,
            &json!({ "name": name, "email": email, "password": password }),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/auth/login",
            None,
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn refresh(&self, token: &str) -> Response {
        self.post("/api/auth/refresh", None, &json!({ "refreshToken": token }))
            .await
    }

    pub async fn me(&self, token: &str) -> Response {
        self.get("/api/auth/me", Some(token)).await
    }

    pub async fn logout(&self, token: &str) -> Response {
        self.send(Method::POST, "/api/auth/logout", Some(token), None)
            .await
    }

    pub async fn sessions(&self, token: &str) -> Response {
        self.get("/api/auth/sessions", Some(token)).await
    }

    pub async fn logout_all(&self, token: &str) -> Response {
        self.send(Method::POST, "/api/auth/logout-all", Some(token), None)
            .await
    }

    pub async fn patch_me(&self, token: Option<&str>, body: &Value) -> Response {
        self.send(Method::PATCH, "/api/auth/me", token, Some(body))
            .await
    }

    pub async fn change_password(&self, token: Option<&str>, body: &Value) -> Response {
        self.post("/api/auth/password", token, body).await
    }

    pub async fn revoke_session(&self, token: Option<&str>, id: &str) -> Response {
        self.send(
            Method::DELETE,
            &format!("/api/auth/sessions/{id}"),
            token,
            None,
        )
        .await
    }

    pub async fn request_verification(&self, token: Option<&str>) -> Response {
        self.post("/api/auth/email/verify/request", token, &json!({}))
            .await
    }

    pub async fn verify_email(&self, token: Option<&str>, body: &Value) -> Response {
        self.post("/api/auth/email/verify", token, body).await
    }

    pub async fn request_reset(&self, body: &Value) -> Response {
        self.post("/api/auth/password/reset/request", None, body)
            .await
    }

    pub async fn reset_password(&self, body: &Value) -> Response {
        self.post("/api/auth/password/reset", None, body).await
    }

    pub async fn admin_users(&self, token: Option<&str>, query: &str) -> Response {
        self.get(&format!("/api/auth/admin/users{query}"), token)
            .await
    }

    pub async fn admin_update(&self, token: Option<&str>, id: &str, body: &Value) -> Response {
        self.send(
            Method::PATCH,
            &format!("/api/auth/admin/users/{id}"),
            token,
            Some(body),
        )
        .await
    }

    pub async fn jwks(&self) -> Response {
        self.get("/.well-known/jwks.json", None).await
    }

    pub async fn internal_token(&self, body: &Value) -> Response {
        self.post("/internal/token", None, body).await
    }

    pub async fn internal_user(&self, token: Option<&str>, id: &str) -> Response {
        self.get(&format!("/internal/users/{id}"), token).await
    }

    pub async fn internal_batch(&self, token: Option<&str>, body: &Value) -> Response {
        self.post("/internal/users/batch", token, body).await
    }

    /// Signs up a fresh account and returns it with its first token pair.
    pub async fn account(&self) -> Account {
        self.account_with_email(&unique_email()).await
    }

    pub async fn account_with_email(&self, email: &str) -> Account {
        let resp = self.signup("Ada Lovelace", email, PASSWORD).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "signup failed");
        let body: Value = resp.json().await.unwrap();
        Account {
            id: body["user"]["id"].as_str().unwrap().to_owned(),
            email: body["user"]["email"].as_str().unwrap().to_owned(),
            password: PASSWORD.to_owned(),
            access: body["accessToken"].as_str().unwrap().to_owned(),
            refresh: body["refreshToken"].as_str().unwrap().to_owned(),
        }
    }

    /// Logs the account in again: a second session.
    pub async fn second_session(&self, account: &Account) -> (String, String) {
        let resp = self.login(&account.email, &account.password).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        (
            body["accessToken"].as_str().unwrap().to_owned(),
            body["refreshToken"].as_str().unwrap().to_owned(),
        )
    }

    /// An account with the admin role (through the bootstrap list of a second
    /// instance on the same database would be slower; the role is set directly).
    pub async fn admin(&self) -> Account {
        let account = self.account().await;
        let id = uuid::Uuid::parse_str(&account.id).unwrap();
        self.state
            .db
            .run(move |conn| {
                use diesel::prelude::*;
                diesel::sql_query("UPDATE users SET role = 'admin' WHERE id = $1")
                    .bind::<diesel::sql_types::Uuid, _>(id)
                    .execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
        let (access, refresh) = self.second_session(&account).await;
        Account {
            access,
            refresh,
            ..account
        }
    }

    pub async fn service_token(&self) -> String {
        let resp = self
            .post(
                "/internal/token",
                None,
                &json!({ "clientId": SERVICE_CLIENT.0, "clientSecret": SERVICE_CLIENT.1 }),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        body["accessToken"].as_str().unwrap().to_owned()
    }
}

/// A token with valid-looking claims and a kid nobody published (a forgery).
pub fn forged_token(sub: &str) -> String {
    let forger = testkit::issuer::TestKey::generate("forged");
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": ISSUER, "aud": "reelstack", "sub": sub, "exp": now + 300, "iat": now, "nbf": now, "role": "admin"});
    testkit::issuer::raw_token(
        &json!({"alg": "EdDSA", "typ": "at+jwt", "kid": forger.kid}),
        &claims,
        &[7u8; 64],
    )
}

/// A token signed by auth's own current key but already expired.
pub fn expired_token(app: &TestApp, sub: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = common::tokens::AccessClaims {
        iss: ISSUER.into(),
        sub: sub.into(),
        aud: "reelstack".into(),
        exp: now - 3600,
        iat: now - 4500,
        nbf: now - 4500,
        jti: "expired".into(),
        sid: None,
        role: common::tokens::Role::User,
        email: None,
        email_verified: false,
    };
    app.state.keys.sign(&claims).unwrap()
}

pub use testkit::api::{assert_error, error_fields};
