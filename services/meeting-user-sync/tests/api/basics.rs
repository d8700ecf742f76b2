//! Health, unknown routes and the committed OpenAPI document.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn health_reports_the_database_and_redis() {
    let app = spawn_app().await;
    let ready: Value = reqwest::get(app.url("/health/ready"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ok");
    assert_eq!(ready["service"], "meeting-user-sync");
    assert_eq!(ready["checks"]["database"], "ok");
    assert_eq!(ready["checks"]["redis"], "ok");
    let missing = reqwest::get(app.url("/api/user/nothing")).await.unwrap();
    assert_error(missing, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn the_openapi_document_is_served_and_matches_proto_docs() {
    let app = spawn_app().await;
    testkit::app::assert_openapi_committed::<meeting_user_sync::MeetingUserSync>(&app).await;
}
