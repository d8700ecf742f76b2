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
#[tokio::test]
async fn a_video_deleted_during_a_like_storm_leaves_no_trace() {
    let app = spawn_app().await;
    let owner = app.user("Doomed").await;
    let fans: Vec<User> =
        futures_util::future::join_all((0..40).map(|n| app.account(format!("Liker {n}")))).await;
    let (mut before, mut after) = (0, 0);
    // Rounds until the delete has been seen to land mid-storm (a few at least).
    for round in 0..20u64 {
        let id = app.video(&owner, &format!("short-lived {round}")).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/api/videos/{id}/like");
        let (likes, deleted) = tokio::join!(
            futures_util::future::join_all(fans.iter().map(|f| app.put_as(&path, &f.token))),
            async {
                tokio::time::sleep(std::time::Duration::from_millis(5 * (round % 5))).await;
                app.delete_as(&format!("/api/videos/{id}"), &owner.token)
                    .await
            }
        );
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT, "round {round}");
        for like in &likes {
            assert!(
                [StatusCode::OK, StatusCode::NOT_FOUND].contains(&like.status()),
                "round {round}: a like answered {}",
                like.status()
            );
        }
        let refused = likes
            .iter()
            .filter(|l| l.status() == StatusCode::NOT_FOUND)
            .count();
        (before, after) = (before + likes.len() - refused, after + refused);
        let gone = app.get(&format!("/api/videos/{id}")).await;
        assert_error(gone, StatusCode::NOT_FOUND, "NOT_FOUND").await;
        assert_eq!(rows(&app, &id), 0);
        let profile = app.read(&format!("/api/users/{}", owner.id), None).await;
        assert_eq!(
            (
                profile["likeCount"].as_i64(),
                profile["videoCount"].as_i64()
            ),
            (Some(0), Some(0)),
            "round {round}"
        );
        if round >= 2 && before > 0 && after > 0 {
            break;
        }
    }
    eprintln!("likes before the delete: {before}, refused after it: {after}");
    // The delete landed in the middle of the storms, not after them.
    assert!(before > 0 && after > 0, "{before} liked, {after} refused");
}
