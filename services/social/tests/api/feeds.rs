//! The following feed, hashtag pages, trending hashtags and caption search.

use diesel::prelude::*;
use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn the_following_feed_holds_followed_creators_newest_first() {
    let app = spawn_app().await;
    let viewer = app.user("Viewer").await;
    let (followed, ignored) = (app.user("Followed").await, app.user("Ignored").await);
    app.put_as(&format!("/api/users/{}/follow", followed.id), &viewer.token)
        .await;
    let old = app.video(&followed, "old").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.video(&ignored, "not for you").await;
    let new = app.video(&followed, "new").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let feed = app.read("/api/feed/following", Some(&viewer.token)).await;
    assert_eq!(ids(&feed), vec![new, old]);
    assert_eq!(feed["nextCursor"], serde_json::Value::Null);
    assert_eq!(feed["items"][0]["author"]["name"], "Followed");
    let lonely = app.user("Lonely").await;
    assert!(ids(&app.read("/api/feed/following", Some(&lonely.token)).await).is_empty());
}

#[tokio::test]
async fn a_cursor_walk_has_no_duplicates_or_gaps_while_videos_arrive() {
    let app = spawn_app().await;
    let viewer = app.user("Viewer").await;
    let creator = app.user("Creator").await;
    app.put_as(&format!("/api/users/{}/follow", creator.id), &viewer.token)
        .await;
    let mut existing = Vec::new();
    for n in 0..6 {
        existing.push(
            app.video(&creator, &format!("#walk {n}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    existing.reverse();
    for path in [
        "/api/feed/following?limit=2",
        "/api/tags/walk/videos?limit=2",
        "/api/videos/search?q=walk&limit=2",
    ] {
        let mut walked = Vec::new();
        let mut page = app.read(path, Some(&viewer.token)).await;
        loop {
            walked.extend(ids(&page));
            // New videos arrive between pages: they belong before the walk's start.
            app.video(&creator, "#walk late").await;
            match page["nextCursor"].as_str() {
                Some(cursor) => {
                    page = app
                        .read(&format!("{path}&cursor={cursor}"), Some(&viewer.token))
                        .await
                }
                None => break,
            }
        }
        assert_eq!(walked, existing, "{path}");
        // The next walk starts from the newest, late ones included.
        existing = ids(&app
            .read(&path.replace("limit=2", "limit=100"), Some(&viewer.token))
            .await);
    }
}

/// Every page of `path` for `token`, by cursor.
async fn walk(app: &TestApp, path: &str, token: &str) -> Vec<String> {
    let mut walked = Vec::new();
    let mut page = app.read(path, Some(token)).await;
    loop {
        walked.extend(ids(&page));
        match page["nextCursor"].as_str() {
            Some(cursor) => {
                page = app
                    .read(&format!("{path}&cursor={cursor}"), Some(token))
                    .await
            }
            None => return walked,
        }
    }
}

#[tokio::test]
async fn the_following_feed_is_the_same_walk_for_few_and_for_many_followed_creators() {
    let app = spawn_app().await;
    let viewer = app.user("Viewer").await;
    let (a, b, ignored) = (
        app.user("A").await,
        app.user("B").await,
        app.user("Ignored").await,
    );
    for creator in [&a, &b] {
        app.put_as(&format!("/api/users/{}/follow", creator.id), &viewer.token)
            .await;
    }
    let mut expected = Vec::new();
    for n in 0..5 {
        for creator in [&a, &b, &ignored] {
            let id = app.video(creator, &format!("clip {n}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned();
            if creator.id != ignored.id {
                expected.push(id);
            }
        }
    }
    expected.reverse();
    let path = "/api/feed/following?limit=3";
    // Two followed creators: each one's newest videos, merged.
    assert_eq!(walk(&app, path, &viewer.token).await, expected);
    // 150 more (who never posted): the walk over all videos, newest first.
    let mut conn = PgConnection::establish(&app.shared.db_url).unwrap();
    diesel::sql_query(format!(
        "INSERT INTO follows (follower_issuer, follower_subject, followee_issuer, followee_subject) \
         SELECT follower_issuer, follower_subject, followee_issuer, 'quiet-' || g \
         FROM follows, generate_series(1, 150) AS g WHERE followee_subject = '{}'",
        a.id
    ))
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(format!(
        "UPDATE user_stats SET following_count = following_count + 150 WHERE subject = '{}'",
        viewer.id
    ))
    .execute(&mut conn)
    .unwrap();
    assert_eq!(walk(&app, path, &viewer.token).await, expected);
    let profile = app
        .read(&format!("/api/users/{}", viewer.id), Some(&viewer.token))
        .await;
    assert_eq!(profile["followingCount"], 152);
}

#[tokio::test]
async fn hashtag_pages_and_trending_hashtags() {
    let app = spawn_app().await;
    let user = app.user("Tagger").await;
    let a = app.video(&user, "#Cats and #dogs").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = app.video(&user, "more #cats").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.video(&user, "#birds").await;
    for tag in ["cats", "CATS", "%23cats"] {
        assert_eq!(
            ids(&app.read(&format!("/api/tags/{tag}/videos"), None).await),
            vec![b.clone(), a.clone()],
            "{tag}"
        );
    }
    let resp = app.get("/api/tags/not%20a%20tag/videos").await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let trending = app.read("/api/tags/trending?limit=2", None).await;
    assert_eq!(
        trending["items"][0],
        serde_json::json!({"tag": "cats", "videoCount": 2})
    );
    assert_eq!(trending["items"].as_array().unwrap().len(), 2);
    let resp = app.get("/api/tags/trending?limit=101").await;
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
}

#[tokio::test]
async fn search_finds_every_word_in_captions() {
    let app = spawn_app().await;
    let user = app.user("Searcher").await;
    let both = app.video(&user, "Rainy day in Paris").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.video(&user, "Sunny day in Rome").await;
    assert_eq!(
        ids(&app.read("/api/videos/search?q=paris%20DAY", None).await),
        vec![both]
    );
    assert!(ids(&app.read("/api/videos/search?q=london", None).await).is_empty());
    // Query syntax is plain words, never an error.
    assert!(ids(&app.read("/api/videos/search?q=%21%26%7C%28", None).await).is_empty());
    for bad in [
        "/api/videos/search",
        "/api/videos/search?q=%20%20",
        "/api/videos/search?q=x&limit=0",
    ] {
        assert_error(
            app.get(bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
    }
}
