//! The trending and for-you feeds: a ranking made every minute (here: every
//! second), walked by cursor without seeing later rankings, and for a signed-in
//! user blended with what they follow and like, without what they saw.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const FAST: &[(&str, &str)] = &[("TRENDING_REFRESH_SECS", "1"), ("VIEWS_FLUSH_MS", "100")];

/// Waits until a fresh walk of `path` starts with `first` (a ranking after the
/// latest changes has been made).
async fn ranked(app: &TestApp, path: &str, token: Option<&str>, first: &[String]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = all_pages(app, path, token, 100).await;
        if got.starts_with(first) {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{path}: {got:?}, expected to start {first:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn engage(app: &TestApp, video: &str, likes: usize, comments: usize) {
    for n in 0..likes {
        let fan = app.account(format!("Liker {n}")).await;
        app.put_as(&format!("/api/videos/{video}/like"), &fan.token)
            .await;
    }
    let commenter = app.account("Commenter").await;
    for n in 0..comments {
        app.post(
            &format!("/api/videos/{video}/comments"),
            Some(&commenter.token),
            &json!({"text": format!("c{n}")}),
        )
        .await;
    }
}

fn id(video: &serde_json::Value) -> String {
    video["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn trending_ranks_by_engagement_and_a_walk_keeps_its_ranking() {
    let app = spawn_app_with(FAST).await;
    let creator = app.user("Creator").await;
    let a = id(&app.video(&creator, "quiet").await);
    let b = id(&app.video(&creator, "liked").await);
    let c = id(&app.video(&creator, "discussed").await);
    engage(&app, &b, 2, 0).await;
    engage(&app, &c, 0, 3).await;
    let order = ranked(
        &app,
        "/api/feed/trending",
        None,
        &[c.clone(), b.clone(), a.clone()],
    )
    .await;
    assert_eq!(order, vec![c.clone(), b.clone(), a.clone()]);

    // Page one of a walk; then the quiet video takes off.
    let page = app.read("/api/feed/trending?limit=1", None).await;
    assert_eq!(ids(&page), vec![c.clone()]);
    engage(&app, &a, 10, 0).await;
    ranked(&app, "/api/feed/trending", None, std::slice::from_ref(&a)).await;
    // The walk goes on in the ranking it started on: no duplicate, no gap.
    let mut walked = ids(&page);
    let mut cursor = page["nextCursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let next = app
            .read(&format!("/api/feed/trending?limit=1&cursor={c}"), None)
            .await;
        walked.extend(ids(&next));
        cursor = next["nextCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(walked, vec![c, b, a]);
}

#[tokio::test]
async fn an_expired_ranking_is_a_422_on_cursor() {
    let app = spawn_app_with(FAST).await;
    let creator = app.user("Creator").await;
    for n in 0..3 {
        app.video(&creator, &format!("v{n}")).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let page = app.read("/api/feed/trending?limit=1", None).await;
    let cursor = page["nextCursor"].as_str().unwrap().to_owned();
    let mut conn = PgConnection::establish(&app.shared.db_url).unwrap();
    diesel::sql_query("DELETE FROM trending_snapshots")
        .execute(&mut conn)
        .unwrap();
    let resp = app
        .get(&format!("/api/feed/trending?cursor={cursor}"))
        .await;
    let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&err), vec!["cursor"]);
}

#[tokio::test]
async fn for_you_blends_affinity_and_leaves_out_what_was_seen_or_given() {
    let app = spawn_app_with(FAST).await;
    let viewer = app.user("Viewer").await;
    let (followed, other) = (app.user("Followed").await, app.user("Other").await);
    app.put_as(&format!("/api/users/{}/follow", followed.id), &viewer.token)
        .await;
    let own = id(&app.video(&viewer, "my own").await);
    let popular = id(&app.video(&other, "popular #cats").await);
    let from_followed = id(&app.video(&followed, "from someone I follow").await);
    let tagged = id(&app.video(&other, "more #dogs").await);
    let watched = id(&app.video(&other, "watched already").await);
    let liked_before = id(&app.video(&other, "liked #dogs").await);
    engage(&app, &popular, 3, 0).await;
    app.put_as(&format!("/api/videos/{liked_before}/like"), &viewer.token)
        .await;
    let resp = app
        .request(
            reqwest::Method::POST,
            &format!("/api/videos/{watched}/views"),
            Some(&viewer.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let trending = ranked(
        &app,
        "/api/feed/trending",
        None,
        &[popular.clone(), liked_before.clone()],
    )
    .await;
    assert_eq!(trending.len(), 6);
    // Signed in: the followed creator (x2.5) and the liked hashtag (x1.5) go up
    // past older or equal scores; their own video, the one they liked and the
    // one they watched are left out.
    let first = app
        .read("/api/feed/for-you?limit=2", Some(&viewer.token))
        .await;
    assert_eq!(
        ids(&first),
        vec![popular.clone(), from_followed.clone()],
        "{first}"
    );
    let cursor = first["nextCursor"].as_str().unwrap().to_owned();
    let page_two = format!("/api/feed/for-you?limit=2&cursor={cursor}");
    let second = app.read(&page_two, Some(&viewer.token)).await;
    let again = app.read(&page_two, Some(&viewer.token)).await;
    assert_eq!(
        ids(&second),
        ids(&again),
        "the same cursor gives the same page"
    );
    assert_eq!(ids(&second), vec![tagged.clone()]);
    let given: Vec<String> = [ids(&first), ids(&second)].concat();
    for left_out in [&own, &watched, &liked_before] {
        assert!(!given.contains(left_out), "{given:?}");
    }
    // What this feed gave is left out of the next walk for 7 days.
    let next_walk = app.read("/api/feed/for-you", Some(&viewer.token)).await;
    assert!(ids(&next_walk).is_empty(), "{next_walk}");
    // Anonymous: trending.
    assert_eq!(
        all_pages(&app, "/api/feed/for-you", None, 100).await,
        trending
    );
    // Another user's session cursor is not this one's.
    let stranger = app.user("Stranger").await;
    let resp = app
        .get_as(
            &format!("/api/feed/for-you?cursor={cursor}"),
            &stranger.token,
        )
        .await;
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
}
