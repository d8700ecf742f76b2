use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn me_returns_the_caller() {
    let app = spawn_app().await;
    let account = app.account().await;
    let resp = app.me(&account.access).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["id"], account.id.as_str());
    assert_eq!(body["email"], account.email.as_str());
    for field in [
        "name",
        "imageUrl",
        "role",
        "emailVerified",
        "createdAt",
        "updatedAt",
    ] {
        assert!(body.get(field).is_some(), "{field} missing");
    }
    assert!(body.get("passwordHash").is_none());
}

#[tokio::test]
async fn me_refuses_missing_expired_and_forged_tokens() {
    let app = spawn_app().await;
    let account = app.account().await;
    let resp = app.get("/api/auth/me").await;
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let err = assert_error(
        app.me(&expired_token(&app, &account.id)).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    assert_eq!(err["error"]["details"]["reason"], "expired");
    let err = assert_error(
        app.me(&forged_token(&account.id)).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    assert_eq!(err["error"]["details"]["reason"], "unknown_key");
    let resp = app
        .request(Method::GET, "/api/auth/me", None)
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn patch_me_updates_name_and_image() {
    let app = spawn_app().await;
    let account = app.account().await;
    let resp = app
        .patch_me(
            Some(&account.access),
            &json!({"name": " Grace Hopper ", "imageUrl": "https://img.example.com/g.png"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["name"], "Grace Hopper");
    assert_eq!(body["imageUrl"], "https://img.example.com/g.png");
    assert_ne!(body["updatedAt"], body["createdAt"]);
    // Absent fields stay; null removes the image.
    let resp = app
        .patch_me(Some(&account.access), &json!({"imageUrl": null}))
        .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["name"], "Grace Hopper");
    assert!(body["imageUrl"].is_null());
    let me: Value = app.me(&account.access).await.json().await.unwrap();
    assert_eq!(me["name"], "Grace Hopper");
}

#[tokio::test]
async fn patch_me_validates() {
    let app = spawn_app().await;
    let account = app.account().await;
    let cases = [
        (json!({"name": ""}), "name"),
        (json!({"name": null}), "name"),
        (json!({"name": "n".repeat(101)}), "name"),
        (json!({"imageUrl": "javascript:alert(1)"}), "imageUrl"),
        (
            json!({"imageUrl": format!("https://x.io/{}", "a".repeat(2100))}),
            "imageUrl",
        ),
    ];
    for (body, field) in cases {
        let resp = app.patch_me(Some(&account.access), &body).await;
        let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&err), vec![field]);
    }
    let resp = app
        .patch_me(Some(&account.access), &json!({"name": 5}))
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let resp = app.patch_me(None, &json!({"name": "x"})).await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    // Nothing changed.
    let me: Value = app.me(&account.access).await.json().await.unwrap();
    assert_eq!(me["name"], "Ada Lovelace");
}

#[tokio::test]
async fn changing_the_password_revokes_the_other_sessions() {
    let app = spawn_app().await;
    let account = app.account().await;
    let (other_access, other_refresh) = app.second_session(&account).await;
    let new_password = "a completely different passphrase";
    let resp = app
        .change_password(
            Some(&account.access),
            &json!({"currentPassword": PASSWORD, "newPassword": new_password}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.me(&account.access).await.status(),
        StatusCode::OK,
        "the current session stays"
    );
    assert_eq!(
        app.me(&other_access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh(&other_refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&account.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&account.email, new_password).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn changing_the_password_checks_both_passwords() {
    let app = spawn_app().await;
    let account = app.account().await;
    let resp = app.change_password(Some(&account.access), &json!({"currentPassword": "not my password", "newPassword": "a completely different passphrase"})).await;
    let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&err), vec!["currentPassword"]);
    let resp = app
        .change_password(
            Some(&account.access),
            &json!({"currentPassword": PASSWORD, "newPassword": "12345678"}),
        )
        .await;
    let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&err), vec!["newPassword"]);
    let resp = app.change_password(Some(&account.access), &json!({})).await;
    let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&err), vec!["currentPassword", "newPassword"]);
    let resp = app.change_password(None, &json!({})).await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    // The old password still works.
    assert_eq!(
        app.login(&account.email, PASSWORD).await.status(),
        StatusCode::OK
    );
}
