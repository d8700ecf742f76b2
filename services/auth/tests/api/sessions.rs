use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn sessions_lists_the_callers_sessions_and_marks_the_current_one() {
    let app = spawn_app().await;
    let account = app.account().await;
    let (other_access, _) = app.second_session(&account).await;
    let _stranger = app.account().await;
    let resp = app
        .request(Method::GET, "/api/auth/sessions", Some(&account.access))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "only this user's sessions: {body}");
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    for s in items {
        assert_eq!(s["ip"], app.ip.as_str());
        for f in ["id", "createdAt", "lastUsedAt", "userAgent"] {
            assert!(s.get(f).is_some(), "{f}");
        }
    }
    let other: Value = app.sessions(&other_access).await.json().await.unwrap();
    let current_here = items.iter().find(|s| s["current"] == true).unwrap()["id"].clone();
    let current_there = other["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .clone();
    assert_ne!(current_here, current_there);
}

#[tokio::test]
async fn revoking_one_session_ends_only_that_one() {
    let app = spawn_app().await;
    let account = app.account().await;
    let (other_access, _) = app.second_session(&account).await;
    let body: Value = app.sessions(&account.access).await.json().await.unwrap();
    let other_id = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app.revoke_session(Some(&account.access), &other_id).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.me(&other_access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.me(&account.access).await.status(), StatusCode::OK);
    // Revoking it again: it is no longer an active session.
    let resp = app.revoke_session(Some(&account.access), &other_id).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn another_users_session_is_not_found() {
    let app = spawn_app().await;
    let alice = app.account().await;
    let bob = app.account().await;
    let body: Value = app.sessions(&bob.access).await.json().await.unwrap();
    let bobs = body["items"][0]["id"].as_str().unwrap().to_owned();
    let resp = app.revoke_session(Some(&alice.access), &bobs).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_eq!(
        app.me(&bob.access).await.status(),
        StatusCode::OK,
        "bob's session survives"
    );
    for id in [uuid::Uuid::now_v7().to_string(), "not-a-uuid".to_owned()] {
        let resp = app.revoke_session(Some(&alice.access), &id).await;
        assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    let resp = app.revoke_session(None, &bobs).await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}
