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
    let served: Value = reqwest::get(app.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(served["paths"]["/api/user/sync"]["post"].is_object());
    let generated = meeting_user_sync::openapi::document_json().unwrap();
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../proto-docs/meeting-user-sync.openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "proto-docs/meeting-user-sync.openapi.json is out of date: run `make openapi` and commit it"
    );
}
