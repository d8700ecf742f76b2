use std::path::PathBuf;

use actix_web::web;
use auth::state::AppState;
use auth::Auth;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use testkit::{Client, Env, TestDb};

pub const PASSWORD: &str = "correct horse battery staple";
pub const ISSUER: &str = testkit::ISSUER;
pub const SERVICE_CLIENT: (&str, &str) = ("test-svc", "test-svc-secret");

pub struct TestApp {
    pub api: Client,
    pub mail_dir: PathBuf,
    pub state: web::Data<AppState>,
    pub db_url: String,
    _db: Option<TestDb>,
}

testkit::deref_to_client!(TestApp);

/// An account created through the API.
pub struct Account {
    pub id: String,
    pub email: String,
    pub password: String,
    pub access: String,
    pub refresh: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let db = TestDb::of::<Auth>().expect("test database");
    let url = db.url.clone();
    let mut app = spawn_app_on(&url, overrides).await;
    app._db = Some(db);
    app
}

/// The settings of a test instance on `db_url`.
pub fn test_env(db_url: &str, mail_dir: &std::path::Path) -> Env {
    Env::new(db_url).with(&[
        ("AUTH_INTERNAL_CLIENTS", "test-svc:test-svc-secret"),
        ("AUTH_HASH_CONCURRENCY", "2"),
        ("MAIL_DIR", &mail_dir.display().to_string()),
    ])
}

/// Starts another instance on an existing database (restarts, several replicas).
pub async fn spawn_app_on(db_url: &str, overrides: &[(&str, &str)]) -> TestApp {
    let mail_dir = testkit::mail::mail_dir();
    let spawned = testkit::spawn::<Auth>(test_env(db_url, &mail_dir).with(overrides)).await;
    TestApp {
        api: spawned.client,
        mail_dir,
        state: spawned.state,
        db_url: db_url.to_owned(),
        _db: None,
    }
}

pub fn unique_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::now_v7().simple())
}

impl TestApp {
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
        self.get_as("/api/auth/me", token).await
    }

    pub async fn logout(&self, token: &str) -> Response {
        self.send(Method::POST, "/api/auth/logout", Some(token), None)
            .await
    }

    pub async fn sessions(&self, token: &str) -> Response {
        self.get_as("/api/auth/sessions", token).await
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
        self.send(
            Method::GET,
            &format!("/api/auth/admin/users{query}"),
            token,
            None,
        )
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
        self.get("/.well-known/jwks.json").await
    }

    pub async fn internal_token(&self, body: &Value) -> Response {
        self.internal().post("/internal/token", None, body).await
    }

    pub async fn internal_user(&self, token: Option<&str>, id: &str) -> Response {
        self.internal()
            .send(Method::GET, &format!("/internal/users/{id}"), token, None)
            .await
    }

    pub async fn internal_batch(&self, token: Option<&str>, body: &Value) -> Response {
        self.internal()
            .post("/internal/users/batch", token, body)
            .await
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

    /// Requests a verification code, reads it from the mail and sends it back;
    /// returns the verified user.
    pub async fn verify_address(&self, account: &Account) -> Value {
        let resp = self.request_verification(Some(&account.access)).await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
        let mails = testkit::mail::mails_to(&self.mail_dir, &account.email);
        let last = mails.last().expect("a mail was written to the mail folder");
        let code = testkit::mail::code_after(last, "verification code is", 6)
            .expect("a 6-digit code in the mail");
        let resp = self
            .verify_email(Some(&account.access), &json!({ "code": code }))
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
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
            .internal_token(
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
