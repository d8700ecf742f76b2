//! Comments with one level of replies, deletion rules and comment likes.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn comment(app: &TestApp, user: &User, video: &str, body: Value) -> Value {
    let resp = app
        .post(
            &format!("/api/videos/{video}/comments"),
            Some(&user.token),
            &body,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn replies_hang_under_one_top_level_comment() {
    let app = spawn_app().await;
    let owner = app.user("Owner").await;
    let (ann, bob) = (app.user("Ann").await, app.user("Bob").await);
    let video = app.video(&owner, "talk to me").await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let top = comment(&app, &ann, &video, json!({"text": "  first!  "})).await;
    assert_eq!(top["text"], "first!");
    assert_eq!(top["parentId"], Value::Null);
    assert_eq!(top["author"]["name"], "Ann");
    assert_eq!(
        (top["replyCount"].as_i64(), top["likeCount"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        (top["deleted"].as_bool(), top["liked"].as_bool()),
        (Some(false), Some(false))
    );
    let top_id = top["id"].as_str().unwrap();
    let reply = comment(
        &app,
        &bob,
        &video,
        json!({"text": "agreed", "parentId": top_id}),
    )
    .await;
    assert_eq!(reply["parentId"], top_id);
    let reply_id = reply["id"].as_str().unwrap();
    // A reply to a reply joins the same thread.
    let deeper = comment(
        &app,
        &ann,
        &video,
        json!({"text": "thanks", "parentId": reply_id}),
    )
    .await;
    assert_eq!(deeper["parentId"], top_id);
    let second = comment(&app, &bob, &video, json!({"text": "second"})).await;

    let list = app
        .read(&format!("/api/videos/{video}/comments"), None)
        .await;
    assert_eq!(ids(&list), vec![second["id"].as_str().unwrap(), top_id]);
    assert_eq!(list["items"][1]["replyCount"], 2);
    let replies = app
        .read(&format!("/api/comments/{top_id}/replies"), None)
        .await;
    assert_eq!(
        ids(&replies),
        vec![reply_id, deeper["id"].as_str().unwrap()]
    );
    assert_eq!(
        app.read(&format!("/api/videos/{video}"), None).await["commentCount"],
        4
    );
}

#[tokio::test]
async fn invalid_comments_are_refused() {
    let app = spawn_app().await;
    let user = app.user("Writer").await;
    let video = app.video(&user, "a").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let elsewhere = app.video(&user, "b").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let foreign = comment(&app, &user, &elsewhere, json!({"text": "over there"})).await;
    for (body, field) in [
        (json!({}), "text"),
        (json!({"text": "   "}), "text"),
        (json!({"text": "x".repeat(1001)}), "text"),
        (json!({"text": "a\u{0}b"}), "text"),
        (json!({"text": "ok", "parentId": "nope"}), "parentId"),
        (
            json!({"text": "ok", "parentId": uuid::Uuid::now_v7()}),
            "parentId",
        ),
        (json!({"text": "ok", "parentId": foreign["id"]}), "parentId"),
    ] {
        let resp = app
            .post(
                &format!("/api/videos/{video}/comments"),
                Some(&user.token),
                &body,
            )
            .await;
        let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&err), vec![field], "{body}");
    }
    let ok = comment(&app, &user, &video, json!({"text": "x".repeat(1000)})).await;
    assert_eq!(ok["text"].as_str().unwrap().len(), 1000);
    assert_eq!(
        app.read(&format!("/api/videos/{video}"), None).await["commentCount"],
        1
    );
}

#[tokio::test]
async fn who_may_delete_and_what_stays() {
    let app = spawn_app().await;
    let owner = app.user("Owner").await;
    let (author, stranger) = (app.user("Author").await, app.user("Stranger").await);
    let video = app.video(&owner, "rules").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let top = comment(&app, &author, &video, json!({"text": "thread"})).await;
    let top_id = top["id"].as_str().unwrap().to_owned();
    let reply = comment(
        &app,
        &stranger,
        &video,
        json!({"text": "reply", "parentId": top_id}),
    )
    .await;
    let reply_id = reply["id"].as_str().unwrap().to_owned();

    let resp = app
        .delete_as(&format!("/api/comments/{top_id}"), &stranger.token)
        .await;
    assert_error(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    // Its author deletes it; with a reply under it, it stays without its text.
    let resp = app
        .delete_as(&format!("/api/comments/{top_id}"), &author.token)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let list = app
        .read(&format!("/api/videos/{video}/comments"), None)
        .await;
    assert_eq!(ids(&list), vec![top_id.clone()]);
    let tombstone = &list["items"][0];
    assert_eq!(
        (tombstone["deleted"].as_bool(), tombstone["text"].clone()),
        (Some(true), Value::Null)
    );
    assert_eq!(tombstone["author"]["name"], Value::Null);
    let resp = app
        .delete_as(&format!("/api/comments/{top_id}"), &author.token)
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = app
        .post(
            &format!("/api/videos/{video}/comments"),
            Some(&author.token),
            &json!({"text": "x", "parentId": top_id}),
        )
        .await;
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;

    // The video's owner deletes the last reply: the empty tombstone goes too.
    let resp = app
        .delete_as(&format!("/api/comments/{reply_id}"), &owner.token)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(ids(&app
        .read(&format!("/api/videos/{video}/comments"), None)
        .await)
    .is_empty());
    assert_eq!(
        app.read(&format!("/api/videos/{video}"), None).await["commentCount"],
        0
    );
    let resp = app
        .delete_as(
            &format!("/api/comments/{}", uuid::Uuid::now_v7()),
            &owner.token,
        )
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn comment_likes_are_idempotent() {
    let app = spawn_app().await;
    let user = app.user("Liker").await;
    let video = app.video(&user, "c").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = comment(&app, &user, &video, json!({"text": "like this"})).await;
    let path = format!("/api/comments/{}/like", c["id"].as_str().unwrap());
    for _ in 0..2 {
        let body = TestApp::json_of(app.put_as(&path, &user.token).await).await;
        assert_eq!(body, json!({"liked": true, "likeCount": 1}));
    }
    let list = app
        .read(&format!("/api/videos/{video}/comments"), Some(&user.token))
        .await;
    assert_eq!(
        (
            list["items"][0]["liked"].as_bool(),
            list["items"][0]["likeCount"].as_i64()
        ),
        (Some(true), Some(1))
    );
    for _ in 0..2 {
        let body = TestApp::json_of(
            app.send(Method::DELETE, &path, Some(&user.token), None)
                .await,
        )
        .await;
        assert_eq!(body, json!({"liked": false, "likeCount": 0}));
    }
    let resp = app
        .put_as(
            &format!("/api/comments/{}/like", uuid::Uuid::now_v7()),
            &user.token,
        )
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn comment_lists_page_by_cursor() {
    let app = spawn_app().await;
    let user = app.user("Chatty").await;
    let video = app.video(&user, "many").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut posted = Vec::new();
    for n in 0..5 {
        posted.push(
            comment(&app, &user, &video, json!({"text": format!("c{n}")})).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let first = posted[0].clone();
    let mut replies = Vec::new();
    for n in 0..5 {
        replies.push(
            comment(
                &app,
                &user,
                &video,
                json!({"text": format!("r{n}"), "parentId": first}),
            )
            .await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    posted.reverse();
    assert_eq!(
        all_pages(&app, &format!("/api/videos/{video}/comments"), None, 2).await,
        posted
    );
    assert_eq!(
        all_pages(&app, &format!("/api/comments/{first}/replies"), None, 2).await,
        replies
    );
}

#[tokio::test]
async fn commenting_is_rate_limited_per_account() {
    let app = spawn_app_with(&[("COMMENTS_PER_USER_PER_MIN", "3")]).await;
    let user = app.user("Fast").await;
    let video = app.video(&user, "r").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for n in 0..3 {
        comment(&app, &user, &video, json!({"text": format!("{n}")})).await;
    }
    let resp = app
        .post(
            &format!("/api/videos/{video}/comments"),
            Some(&user.token),
            &json!({"text": "one more"}),
        )
        .await;
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    assert_eq!(
        app.read(&format!("/api/videos/{video}"), None).await["commentCount"],
        3
    );
}
