//! Follows, followers and followings, and profiles with their counters.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn following_is_idempotent_and_shows_on_both_profiles() {
    let app = spawn_app().await;
    let (fan, star) = (app.user("Fan").await, app.user("Star").await);
    let path = format!("/api/users/{}/follow", star.id);
    for _ in 0..2 {
        let body = TestApp::json_of(app.put_as(&path, &fan.token).await).await;
        assert_eq!(body, json!({"following": true, "followerCount": 1}));
    }
    let seen_by_fan = app
        .read(&format!("/api/users/{}", star.id), Some(&fan.token))
        .await;
    assert_eq!(seen_by_fan["name"], "Star");
    assert_eq!(seen_by_fan["followerCount"], 1);
    assert_eq!(
        (
            seen_by_fan["following"].as_bool(),
            seen_by_fan["followsYou"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let seen_by_star = app
        .read(&format!("/api/users/{}", fan.id), Some(&star.token))
        .await;
    assert_eq!(seen_by_star["followingCount"], 1);
    assert_eq!(
        (
            seen_by_star["following"].as_bool(),
            seen_by_star["followsYou"].as_bool()
        ),
        (Some(false), Some(true))
    );
    let anonymous = app.read(&format!("/api/users/{}", star.id), None).await;
    assert_eq!(anonymous["following"], false);

    for _ in 0..2 {
        let body = TestApp::json_of(app.delete_as(&path, &fan.token).await).await;
        assert_eq!(body, json!({"following": false, "followerCount": 0}));
    }
    assert_eq!(
        app.read(&format!("/api/users/{}", fan.id), None).await["followingCount"],
        0
    );
}

#[tokio::test]
async fn nobody_follows_themselves_or_someone_the_directory_does_not_know() {
    let app = spawn_app().await;
    let user = app.user("Self").await;
    let resp = app
        .put_as(&format!("/api/users/{}/follow", user.id), &user.token)
        .await;
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "CANNOT_FOLLOW_SELF").await;
    let unknown = app.account("Never Synced").await;
    let resp = app
        .put_as(&format!("/api/users/{}/follow", unknown.id), &user.token)
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = app.put_as("/api/users/nobody/follow", &user.token).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = app
        .get(&format!("/api/users/{}", uuid::Uuid::now_v7()))
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    // Once the directory knows them, they can be followed.
    app.directory()
        .post("/api/user/sync", Some(&unknown.token), &json!({}))
        .await;
    let resp = app
        .put_as(&format!("/api/users/{}/follow", unknown.id), &user.token)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        app.read(&format!("/api/users/{}", user.id), None).await["followingCount"],
        1
    );
}

#[tokio::test]
async fn follower_lists_say_whom_the_caller_follows() {
    let app = spawn_app().await;
    let star = app.user("Star").await;
    let (a, b, c) = (
        app.user("A").await,
        app.user("B").await,
        app.user("C").await,
    );
    for fan in [&a, &b, &c] {
        app.put_as(&format!("/api/users/{}/follow", star.id), &fan.token)
            .await;
    }
    app.put_as(&format!("/api/users/{}/follow", b.id), &a.token)
        .await;
    let followers = app
        .read(&format!("/api/users/{}/followers", star.id), Some(&a.token))
        .await;
    assert_eq!(
        ids(&followers),
        vec![c.id.clone(), b.id.clone(), a.id.clone()]
    );
    let flags: Vec<bool> = followers["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["following"].as_bool().unwrap())
        .collect();
    assert_eq!(flags, vec![false, true, false]);
    assert_eq!(followers["items"][1]["name"], "B");
    let following = app
        .read(&format!("/api/users/{}/following", a.id), None)
        .await;
    assert_eq!(ids(&following), vec![b.id.clone(), star.id.clone()]);
    assert_eq!(
        all_pages(&app, &format!("/api/users/{}/followers", star.id), None, 1).await,
        vec![c.id.clone(), b.id.clone(), a.id.clone()]
    );
    let resp = app.get("/api/users/nobody/followers").await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn crossing_follow_storms_never_deadlock_and_count_exactly() {
    let app = &spawn_app().await;
    let people: Vec<User> =
        futures_util::future::join_all((0..6).map(|n| app.user(format!("P{n}")))).await;
    let mut calls = Vec::new();
    for round in 0..4 {
        for a in &people {
            for b in &people {
                if a.id != b.id {
                    let path = format!("/api/users/{}/follow", b.id);
                    let token = a.token.clone();
                    let follow = round % 2 == 0 || a.id < b.id;
                    calls.push(async move {
                        if follow {
                            app.put_as(&path, &token).await
                        } else {
                            app.delete_as(&path, &token).await
                        }
                    });
                }
            }
        }
    }
    let answers = futures_util::future::join_all(calls).await;
    assert!(answers.iter().all(|r| r.status() == StatusCode::OK));
    use social::db::schema::follows;
    let mut conn = PgConnection::establish(&app.shared.db_url).unwrap();
    for p in &people {
        let followers: i64 = follows::table
            .filter(follows::followee_subject.eq(&p.id))
            .count()
            .get_result(&mut conn)
            .unwrap();
        let following: i64 = follows::table
            .filter(follows::follower_subject.eq(&p.id))
            .count()
            .get_result(&mut conn)
            .unwrap();
        let profile = app.read(&format!("/api/users/{}", p.id), None).await;
        assert_eq!(profile["followerCount"].as_i64(), Some(followers));
        assert_eq!(profile["followingCount"].as_i64(), Some(following));
    }
}
