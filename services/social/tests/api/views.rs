//! Views: once per viewer per window, buffered in Redis and written within
//! seconds, never lost or counted twice across replicas and restarts, and
//! counted straight in PostgreSQL without Redis.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

async fn view(app: &TestApp, video: &str, token: Option<&str>, agent: &str) -> bool {
    let resp = app
        .request(
            reqwest::Method::POST,
            &format!("/api/videos/{video}/views"),
            token,
        )
        .header("user-agent", agent)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let body: Value = resp.json().await.unwrap();
    body["counted"].as_bool().unwrap()
}

/// Waits until the video's viewCount is `n` (at most `within`), then checks it stays.
async fn expect_views(app: &TestApp, video: &str, n: i64, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let count = app.read(&format!("/api/videos/{video}"), None).await["viewCount"]
            .as_i64()
            .unwrap();
        if count == n {
            break;
        }
        assert!(count < n, "counted {count}, more than {n}");
        assert!(
            Instant::now() < deadline,
            "viewCount {count}, not {n}, after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.read(&format!("/api/videos/{video}"), None).await["viewCount"],
        n
    );
}

#[tokio::test]
async fn a_viewer_counts_once_per_window_and_counts_arrive_within_seconds() {
    let app = spawn_app().await;
    let (owner, fan) = (app.user("Owner").await, app.user("Fan").await);
    let video = app.video(&owner, "watch").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(view(&app, &video, Some(&fan.token), "phone").await);
    assert!(
        !view(&app, &video, Some(&fan.token), "laptop").await,
        "the same user"
    );
    assert!(view(&app, &video, None, "browser a").await);
    assert!(
        !view(&app, &video, None, "browser a").await,
        "the same address and agent"
    );
    assert!(view(&app, &video, None, "browser b").await);
    expect_views(&app, &video, 3, Duration::from_secs(5)).await;
    use social::db::schema::seen_videos;
    let mut db = PgConnection::establish(&app.shared.db_url).unwrap();
    let seen: Vec<String> = seen_videos::table
        .select(seen_videos::user_subject)
        .load(&mut db)
        .unwrap();
    assert_eq!(
        seen,
        vec![fan.id.clone()],
        "signed-in viewers are marked seen"
    );
    let resp = app
        .post(
            &format!("/api/videos/{}/views", uuid::Uuid::now_v7()),
            None,
            &serde_json::json!({}),
        )
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn buffered_views_survive_the_replica_that_took_them() {
    // This replica never flushes: its views wait in Redis.
    let app = spawn_app_with(&[("VIEWS_FLUSH_MS", "3600000")]).await;
    let owner = app.user("Owner").await;
    let video = app.video(&owner, "buffered").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for agent in ["a", "b", "c"] {
        assert!(view(&app, &video, None, agent).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.read(&format!("/api/videos/{video}"), None).await["viewCount"],
        0
    );
    // Another replica (or this one restarted) writes them, once.
    let replica = app.with_settings(&[("VIEWS_FLUSH_MS", "100")]).await;
    expect_views(&replica, &video, 3, Duration::from_secs(5)).await;
}

fn redis() -> redis::Client {
    redis::Client::open(testkit::redis_url()).unwrap()
}

#[tokio::test]
async fn a_batch_left_behind_is_applied_once() {
    let app = spawn_app_with(&[("VIEWS_FLUSH_MS", "100")]).await;
    let owner = app.user("Owner").await;
    let video = app.video(&owner, "left behind").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let prefix = &app.shared.redis_prefix;
    let mut conn = redis().get_multiplexed_async_connection().await.unwrap();
    let old = chrono::Utc::now().timestamp_millis() - 60_000;
    // A replica took two batches and stopped: one before applying it, one after
    // applying it but before deleting it.
    let mut db = PgConnection::establish(&app.shared.db_url).unwrap();
    diesel::sql_query("INSERT INTO view_batches (id) VALUES ('applied-before')")
        .execute(&mut db)
        .unwrap();
    for (batch, n) in [("never-applied", 4), ("applied-before", 7)] {
        redis::pipe()
            .hset(format!("{prefix}:views:batch:{batch}:counts"), &video, n)
            .zadd(format!("{prefix}:views:batches"), batch, old)
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
    }
    expect_views(&app, &video, 4, Duration::from_secs(5)).await;
    let left: Vec<String> = redis::cmd("ZRANGE")
        .arg(format!("{prefix}:views:batches"))
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn without_redis_views_are_counted_in_postgresql() {
    let mut redis = testkit::RedisServer::start().unwrap();
    let app = spawn_app_with(&[("REDIS_URL", &redis.url())]).await;
    let owner = app.user("Owner").await;
    let video = app.video(&owner, "no redis").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    redis.stop();
    assert!(view(&app, &video, Some(&owner.token), "x").await);
    assert!(!view(&app, &video, Some(&owner.token), "x").await);
    assert!(view(&app, &video, None, "y").await);
    assert_eq!(
        app.read(&format!("/api/videos/{video}"), None).await["viewCount"],
        2
    );
    let mut db = PgConnection::establish(&app.shared.db_url).unwrap();
    use social::db::schema::seen_videos;
    let seen: i64 = seen_videos::table.count().get_result(&mut db).unwrap();
    assert_eq!(seen, 1, "the signed-in viewer's video is marked seen");
}
