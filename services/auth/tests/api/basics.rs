//! What every service answers the same way: errors, health, metrics, headers.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn unknown_routes_answer_in_the_envelope_with_the_request_id() {
    let app = spawn_app().await;
    let resp = app
        .request(Method::GET, "/api/auth/nope", None)
        .header("x-request-id", "client-chosen-id-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "client-chosen-id-1");
    let body = assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_eq!(body["error"]["requestId"], "client-chosen-id-1");
    // Wrong method on a known path: still the envelope, never actix's plain text.
    let resp = app.send(Method::PUT, "/api/auth/login", None, None).await;
    assert!(resp.status().is_client_error());
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"), "{ct}");
}

#[tokio::test]
async fn request_ids_are_generated_and_unsafe_ones_replaced() {
    let app = spawn_app().await;
    let resp = app.get("/health/live", None).await;
    let generated = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok());
    let resp = app
        .request(Method::GET, "/health/live", None)
        .header("x-request-id", "a b<script>")
        .send()
        .await
        .unwrap();
    assert_ne!(resp.headers()["x-request-id"], "a b<script>");
}

#[tokio::test]
async fn traceparent_is_continued() {
    let app = spawn_app().await;
    let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let resp = app
        .request(Method::GET, "/health/live", None)
        .header("traceparent", incoming)
        .send()
        .await
        .unwrap();
    let out = resp.headers()["traceparent"].to_str().unwrap();
    assert!(
        out.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{out}"
    );
    assert!(
        !out.contains("00f067aa0ba902b7"),
        "a new span id for this hop"
    );
}

#[tokio::test]
async fn security_headers_are_set() {
    let app = spawn_app().await;
    let resp = app.get("/health/live", None).await;
    let h = resp.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(
        h.get("strict-transport-security").is_none(),
        "HSTS only behind TLS"
    );
}

#[tokio::test]
async fn cors_allows_configured_origins_with_credentials() {
    let app = spawn_app_with(&[(
        "ALLOWED_ORIGINS",
        "https://app.example.com, http://localhost:3000",
    )])
    .await;
    let resp = app
        .request(Method::GET, "/health/live", None)
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(resp.headers()["access-control-allow-credentials"], "true");
    let resp = app
        .request(Method::GET, "/health/live", None)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let resp = app
        .request(Method::OPTIONS, "/api/auth/login", None)
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    let resp = app
        .request(Method::OPTIONS, "/api/auth/login", None)
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        resp.status().is_success() || ct.starts_with("application/json"),
        "refusals are JSON too"
    );
}

#[tokio::test]
async fn health_reports_its_dependencies() {
    let app = spawn_app().await;
    let resp = app.get("/health/live", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app.get("/health/ready", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["service"], "auth");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["redis"], "disabled");
    let body: Value = app.get("/health", None).await.json().await.unwrap();
    assert!(body["version"].is_string());
}

#[tokio::test]
async fn start_up_fails_loudly_on_an_unreachable_redis() {
    // A port nothing listens on: better no start than a replica that silently
    // cannot see revocations.
    let result =
        std::panic::AssertUnwindSafe(spawn_app_with(&[("REDIS_URL", "redis://127.0.0.1:1")]));
    let started = futures_util::FutureExt::catch_unwind(result).await;
    assert!(
        started.is_err(),
        "start-up must fail loudly on an unreachable Redis"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = spawn_app().await;
    let account = app.account().await;
    app.me(&account.access).await;
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/api/auth/me\""), "{text}");
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_connections"));
}

#[tokio::test]
async fn the_openapi_document_is_served_and_matches_proto_docs() {
    let app = spawn_app().await;
    let served: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    assert!(served["paths"]["/api/auth/signup"]["post"].is_object());
    let generated = auth::openapi::document_json().unwrap();
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../proto-docs/auth.openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "proto-docs/auth.openapi.json is out of date: run `make openapi` and commit it"
    );
}
