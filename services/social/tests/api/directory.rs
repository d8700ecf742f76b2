//! Names and avatars come from the directory, follow its changes, and are
//! simply missing (never an error) while it is down.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn a_name_changed_in_the_directory_reaches_every_replica_at_once() {
    // A cache that would otherwise keep the old name for ten minutes.
    let app = spawn_app_with(&[("DIRECTORY_CACHE_SECS", "600")]).await;
    let replica = app.spawn_replica().await;
    let user = app.user("Old Name").await;
    let id = app.video(&user, "hi").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for node in [&app, &replica] {
        let video = node.read(&format!("/api/videos/{id}"), None).await;
        assert_eq!(video["author"]["name"], "Old Name");
    }
    let resp = app
        .directory()
        .send_json(
            Method::PATCH,
            "/api/user/profile",
            Some(&user.token),
            &json!({"name": "New Name", "bio": "hello"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(5);
    for node in [&app, &replica] {
        loop {
            let video = node.read(&format!("/api/videos/{id}"), None).await;
            if video["author"]["name"] == "New Name" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "still {}",
                video["author"]["name"]
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let profile = replica.read(&format!("/api/users/{}", user.id), None).await;
    assert_eq!(
        (profile["name"].as_str(), profile["bio"].as_str()),
        (Some("New Name"), Some("hello"))
    );
}

#[tokio::test]
async fn with_the_directory_down_lists_answer_without_names() {
    let world = World::start(&[]).await;
    let up = spawn_in(world, &[]).await;
    let (star, fan) = (up.user("Star").await, up.user("Fan").await);
    let video = up.video(&star, "still here #up").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    up.put_as(&format!("/api/users/{}/follow", star.id), &fan.token)
        .await;
    let stranger = up.user("Stranger").await;

    // The same database and auth, but a directory nobody answers at.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = up_with_directory_at(&up, &format!("http://127.0.0.1:{port}")).await;
    let started = Instant::now();
    for path in [
        format!("/api/videos/{video}"),
        format!("/api/users/{}/videos", star.id),
        format!("/api/videos/{video}/comments"),
        format!("/api/users/{}/followers", star.id),
        "/api/feed/following".to_owned(),
        "/api/tags/up/videos".to_owned(),
    ] {
        let body: Value = down.read(&path, Some(&fan.token)).await;
        let item = body.get("items").and_then(|i| i.get(0)).unwrap_or(&body);
        if let Some(author) = item.get("author") {
            assert_eq!(author["id"], star.id.as_str(), "{path}");
            assert_eq!(author["name"], Value::Null, "{path}");
        } else if item.get("name").is_some() {
            assert_eq!(item["name"], Value::Null, "{path}");
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no waiting on the dead directory per request"
    );
    // Someone this service has seen still has a profile, without a name.
    let profile = down.read(&format!("/api/users/{}", star.id), None).await;
    assert_eq!(
        (profile["name"].clone(), profile["followerCount"].as_i64()),
        (Value::Null, Some(1))
    );
    // Following someone it has never seen cannot be decided: 503, not 404.
    let resp = down
        .put_as(&format!("/api/users/{}/follow", stranger.id), &fan.token)
        .await;
    assert_error(
        resp,
        StatusCode::SERVICE_UNAVAILABLE,
        "UPSTREAM_UNAVAILABLE",
    )
    .await;
    // Following someone it has seen still works.
    let resp = down
        .put_as(&format!("/api/users/{}/follow", fan.id), &star.token)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

async fn up_with_directory_at(app: &TestApp, url: &str) -> TestApp {
    app.with_settings(&[("DIRECTORY_URL", url)]).await
}
