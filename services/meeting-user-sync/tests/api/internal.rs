//! Routes for other services: user events by version, batch lookups, and who may
//! call them.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn put_user(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::Response {
    app.internal()
        .send_json(
            Method::PUT,
            &format!("/internal/users/{id}"),
            Some(token),
            &body,
        )
        .await
}

async fn applied(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["applied"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn user_events_apply_by_version_and_deletions_hide_profiles() {
    let app = spawn_app().await;
    let service = app.auth().service_token().await;
    let id = uuid::Uuid::now_v7().to_string();
    let v1 = json!({"email": "a@example.com", "name": "A One", "version": 100});
    assert_eq!(
        applied(put_user(&app, &service, &id, v1.clone()).await).await,
        "created"
    );
    assert_eq!(
        applied(put_user(&app, &service, &id, v1).await).await,
        "updated",
        "same version again: idempotent"
    );
    let v3 = json!({"email": "a@example.com", "name": "A Three", "imageUrl": "https://img.example/a.png", "version": 300});
    assert_eq!(
        applied(put_user(&app, &service, &id, v3).await).await,
        "updated"
    );
    let v2 = json!({"email": "a@example.com", "name": "A Two", "version": 200});
    assert_eq!(
        applied(put_user(&app, &service, &id, v2).await).await,
        "stale"
    );

    let batch = |ids: Value| {
        let (app, service) = (&app, &service);
        async move {
            let resp = app
                .internal()
                .send_json(
                    Method::POST,
                    "/internal/users/batch",
                    Some(service),
                    &json!({"ids": ids}),
                )
                .await;
            assert_eq!(resp.status(), StatusCode::OK);
            resp.json::<Value>().await.unwrap()
        }
    };
    let found = batch(json!([id, "user_unknown"])).await;
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "A Three");
    assert_eq!(items[0]["issuer"], "reelstack");
    assert_eq!(items[0]["imageUrl"], "https://img.example/a.png");

    let stale_delete = app
        .internal()
        .request(
            Method::DELETE,
            &format!("/internal/users/{id}?version=250"),
            Some(&service),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(applied(stale_delete).await, "stale");
    let delete = app
        .internal()
        .request(
            Method::DELETE,
            &format!("/internal/users/{id}?version=400"),
            Some(&service),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(applied(delete).await, "updated");
    assert_eq!(batch(json!([id])).await["items"], json!([]));
    // A newer upsert (an account enabled again) brings the user back.
    let v5 = json!({"email": "a@example.com", "name": "A Five", "version": 500});
    assert_eq!(
        applied(put_user(&app, &service, &id, v5).await).await,
        "updated"
    );
    assert_eq!(batch(json!([id])).await["items"][0]["name"], "A Five");
}

#[tokio::test]
async fn bad_internal_requests_are_refused() {
    let app = spawn_app().await;
    let service = app.auth().service_token().await;
    let err = assert_error(
        put_user(&app, &service, "someone", json!({"name": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(error_fields(&err), vec!["version"]);
    assert_error(
        put_user(&app, &service, "someone", json!({"version": "1"})).await,
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
    )
    .await;
    let too_many: Vec<String> = (0..101).map(|n| format!("u{n}")).collect();
    let err = assert_error(
        app.internal()
            .send_json(
                Method::POST,
                "/internal/users/batch",
                Some(&service),
                &json!({"ids": too_many}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(error_fields(&err), vec!["ids"]);
    assert_error(
        app.internal()
            .send_json(
                Method::POST,
                "/internal/users/batch",
                Some(&service),
                &json!({}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
}

#[tokio::test]
async fn internal_routes_need_a_service_token() {
    let app = spawn_app().await;
    let (_, user_token) = app.auth().signup("Not A Service").await;
    let (_, clerk_token) = app.clerk_user("Also", "NotAService");
    for (method, path) in [
        (Method::POST, "/internal/users/batch"),
        (Method::PUT, "/internal/users/abc"),
        (Method::DELETE, "/internal/users/abc?version=1"),
    ] {
        let none = app
            .internal()
            .request(method.clone(), path, None)
            .json(&json!({"ids": [], "version": 1}))
            .send()
            .await
            .unwrap();
        assert_error(none, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        for token in [&user_token, &clerk_token] {
            let resp = app
                .internal()
                .request(method.clone(), path, Some(token))
                .json(&json!({"ids": [], "version": 1}))
                .send()
                .await
                .unwrap();
            assert_error(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
        }
    }
}
