//! Helpers of the end-to-end tests in `tests/`, which run through the real nginx
//! gateway of a running stack: `make test` starts one and sets `E2E_GATEWAY_URL`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const PASSWORD: &str = "correct horse battery staple";

pub fn gateway() -> String {
    std::env::var("E2E_GATEWAY_URL")
        .expect("E2E_GATEWAY_URL must point at a running gateway (make test sets it)")
}

pub fn mail_dir() -> PathBuf {
    std::env::var("E2E_MAIL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| testkit::workspace_root().join(".run/mail"))
}

/// A plain HTTP client, for requests a test shapes itself.
pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// The gateway, as every service's tests reach their application.
pub fn client() -> testkit::Client {
    testkit::Client::new(&gateway())
}

pub async fn call(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    client().send(method, path, token, body.as_ref()).await
}

/// An error answer of the gateway or a service behind it, in the envelope.
pub use testkit::api::assert_error as envelope;

pub fn email() -> String {
    format!("e2e-{}@example.com", uuid::Uuid::now_v7().simple())
}

/// Signs up a new account through the gateway; returns its email and the answer.
pub async fn signup(name: &str) -> (String, Value) {
    let address = email();
    let resp = call(
        Method::POST,
        "/api/auth/signup",
        None,
        Some(json!({"name": name, "email": address, "password": PASSWORD})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    (address, resp.json().await.unwrap())
}

/// Logs in as the bootstrap admin that `make test` configures
/// (`AUTH_BOOTSTRAP_ADMIN_EMAILS`), signing it up and verifying its address by
/// the mailed code the first time: the role comes with the verified address.
/// Returns the login answer.
pub async fn bootstrap_admin() -> Value {
    let email = std::env::var("E2E_ADMIN_EMAIL").expect("E2E_ADMIN_EMAIL (make test sets it)");
    let login = || async {
        let resp = call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": email, "password": PASSWORD})),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK, "the admin logs in");
        resp.json::<Value>().await.unwrap()
    };
    let resp = call(
        Method::POST,
        "/api/auth/signup",
        None,
        Some(json!({"name": "Admin", "email": email, "password": PASSWORD})),
    )
    .await;
    assert!(resp.status() == StatusCode::CREATED || resp.status() == StatusCode::CONFLICT);
    let admin = login().await;
    if admin["user"]["role"] == "admin" {
        return admin;
    }
    assert_eq!(
        admin["user"]["role"], "user",
        "not admin before verification"
    );
    let access = admin["accessToken"].as_str().unwrap();
    let before = testkit::mail::mails_to(&mail_dir(), &email).len();
    let resp = call(
        Method::POST,
        "/api/auth/email/verify/request",
        Some(access),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let mails = testkit::mail::wait_for_mails(&mail_dir(), &email, before + 1).await;
    let code = testkit::mail::code_after(mails.last().unwrap(), "verification code is", 6)
        .expect("a code in the mail");
    let resp = call(
        Method::POST,
        "/api/auth/email/verify",
        Some(access),
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let verified: Value = resp.json().await.unwrap();
    assert_eq!(verified["role"], "admin", "promoted at verification");
    let admin = login().await;
    assert_eq!(admin["user"]["role"], "admin");
    admin
}

/// Sends `request` as bytes to the gateway (paths an HTTP library would
/// normalize, request lines it would refuse to write); returns the status and
/// the JSON body.
pub async fn raw_http(request: &str) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = gateway().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    let json = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, json)
}

pub fn clerk_sim() -> String {
    std::env::var("E2E_CLERK_SIM_URL").unwrap_or_else(|_| "http://127.0.0.1:8091".to_owned())
}

/// A user created in clerk-sim, and a session token of theirs.
pub async fn clerk_user(first: &str) -> (String, String) {
    let user: Value = http()
        .post(format!("{}/__sim/users", clerk_sim()))
        .json(&json!({"firstName": first, "lastName": "E2E", "email": email()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = user["id"].as_str().unwrap().to_owned();
    let session: Value = http()
        .post(format!("{}/__sim/sessions", clerk_sim()))
        .json(&json!({"userId": id}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (id, session["token"].as_str().unwrap().to_owned())
}
