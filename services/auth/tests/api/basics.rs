//! What every service answers the same way: errors, health, metrics, headers.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

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
    let resp = app.get("/health/live").await;
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
    let resp = app.get("/health/live").await;
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
    let resp = app.get("/health/live").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app.get("/health/ready").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["service"], "auth");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["redis"], "disabled");
    let body: Value = app.get("/health").await.json().await.unwrap();
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
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/api/auth/me\""), "{text}");
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_connections"));
}

#[tokio::test]
async fn the_openapi_document_is_served_and_matches_proto_docs() {
    let app = spawn_app().await;
    testkit::app::assert_openapi_committed::<auth::Auth>(&app).await;
}

/// Per-address limits key on the client only when the peer is a trusted proxy:
/// from anyone else, `X-Real-IP` is ignored (a client cannot pick an address per
/// request to escape its limit).
#[tokio::test]
async fn x_real_ip_is_believed_only_from_trusted_proxies() {
    // Tests connect from loopback, which is trusted by default: two addresses,
    // two budgets.
    let app = spawn_app_with(&[("AUTH_RL_SIGNUP_PER_IP_PER_HOUR", "1")]).await;
    let first = testkit::Client::new(&app.address);
    let second = testkit::Client::new(&app.address);
    let signup = |client: &testkit::Client| {
        let client = client.clone();
        async move {
            client
                .post(
                    "/api/auth/signup",
                    None,
                    &json!({"name": "Proxy", "email": unique_email(), "password": PASSWORD}),
                )
                .await
                .status()
        }
    };
    assert_eq!(signup(&first).await, StatusCode::CREATED);
    assert_eq!(signup(&second).await, StatusCode::CREATED);
    assert_eq!(signup(&first).await, StatusCode::TOO_MANY_REQUESTS);

    // Nobody trusted: the header is ignored and both share the peer's budget.
    let untrusting = spawn_app_with(&[
        ("AUTH_RL_SIGNUP_PER_IP_PER_HOUR", "1"),
        ("TRUSTED_PROXIES", ""),
    ])
    .await;
    let first = testkit::Client::new(&untrusting.address);
    let second = testkit::Client::new(&untrusting.address);
    assert_eq!(signup(&first).await, StatusCode::CREATED);
    assert_eq!(signup(&second).await, StatusCode::TOO_MANY_REQUESTS);
}

/// An idle connection stays open longer than the gateway keeps its pooled ones
/// (75 s here, 60 s there), so the gateway never sends a request down a
/// connection the service is closing (a sporadic 502). actix's default was 5 s.
#[tokio::test]
async fn idle_connections_outlive_the_gateway_s_upstream_keepalive() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut buffer = vec![0u8; 4096];
    stream.write_all(request).await.unwrap();
    let n = stream.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"));
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    stream.write_all(request).await.unwrap();
    let n = stream.read(&mut buffer).await.unwrap();
    assert!(
        n > 0 && String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"),
        "the connection was closed while idle"
    );
}

/// A known path with a method it does not take: 405 in the envelope, with
/// `Allow`; an unknown path stays 404.
#[tokio::test]
async fn other_methods_on_a_known_path_are_405_with_allow() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (Method::PUT, "/api/auth/me", "GET, PATCH"),
        (Method::GET, "/api/auth/login", "POST"),
        (Method::DELETE, "/.well-known/jwks.json", "GET"),
        (Method::TRACE, "/api/auth/sessions", "GET"),
    ] {
        let resp = app
            .request(method.clone(), path, None)
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.headers()["allow"].to_str().unwrap(),
            allow,
            "{method} {path}"
        );
        let body = assert_error(resp, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").await;
        assert!(body["error"]["message"].as_str().unwrap().contains(allow));
    }
    let resp = app
        .request(Method::PUT, "/api/auth/nope", None)
        .send()
        .await
        .unwrap();
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    // The internal routes are not on this listener at all.
    let resp = app.post("/internal/token", None, &json!({})).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

/// A body must be a JSON object where the document says so: an array (which
/// serde would read field by field) or another type is 400, and changes nothing.
#[tokio::test]
async fn bodies_that_are_not_objects_are_400_and_change_nothing() {
    let app = spawn_app().await;
    let account = app.account().await;
    for body in [
        json!(["Renamed By Array"]),
        json!([]),
        json!("name"),
        json!(7),
    ] {
        let resp = app.patch_me(Some(&account.access), &body).await;
        assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    }
    let resp = app
        .post(
            "/api/auth/login",
            None,
            &json!([account.email, account.password]),
        )
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let resp = app
        .post("/api/auth/refresh", None, &json!([account.refresh]))
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let me: Value = app.me(&account.access).await.json().await.unwrap();
    assert_eq!(me["name"], "Ada Lovelace");
}
