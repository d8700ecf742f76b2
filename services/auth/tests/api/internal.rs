use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn services_get_tokens_with_client_credentials() {
    let app = spawn_app().await;
    let resp = app
        .internal_token(&json!({"clientId": SERVICE_CLIENT.0, "clientSecret": SERVICE_CLIENT.1}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["tokenType"], "Bearer");
    assert_eq!(body["expiresIn"], 600);
    for creds in [
        json!({"clientId": SERVICE_CLIENT.0, "clientSecret": "wrong"}),
        json!({"clientId": "nobody", "clientSecret": SERVICE_CLIENT.1}),
        json!({}),
    ] {
        let resp = app.internal_token(&creds).await;
        assert_error(resp, StatusCode::UNAUTHORIZED, "INVALID_CLIENT").await;
    }
}

#[tokio::test]
async fn internal_user_lookup_needs_a_service_token() {
    let app = spawn_app().await;
    let account = app.account().await;
    let service = app.service_token().await;
    let resp = app
        .internal_user(Some(&service), &account.id.to_string())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["email"], account.email.as_str());
    assert_eq!(body["disabled"], false);
    let resp = app
        .internal_user(Some(&account.access), &account.id.to_string())
        .await;
    assert_error(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let resp = app.internal_user(None, &account.id.to_string()).await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let resp = app
        .internal_user(Some(&service), &uuid::Uuid::now_v7().to_string())
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    // A service token is not a user: user routes refuse it.
    let resp = app.me(&service).await;
    assert_error(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
}

#[tokio::test]
async fn batch_lookup_returns_the_users_found() {
    let app = spawn_app().await;
    let a = app.account().await;
    let b = app.account().await;
    let service = app.service_token().await;
    let ids = json!({"ids": [a.id, b.id, uuid::Uuid::now_v7().to_string()]});
    let resp = app.internal_batch(Some(&service), &ids).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let mut found: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    found.sort();
    let mut expected = vec![a.id.as_str(), b.id.as_str()];
    expected.sort();
    assert_eq!(found, expected);
    let too_many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    for bad in [
        json!({"ids": too_many}),
        json!({"ids": ["nope"]}),
        json!({}),
    ] {
        let resp = app.internal_batch(Some(&service), &bad).await;
        assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    }
    let resp = app.internal_batch(Some(&a.access), &ids).await;
    assert_error(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
}
