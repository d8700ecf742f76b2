#![allow(clippy::expect_used, reason = "test helpers fail loudly")]
//! What every service's tests start an application with: one environment
//! builder ([`Env`]), [`spawn`] (the real application on loopback, through the
//! same `Service::build` the binary uses), and one HTTP client core ([`Client`])
//! that each service's `TestApp` wraps with a method per endpoint, and that the
//! end-to-end tests point at the gateway.

use actix_web::web;
use common::runner::Service;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

/// The first-party issuer of every test (tokens minted by tests carry it).
pub const ISSUER: &str = "http://reelstack.test";

/// Settings of an application under test.
#[derive(Debug, Clone)]
pub struct Env(Vec<(String, String)>);

impl Env {
    /// Local mode on loopback, free ports, one worker, a small pool, no migrations
    /// at start (the test database is cloned from a migrated template), the test
    /// issuer, and the given database.
    pub fn new(database_url: &str) -> Self {
        let base = [
            ("APP_ENV", "local"),
            ("HOST", "127.0.0.1"),
            ("PORT", "0"),
            ("INTERNAL_PORT", "0"),
            ("WORKERS", "1"),
            ("DB_POOL_MAX_SIZE", "4"),
            ("MIGRATE_ON_START", "false"),
            ("AUTH_ISSUER", ISSUER),
            ("JWT_AUDIENCE", "reelstack"),
            ("DATABASE_URL", database_url),
        ];
        Self(
            base.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    /// Sets `key`, replacing what was there.
    pub fn set(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_owned(), value.into()));
        self
    }

    /// Sets every pair, in order.
    pub fn with<K: AsRef<str>, V: AsRef<str>>(self, overrides: &[(K, V)]) -> Self {
        overrides
            .iter()
            .fold(self, |env, (k, v)| env.set(k.as_ref(), v.as_ref()))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn into_vars(self) -> Vec<(String, String)> {
        self.0
    }
}

/// Settings pairs kept by a test (to start replicas with the same ones).
pub fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A started application: the client of its public listener (and internal one,
/// when it has one) and what it hands its tests.
pub struct Spawned<S> {
    pub client: Client,
    pub state: S,
}

/// Builds `S` from `env` exactly as its binary would, and serves it in the
/// background until the test's runtime ends.
pub async fn spawn<S: Service>(env: Env) -> Spawned<web::Data<S::State>> {
    crate::init_tracing();
    let settings = S::settings_from(env.into_vars()).expect("settings");
    let app = S::build(settings).await.expect("application builds");
    let mut client = Client::new(&format!("http://127.0.0.1:{}", app.port()));
    client.internal = app
        .internal_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    Spawned { client, state }
}

/// HTTP to one application (or the gateway): every request carries this
/// client's own `X-Real-IP`, so per-address limits of parallel tests never meet.
#[derive(Debug, Clone)]
pub struct Client {
    pub address: String,
    /// The internal listener, for services with `/internal` routes.
    pub internal: Option<String>,
    pub http: reqwest::Client,
    pub ip: String,
}

impl Client {
    pub fn new(address: &str) -> Self {
        Self {
            address: address.trim_end_matches('/').to_owned(),
            internal: None,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
            ip: crate::unique_ip(),
        }
    }

    /// The same client, sent to the internal listener.
    pub fn internal(&self) -> Client {
        Client {
            address: self
                .internal
                .clone()
                .expect("this application has no internal listener"),
            internal: None,
            ..self.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let mut req = self
            .http
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

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, None, None).await
    }

    pub async fn get_as(&self, path: &str, token: &str) -> Response {
        self.send(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send(Method::POST, path, token, Some(body)).await
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Response {
        self.send(method, path, token, Some(body)).await
    }

    pub async fn delete_as(&self, path: &str, token: &str) -> Response {
        self.send(Method::DELETE, path, Some(token), None).await
    }

    /// Raw bytes with a content type, for malformed-input tests.
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
}

/// The document `S` serves is the one committed as `proto-docs/<name>.openapi.json`
/// (`UPDATE_OPENAPI=1` writes it; `make openapi` does that for every service).
pub async fn assert_openapi_committed<S: Service>(client: &Client) {
    let generated =
        common::openapi::committed_json(&S::openapi()).expect("the document serializes");
    let served = client.get("/openapi.json").await;
    assert_eq!(served.status(), reqwest::StatusCode::OK);
    let served: Value = served.json().await.expect("JSON document");
    let expected: Value = serde_json::from_str(&generated).expect("JSON document");
    assert_eq!(served, expected, "the served document is the generated one");
    let path = crate::workspace_root().join(format!("proto-docs/{}.openapi.json", S::NAME));
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("proto-docs writable");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date: run `make openapi` and commit it",
        path.display()
    );
}
