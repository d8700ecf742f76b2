//! Posting, reading, editing and deleting videos hosted elsewhere, and a
//! profile's grid.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_posted_video_is_ready_at_once_with_its_hashtags_and_author() {
    let app = spawn_app().await;
    let user = app.user("Ada Lovelace").await;
    let resp = app
        .post(
            "/api/videos",
            Some(&user.token),
            &json!({
                "caption": "  Sunset at the #Beach #beach #été_2026\nnext line ",
                "videoUrl": "https://cdn.example.com/v/sunset.mp4",
                "posterUrl": "https://cdn.example.com/v/sunset.jpg"
            }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let video: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        video["caption"],
        "Sunset at the #Beach #beach #été_2026\nnext line"
    );
    assert_eq!(video["hashtags"], json!(["beach", "été_2026"]));
    assert_eq!(video["status"], "ready");
    assert_eq!(video["source"], "external");
    assert_eq!(video["streamUrl"], "https://cdn.example.com/v/sunset.mp4");
    assert_eq!(video["posterUrl"], "https://cdn.example.com/v/sunset.jpg");
    assert_eq!(video["hlsUrl"], serde_json::Value::Null);
    assert_eq!(video["failureReason"], serde_json::Value::Null);
    assert_eq!(video["author"]["id"], user.id.as_str());
    assert_eq!(video["author"]["name"], "Ada Lovelace");
    assert_eq!(video["likeCount"], 0);
    assert_eq!(video["commentCount"], 0);
    assert_eq!(video["viewCount"], 0);
    assert_eq!(video["liked"], false);
    let id = video["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);

    // Anyone may read it, signed in or not.
    let read = app.read(&format!("/api/videos/{id}"), None).await;
    assert_eq!(read, video);
    let profile = app.read(&format!("/api/users/{}", user.id), None).await;
    assert_eq!(profile["videoCount"], 1);
}

#[tokio::test]
async fn invalid_videos_are_refused_field_by_field() {
    let app = spawn_app().await;
    let user = app.user("Picky").await;
    let thirty_one: String = (0..31).map(|i| format!("#tag{i} ")).collect();
    for (body, fields) in [
        (json!({}), vec!["caption", "videoUrl"]),
        (json!({"caption": "x"}), vec!["videoUrl"]),
        (json!({"videoUrl": "https://x.io/v.mp4"}), vec!["caption"]),
        (
            json!({"caption": "x".repeat(2201), "videoUrl": "https://x.io/v.mp4"}),
            vec!["caption"],
        ),
        (
            json!({"caption": thirty_one, "videoUrl": "https://x.io/v.mp4"}),
            vec!["caption"],
        ),
        (
            json!({"caption": "a\u{7}b", "videoUrl": "https://x.io/v.mp4"}),
            vec!["caption"],
        ),
        (
            json!({"caption": "x", "videoUrl": "ftp://x.io/v.mp4"}),
            vec!["videoUrl"],
        ),
        (
            json!({"caption": "x", "videoUrl": "/relative.mp4"}),
            vec!["videoUrl"],
        ),
        (
            json!({"caption": "x", "videoUrl": format!("https://x.io/{}", "a".repeat(2048))}),
            vec!["videoUrl"],
        ),
        (
            json!({"caption": "x", "videoUrl": "https://x.io/v.mp4", "posterUrl": "javascript:alert(1)"}),
            vec!["posterUrl"],
        ),
    ] {
        let resp = app.post("/api/videos", Some(&user.token), &body).await;
        let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&err), fields, "{body}");
    }
    let thirty: String = (0..30).map(|i| format!("#tag{i} ")).collect();
    let ok = app
        .post(
            "/api/videos",
            Some(&user.token),
            &json!({"caption": thirty, "videoUrl": "https://x.io/v.mp4", "posterUrl": null}),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let grid = app
        .read(&format!("/api/users/{}/videos", user.id), None)
        .await;
    assert_eq!(
        grid["items"].as_array().unwrap().len(),
        1,
        "only the valid one"
    );
}

#[tokio::test]
async fn unknown_and_malformed_video_ids_are_404() {
    let app = spawn_app().await;
    let user = app.user("Lost").await;
    for id in [uuid::Uuid::now_v7().to_string(), "not-a-uuid".to_owned()] {
        for (method, path) in [
            (Method::GET, format!("/api/videos/{id}")),
            (Method::PATCH, format!("/api/videos/{id}")),
            (Method::DELETE, format!("/api/videos/{id}")),
            (Method::PUT, format!("/api/videos/{id}/like")),
            (Method::GET, format!("/api/videos/{id}/comments")),
            (Method::POST, format!("/api/videos/{id}/comments")),
        ] {
            let body = json!({"caption": "x", "text": "x"});
            let resp = app
                .send(method, &path, Some(&user.token), Some(&body))
                .await;
            assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
        }
    }
}

