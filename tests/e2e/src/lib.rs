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

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

pub async fn call(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = client().request(method, format!("{}{}", gateway(), path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("gateway reachable")
}

pub async fn envelope(resp: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(resp.status(), status);
    let header_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(
        resp.headers().get_all("x-request-id").iter().count(),
        1,
        "one X-Request-Id header"
    );
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["requestId"], header_id.as_str());
    body
}

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
