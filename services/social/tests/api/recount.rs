//! `social recount`: counters that drifted from their rows are found and fixed,
//! also while likes keep coming.

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::*;

/// Runs `social recount` on the app's database; its JSON report.
async fn recount(app: &TestApp) -> Value {
    let url = app.shared.db_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_social"))
            .arg("recount")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn corrupt(app: &TestApp, sql: &str) {
    let mut conn = PgConnection::establish(&app.shared.db_url).unwrap();
    assert!(
        diesel::sql_query(sql).execute(&mut conn).unwrap() > 0,
        "{sql}"
    );
}

#[tokio::test]
async fn drifted_counters_are_found_and_fixed() {
    let app = spawn_app().await;
    let (owner, fan) = (app.user("Owner").await, app.user("Fan").await);
    let video = app.video(&owner, "count me").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.put_as(&format!("/api/videos/{video}/like"), &fan.token)
        .await;
    app.put_as(&format!("/api/users/{}/follow", owner.id), &fan.token)
        .await;
    let c: Value = app
        .post(
            &format!("/api/videos/{video}/comments"),
            Some(&fan.token),
            &json!({"text": "hi"}),
        )
        .await
        .json()
        .await
        .unwrap();
    app.post(
        &format!("/api/videos/{video}/comments"),
        Some(&owner.token),
        &json!({"text": "hello", "parentId": c["id"]}),
    )
    .await;
    let clean = recount(&app).await;
    assert_eq!(clean["fixed"], 0, "{clean}");
    assert_eq!(clean["counters"]["videos"]["checked"], 1);
    assert_eq!(clean["counters"]["comments"]["checked"], 2);
    assert_eq!(clean["counters"]["users"]["checked"], 2);

    corrupt(&app, "UPDATE videos SET like_count = 41, comment_count = 0");
    corrupt(
        &app,
        "UPDATE comments SET reply_count = 9 WHERE parent_id IS NULL",
    );
    corrupt(
        &app,
        &format!(
            "UPDATE user_stats SET follower_count = 7, like_count = 3 WHERE subject = '{}'",
            owner.id
        ),
    );
    let report = recount(&app).await;
    assert_eq!(report["fixed"], 3, "{report}");
    assert_eq!(report["checked"], 5);
    let v = app.read(&format!("/api/videos/{video}"), None).await;
    assert_eq!(
        (v["likeCount"].as_i64(), v["commentCount"].as_i64()),
        (Some(1), Some(2))
    );
    let list = app
        .read(&format!("/api/videos/{video}/comments"), None)
        .await;
    assert_eq!(list["items"][0]["replyCount"], 1);
    let profile = app.read(&format!("/api/users/{}", owner.id), None).await;
    assert_eq!(
        (
            profile["followerCount"].as_i64(),
            profile["likeCount"].as_i64()
        ),
        (Some(1), Some(1))
    );
}

#[tokio::test]
async fn a_recount_during_a_like_storm_leaves_exact_counts() {
    let app = spawn_app().await;
    let owner = app.user("Owner").await;
    let video = app.video(&owner, "storm").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fans: Vec<User> =
        futures_util::future::join_all((0..60).map(|n| app.account(format!("F{n}")))).await;
    let path = format!("/api/videos/{video}/like");
    let storm = futures_util::future::join_all(fans.iter().map(|f| app.put_as(&path, &f.token)));
    let (answers, report) = tokio::join!(storm, recount(&app));
    assert!(answers.iter().all(|r| r.status().is_success()));
    assert_eq!(
        report["fixed"], 0,
        "a consistent counter is never 'fixed': {report}"
    );
    assert_eq!(
        app.read(&format!("/api/videos/{video}"), None).await["likeCount"],
        60
    );
    assert_eq!(recount(&app).await["fixed"], 0);
}
