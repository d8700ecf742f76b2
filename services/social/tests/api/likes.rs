//! Likes on videos: idempotent, visible in `liked` and the counters, exact under
//! concurrency.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

async fn like_state(resp: reqwest::Response) -> (bool, i64) {
    let body = TestApp::json_of(resp).await;
    (
        body["liked"].as_bool().unwrap(),
        body["likeCount"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn liking_is_idempotent_and_shows_everywhere() {
    let app = spawn_app().await;
    let owner = app.user("Owner").await;
    let fan = app.user("Fan").await;
    let id = app.video(&owner, "like me").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/videos/{id}/like");
    assert_eq!(
        like_state(app.put_as(&path, &fan.token).await).await,
        (true, 1)
    );
    assert_eq!(
        like_state(app.put_as(&path, &fan.token).await).await,
        (true, 1)
    );
    let seen = app
        .read(&format!("/api/videos/{id}"), Some(&fan.token))
        .await;
    assert_eq!(
        (seen["liked"].as_bool(), seen["likeCount"].as_i64()),
        (Some(true), Some(1))
    );
    let anonymous = app.read(&format!("/api/videos/{id}"), None).await;
    assert_eq!(anonymous["liked"], false);
    let owner_view = app
        .read(&format!("/api/videos/{id}"), Some(&owner.token))
        .await;
    assert_eq!(owner_view["liked"], false);
    assert_eq!(
        app.read(&format!("/api/users/{}", owner.id), None).await["likeCount"],
        1
    );
    let liked = app
        .read(&format!("/api/users/{}/likes", fan.id), Some(&fan.token))
        .await;
    assert_eq!(ids(&liked), vec![id.clone()]);
    assert_eq!(liked["items"][0]["liked"], true);

    assert_eq!(
        like_state(app.delete_as(&path, &fan.token).await).await,
        (false, 0)
    );
    assert_eq!(
        like_state(app.delete_as(&path, &fan.token).await).await,
        (false, 0)
    );
    assert_eq!(
        app.read(&format!("/api/users/{}", owner.id), None).await["likeCount"],
        0
    );
    assert!(ids(&app
        .read(&format!("/api/users/{}/likes", fan.id), Some(&fan.token))
        .await)
    .is_empty());
}

#[tokio::test]
async fn liked_videos_are_private_to_their_liker() {
    let app = spawn_app().await;
    let fan = app.user("Fan").await;
    let nosy = app.user("Nosy").await;
    let resp = app
        .get_as(&format!("/api/users/{}/likes", fan.id), &nosy.token)
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = app.get(&format!("/api/users/{}/likes", fan.id)).await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

fn rows(app: &TestApp, video: &str) -> i64 {
    use social::db::schema::video_likes;
    let mut conn = PgConnection::establish(&app.shared.db_url).unwrap();
    video_likes::table
        .filter(video_likes::video_id.eq(uuid::Uuid::parse_str(video).unwrap()))
        .count()
        .get_result(&mut conn)
        .unwrap()
}

#[tokio::test]
async fn concurrent_likes_count_exactly() {
    let app = spawn_app().await;
    let owner = app.user("Popular").await;
    let id = app.video(&owner, "viral").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/videos/{id}/like");
    let fans: Vec<User> =
        futures_util::future::join_all((0..200).map(|n| app.account(format!("Fan {n}")))).await;
    let answers =
        futures_util::future::join_all(fans.iter().map(|f| app.put_as(&path, &f.token))).await;
    assert!(answers.iter().all(|r| r.status() == StatusCode::OK));
    let video = app.read(&format!("/api/videos/{id}"), None).await;
    assert_eq!(video["likeCount"], 200);
    assert_eq!(rows(&app, &id), 200);
    assert_eq!(
        app.read(&format!("/api/users/{}", owner.id), None).await["likeCount"],
        200
    );

    // One user liking 50 times at once counts once.
    let eager = app.account("Eager").await;
    let answers =
        futures_util::future::join_all((0..50).map(|_| app.put_as(&path, &eager.token))).await;
    assert!(answers.iter().all(|r| r.status() == StatusCode::OK));
    assert_eq!(
        app.read(&format!("/api/videos/{id}"), None).await["likeCount"],
        201
    );

    // Likes and unlikes interleaved end where the rows are.
    let storm =
        futures_util::future::join_all(fans.iter().take(60).enumerate().flat_map(|(n, f)| {
            let like = app.put_as(&path, &f.token);
            let unlike = app.delete_as(&path, &f.token);
            if n % 2 == 0 {
                vec![
                    Box::pin(unlike) as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>,
                    Box::pin(like),
                ]
            } else {
                vec![
                    Box::pin(like) as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>,
                    Box::pin(unlike),
                ]
            }
        }))
        .await;
    assert!(storm.iter().all(|r| r.status() == StatusCode::OK));
    let video: Value = app.read(&format!("/api/videos/{id}"), None).await;
    assert_eq!(video["likeCount"].as_i64().unwrap(), rows(&app, &id));
    assert_eq!(
        app.read(&format!("/api/users/{}", owner.id), None).await["likeCount"],
        video["likeCount"]
    );
}

/// A video deleted while it is being liked: every like answers 200 or 404 (never
/// a 500 from a deadlock between the delete and the likers), the delete 204, and
/// nothing of the video is left in its author's counters.
///
/// The overlap is made, not hoped for: each fan likes and unlikes in a loop until
/// the video is gone, and the delete is sent only once likes have been answered.
#[tokio::test]
async fn a_video_deleted_during_a_like_storm_leaves_no_trace() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    const MAX_TRIES: usize = 500;
    let app = spawn_app().await;
    let owner = app.user("Doomed").await;
    let fans: Vec<User> =
        futures_util::future::join_all((0..40).map(|n| app.account(format!("Liker {n}")))).await;
    let id = app.video(&owner, "short-lived").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/videos/{id}/like");
    let answered = AtomicUsize::new(0);
    let fan_loop = |fan: &User| {
        let (path, answered, app) = (&path, &answered, &app);
        let token = fan.token.clone();
        async move {
            for n in 0..MAX_TRIES {
                let resp = if n % 2 == 0 {
                    app.put_as(path, &token).await
                } else {
                    app.delete_as(path, &token).await
                };
                match resp.status() {
                    StatusCode::OK => answered.fetch_add(1, Ordering::SeqCst),
                    StatusCode::NOT_FOUND => return n,
                    other => panic!("a like answered {other}: {}", resp.text().await.unwrap()),
                };
            }
            panic!("the video was still there after {MAX_TRIES} likes");
        }
    };
    let (tries, deleted) = tokio::join!(
        futures_util::future::join_all(fans.iter().map(fan_loop)),
        async {
            while answered.load(Ordering::SeqCst) < fans.len() {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            app.delete_as(&format!("/api/videos/{id}"), &owner.token)
                .await
        }
    );
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    eprintln!(
        "likes answered before the delete: {}, fans' tries: {tries:?}",
        answered.load(Ordering::SeqCst)
    );
    let gone = app.get(&format!("/api/videos/{id}")).await;
    assert_error(gone, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_eq!(rows(&app, &id), 0);
    let profile = app.read(&format!("/api/users/{}", owner.id), None).await;
    assert_eq!(
        (
            profile["likeCount"].as_i64(),
            profile["videoCount"].as_i64()
        ),
        (Some(0), Some(0))
    );
}
