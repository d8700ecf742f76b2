//! What every route shares: the committed OpenAPI document, health, tokens
//! (missing, forged, expired), malformed bodies and undeclared methods.

use reqwest::{Method, StatusCode};
use serde_json::json;
use social::Social;

use crate::helpers::*;

#[tokio::test]
async fn the_openapi_document_is_committed_and_served() {
    let app = spawn_app().await;
    testkit::app::assert_openapi_committed::<Social>(&app.api).await;
}

#[tokio::test]
async fn health_reports_the_database_and_redis() {
    let app = spawn_app().await;
    let body = app.read("/health/ready", None).await;
    assert_eq!(body["service"], "social");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["redis"], "ok");
}

/// Every route that needs a caller, with a body where it takes one.
fn signed_in_routes(video: &str, comment: &str, user: &str) -> Vec<(Method, String)> {
    vec![
        (Method::POST, "/api/videos".to_owned()),
        (Method::PATCH, format!("/api/videos/{video}")),
        (Method::DELETE, format!("/api/videos/{video}")),
        (Method::PUT, format!("/api/videos/{video}/like")),
        (Method::DELETE, format!("/api/videos/{video}/like")),
        (Method::POST, format!("/api/videos/{video}/comments")),
        (Method::DELETE, format!("/api/comments/{comment}")),
        (Method::PUT, format!("/api/comments/{comment}/like")),
        (Method::DELETE, format!("/api/comments/{comment}/like")),
        (Method::PUT, format!("/api/users/{user}/follow")),
        (Method::DELETE, format!("/api/users/{user}/follow")),
        (Method::GET, format!("/api/users/{user}/likes")),
        (Method::GET, "/api/feed/following".to_owned()),
        (Method::GET, "/api/notifications".to_owned()),
        (Method::GET, "/api/notifications/unread-count".to_owned()),
        (Method::POST, "/api/notifications/read".to_owned()),
        (Method::GET, "/api/notifications/stream".to_owned()),
    ]
}

#[tokio::test]
async fn signed_in_routes_refuse_missing_forged_and_malformed_tokens() {
    let app = spawn_app().await;
    let owner = app.user("Owner").await;
    let video = app.video(&owner, "hello").await;
    let video_id = video["id"].as_str().unwrap();
    let comment: serde_json::Value = app
        .post(
            &format!("/api/videos/{video_id}/comments"),
            Some(&owner.token),
            &json!({"text": "first"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let comment_id = comment["id"].as_str().unwrap();
    let forged = app.forged_token(&owner.id).await;
    for (method, path) in signed_in_routes(video_id, comment_id, &owner.id) {
        let body = json!({"caption": "x", "videoUrl": "https://x.io/v.mp4", "text": "x"});
        let resp = app.send(method.clone(), &path, None, Some(&body)).await;
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        let resp = app
            .send(method.clone(), &path, Some(&forged), Some(&body))
            .await;
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        let resp = app
            .request(method.clone(), &path, None)
            .header("authorization", "Bearer not.a.jwt")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
    // Public routes too refuse a bad token rather than treat it as anonymous.
    let resp = app
        .send(
            Method::GET,
            &format!("/api/videos/{video_id}"),
            Some(&forged),
            None,
        )
        .await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    // Nothing was written by any of them.
    let video = app.read(&format!("/api/videos/{video_id}"), None).await;
    assert_eq!(video["likeCount"], 0);
    assert_eq!(video["commentCount"], 1);
    assert_eq!(video["caption"], "hello");
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let world = World::start(&[("AUTH_ACCESS_TOKEN_TTL_SECS", "1")]).await;
    let app = spawn_in(world, &[("JWT_LEEWAY_SECS", "0")]).await;
    let user = app.account("Soon Expired").await;
    let resp = app.get_as("/api/feed/following", &user.token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let resp = app.get_as("/api/feed/following", &user.token).await;
    let body = assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    assert_eq!(body["error"]["details"]["reason"], "expired");
}

#[tokio::test]
async fn malformed_bodies_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let user = app.user("Careful").await;
    let video = app.video(&user, "keep me").await;
    let id = video["id"].as_str().unwrap();
    for (path, method) in [
        ("/api/videos".to_owned(), Method::POST),
        (format!("/api/videos/{id}"), Method::PATCH),
        (format!("/api/videos/{id}/comments"), Method::POST),
    ] {
        for raw in [
            "{",
            "[]",
            "\"text\"",
            "42",
            "{\"caption\": 5, \"text\": 5, \"videoUrl\": []}",
        ] {
            let resp = app
                .request(method.clone(), &path, Some(&user.token))
                .header("content-type", "application/json")
                .body(raw)
                .send()
                .await
                .unwrap();
            assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
        }
        let resp = app
            .request(method.clone(), &path, Some(&user.token))
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_error(
            resp,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        .await;
        let huge = json!({"caption": "x".repeat(2_000_000), "text": "x"});
        let resp = app
            .send(method.clone(), &path, Some(&user.token), Some(&huge))
            .await;
        assert_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    }
    let video = app.read(&format!("/api/videos/{id}"), None).await;
    assert_eq!(video["caption"], "keep me");
    assert_eq!(video["commentCount"], 0);
    let grid = app
        .read(&format!("/api/users/{}/videos", user.id), None)
        .await;
    assert_eq!(ids(&grid), vec![id.to_owned()]);
}

#[tokio::test]
async fn undeclared_methods_are_405_with_allow() {
    let app = spawn_app().await;
    let resp = app
        .send(Method::DELETE, "/api/feed/following", None, None)
        .await;
    let allow = resp
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_error(resp, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").await;
    assert_eq!(allow.as_deref(), Some("GET"));
    let resp = app
        .send(
            Method::POST,
            &format!("/api/users/{}", uuid::Uuid::now_v7()),
            None,
            None,
        )
        .await;
    assert_error(resp, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").await;
    // A literal path beside `/api/videos/{id}` does not fall through to it.
    let resp = app
        .send(
            Method::PATCH,
            "/api/videos/search?q=x",
            None,
            Some(&json!({"caption": "x"})),
        )
        .await;
    assert_error(resp, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").await;
}
