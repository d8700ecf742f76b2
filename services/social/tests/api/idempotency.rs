//! `Idempotency-Key` on POST /api/videos: a retry gets the first answer, another
//! request with the key is 422, a retry while the first runs is 409.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn post(app: &TestApp, user: &User, key: &str, body: &Value) -> reqwest::Response {
    app.request(reqwest::Method::POST, "/api/videos", Some(&user.token))
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn grid(app: &TestApp, user: &User) -> Vec<String> {
    ids(&app
        .read(&format!("/api/users/{}/videos", user.id), None)
        .await)
}

#[tokio::test]
async fn a_retry_gets_the_first_answer_and_creates_nothing() {
    let app = spawn_app().await;
    let user = app.user("Retrier").await;
    let body = video_body("once");
    let first = post(&app, &user, "key-1", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = post(&app, &user, "key-1", &body).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(
        grid(&app, &user).await,
        vec![first["id"].as_str().unwrap().to_owned()]
    );

    // Another request with the key is refused; another user's same key is theirs.
    let resp = post(&app, &user, "key-1", &video_body("twice")).await;
    let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&err), vec!["Idempotency-Key"]);
    let other = app.user("Other").await;
    assert_eq!(
        post(&app, &other, "key-1", &body).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(grid(&app, &user).await.len(), 1);
}

#[tokio::test]
async fn concurrent_retries_create_one_video() {
    let app = spawn_app().await;
    let user = app.user("Impatient").await;
    let body = video_body("many clicks");
    let answers =
        futures_util::future::join_all((0..20).map(|_| post(&app, &user, "click", &body))).await;
    for answer in &answers {
        assert!(
            answer.status() == StatusCode::CREATED || answer.status() == StatusCode::CONFLICT,
            "{}",
            answer.status()
        );
    }
    assert_eq!(grid(&app, &user).await.len(), 1);
}

fn running(app: &TestApp, user: &User, key: &str, age: &str) {
    let mut conn = PgConnection::establish(&app.shared.db_url).unwrap();
    let body = video_body("in flight");
    let fingerprint = common::idempotency::fingerprint(&json!({
        "caption": body["caption"], "videoUrl": body["videoUrl"], "posterUrl": null
    }))
    .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO idempotency_keys (owner, key, fingerprint, state, created_at) \
         VALUES ($1, $2, $3, 'running', now() - interval '{age}')"
    ))
    .bind::<diesel::sql_types::Text, _>(format!("reelstack:{}", user.id))
    .bind::<diesel::sql_types::Text, _>(key)
    .bind::<diesel::sql_types::Text, _>(fingerprint)
    .execute(&mut conn)
    .unwrap();
}

#[tokio::test]
async fn a_request_still_running_is_409_until_its_lease_ends() {
    let app = spawn_app().await;
    let user = app.user("Waiting").await;
    running(&app, &user, "busy", "1 second");
    let resp = post(&app, &user, "busy", &video_body("in flight")).await;
    assert_error(resp, StatusCode::CONFLICT, "CONFLICT").await;
    // A request that died two minutes ago no longer holds the key.
    running(&app, &user, "dead", "2 minutes");
    assert_eq!(
        post(&app, &user, "dead", &video_body("in flight"))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(grid(&app, &user).await.len(), 1);
}

#[tokio::test]
async fn failures_are_not_stored_and_bad_keys_are_refused() {
    let app = spawn_app().await;
    let user = app.user("Fixer").await;
    let resp = post(&app, &user, "fix", &json!({"caption": "no url"})).await;
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    let resp = post(&app, &user, "fix", &json!({"caption": "no url"})).await;
    let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(
        error_fields(&err),
        vec!["videoUrl"],
        "ran again, not replayed"
    );
    for bad in ["has space", &"k".repeat(256)] {
        let resp = post(&app, &user, bad, &video_body("x")).await;
        let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&err), vec!["Idempotency-Key"]);
    }
    assert!(grid(&app, &user).await.is_empty());
}

#[tokio::test]
async fn a_replay_never_points_at_a_deleted_video() {
    let app = spawn_app().await;
    let user = app.user("Deleter").await;
    let body = video_body("short-lived");
    let first: Value = post(&app, &user, "again", &body)
        .await
        .json()
        .await
        .unwrap();
    let id = first["id"].as_str().unwrap();
    assert_eq!(
        app.delete_as(&format!("/api/videos/{id}"), &user.token)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let retry = post(&app, &user, "again", &body).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert!(retry.headers().get("idempotent-replayed").is_none());
    let second: Value = retry.json().await.unwrap();
    assert_ne!(second["id"], first["id"]);
    assert_eq!(
        app.read(
            &format!("/api/videos/{}", second["id"].as_str().unwrap()),
            None
        )
        .await["id"],
        second["id"]
    );
}
