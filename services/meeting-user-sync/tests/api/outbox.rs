//! auth's outbox: users who sign up while the directory is down all arrive once
//! it is back, each once.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn users_signed_up_while_the_directory_was_down_arrive_after_it_starts_each_once() {
    // auth delivers to a port where nothing listens yet.
    let port = free_port();
    let directory_url = format!("http://127.0.0.1:{port}");
    let auth = Auth::start_with(&[
        ("AUTH_DIRECTORY_URL", directory_url.as_str()),
        ("AUTH_OUTBOX_POLL_MS", "100"),
        ("AUTH_OUTBOX_MAX_BACKOFF_SECS", "1"),
    ])
    .await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(auth.signup(&format!("Offline {n}")).await.0);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        auth.pending_events(),
        5,
        "nothing delivered while the directory is down"
    );

    let app = spawn_app_with_auth(auth, &[("INTERNAL_PORT", &port.to_string())]).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.auth().pending_events() > 0 {
        assert!(Instant::now() < deadline, "the outbox never drained");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let service = app.auth().service_token().await;
    let found: Value = app
        .internal()
        .send_json(
            Method::POST,
            "/internal/users/batch",
            Some(&service),
            &json!({"ids": ids}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut names: Vec<String> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "Offline 0",
            "Offline 1",
            "Offline 2",
            "Offline 3",
            "Offline 4"
        ]
    );
    // The first sync of a delivered user finds the profile there already.
    let (_, token) = app.auth().signup("Online").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.auth().pending_events() > 0 {
        assert!(Instant::now() < deadline, "the new event was not delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sync: Value = app
        .request(Method::POST, "/api/user/sync", Some(&token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        sync["created"], false,
        "the outbox created it, not the sync"
    );
    assert_eq!(sync["user"]["name"], "Online");
    assert_eq!(
        app.request(Method::GET, "/api/user/profile", Some(&token))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}