#[tokio::test]
async fn only_the_owner_edits_and_the_hashtags_follow_the_caption() {
    let app = spawn_app().await;
    let owner = app.user("Owner").await;
    let other = app.user("Other").await;
    let video = app.video(&owner, "first #old").await;
    let id = video["id"].as_str().unwrap();
    let path = format!("/api/videos/{id}");

    let resp = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&other.token),
            &json!({"caption": "hijacked"}),
        )
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = app
        .send_json(Method::PATCH, &path, Some(&owner.token), &json!({}))
        .await;
    let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&err), vec!["caption"]);

    let resp = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&owner.token),
            &json!({"caption": "second #New"}),
        )
        .await;
    let edited = TestApp::json_of(resp).await;
    assert_eq!(edited["caption"], "second #New");
    assert_eq!(edited["hashtags"], json!(["new"]));
    assert_ne!(edited["updatedAt"], video["updatedAt"]);
    assert!(ids(&app.read("/api/tags/old/videos", None).await).is_empty());
    assert_eq!(
        ids(&app.read("/api/tags/new/videos", None).await),
        vec![id.to_owned()]
    );
}

#[tokio::test]
async fn deleting_a_video_takes_its_comments_likes_and_counters_with_it() {
    let app = spawn_app().await;
    let owner = app.user("Owner").await;
    let fan = app.user("Fan").await;
    let video = app.video(&owner, "short-lived #gone").await;
    let id = video["id"].as_str().unwrap();
    assert_eq!(
        app.put_as(&format!("/api/videos/{id}/like"), &fan.token)
            .await
            .status(),
        200
    );
    let resp = app
        .post(
            &format!("/api/videos/{id}/comments"),
            Some(&fan.token),
            &json!({"text": "nice"}),
        )
        .await;
    let comment: serde_json::Value = resp.json().await.unwrap();
    let before = app.read(&format!("/api/users/{}", owner.id), None).await;
    assert_eq!(
        (before["videoCount"].as_i64(), before["likeCount"].as_i64()),
        (Some(1), Some(1))
    );

    // Someone else cannot; the owner can, once.
    let resp = app
        .delete_as(&format!("/api/videos/{id}"), &fan.token)
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = app
        .delete_as(&format!("/api/videos/{id}"), &owner.token)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = app
        .delete_as(&format!("/api/videos/{id}"), &owner.token)
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;

    assert_error(
        app.get(&format!("/api/videos/{id}")).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    let resp = app
        .get(&format!(
            "/api/comments/{}/replies",
            comment["id"].as_str().unwrap()
        ))
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert!(ids(&app
        .read(&format!("/api/users/{}/likes", fan.id), Some(&fan.token))
        .await)
    .is_empty());
    assert!(ids(&app.read("/api/tags/gone/videos", None).await).is_empty());
    let after = app.read(&format!("/api/users/{}", owner.id), None).await;
    assert_eq!(
        (after["videoCount"].as_i64(), after["likeCount"].as_i64()),
        (Some(0), Some(0))
    );
}

#[tokio::test]
async fn a_profile_grid_is_newest_first_and_pages_without_gaps() {
    let app = spawn_app().await;
    let user = app.user("Prolific").await;
    let mut posted = Vec::new();
    for n in 0..7 {
        posted.push(
            app.video(&user, &format!("clip {n}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    posted.reverse();
    let walked = all_pages(&app, &format!("/api/users/{}/videos", user.id), None, 3).await;
    assert_eq!(walked, posted);

    let resp = app
        .get(&format!("/api/users/{}/videos?limit=0", user.id))
        .await;
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    let resp = app
        .get(&format!("/api/users/{}/videos?cursor=bogus", user.id))
        .await;
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    let resp = app.get("/api/users/nobody-at-all/videos").await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn posting_is_rate_limited_per_account() {
    let app = spawn_app_with(&[("VIDEOS_PER_USER_PER_HOUR", "2")]).await;
    let user = app.user("Spammer").await;
    let other = app.user("Calm").await;
    app.video(&user, "one").await;
    app.video(&user, "two").await;
    let resp = app
        .post("/api/videos", Some(&user.token), &video_body("three"))
        .await;
    assert!(resp.headers().contains_key("retry-after"));
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    app.video(&other, "not limited by the other's count").await;
    let grid = app
        .read(&format!("/api/users/{}/videos", user.id), None)
        .await;
    assert_eq!(grid["items"].as_array().unwrap().len(), 2);
}
