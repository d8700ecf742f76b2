//! The short-video app through the real gateway: first-party and Clerk users
//! post, follow, like and comment; names come from the directory; an admin
//! removes a video.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use e2e::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A first-party user the directory knows: (id, token).
async fn member(name: &str) -> (String, String) {
    let (_, body) = signup(name).await;
    let token = body["accessToken"].as_str().unwrap().to_owned();
    let resp = call(Method::POST, "/api/user/sync", Some(&token), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    (body["user"]["id"].as_str().unwrap().to_owned(), token)
}

async fn ok(method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
    let resp = call(method.clone(), path, token, body).await;
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[tokio::test]
async fn the_gateway_reports_the_social_upstream() {
    let body = ok(Method::GET, "/health", None, None).await;
    assert_eq!(body["upstreams"]["social"]["status"], "ok", "{body}");
}

#[tokio::test]
async fn creators_and_fans_meet_through_the_gateway() {
    let (creator, creator_token) = member("Gateway Creator").await;
    let (fan, fan_token) = member("Gateway Fan").await;
    let (clerk_id, clerk_token) = clerk_user("Clerky").await;
    ok(Method::POST, "/api/user/sync", Some(&clerk_token), None).await;

    let tag = format!("e2e{}", uuid::Uuid::now_v7().simple());
    let video = ok(
        Method::POST,
        "/api/videos",
        Some(&creator_token),
        Some(json!({"caption": format!("Through the gateway #{tag}"), "videoUrl": "https://cdn.example.com/e2e.mp4"})),
    )
    .await;
    let id = video["id"].as_str().unwrap();
    assert_eq!(video["author"]["name"], "Gateway Creator");
    assert_eq!(video["hashtags"], json!([tag]));

    let follow = ok(
        Method::PUT,
        &format!("/api/users/{creator}/follow"),
        Some(&fan_token),
        None,
    )
    .await;
    assert_eq!(follow, json!({"following": true, "followerCount": 1}));
    ok(
        Method::PUT,
        &format!("/api/videos/{id}/like"),
        Some(&fan_token),
        None,
    )
    .await;
    let liked = ok(
        Method::PUT,
        &format!("/api/videos/{id}/like"),
        Some(&clerk_token),
        None,
    )
    .await;
    assert_eq!(liked["likeCount"], 2);
    let comment = ok(
        Method::POST,
        &format!("/api/videos/{id}/comments"),
        Some(&clerk_token),
        Some(json!({"text": "hello from Clerk"})),
    )
    .await;
    assert_eq!(comment["author"]["id"], clerk_id.as_str());
    assert_eq!(comment["author"]["name"], "Clerky E2E");
    ok(
        Method::POST,
        &format!("/api/videos/{id}/comments"),
        Some(&fan_token),
        Some(json!({"text": "a reply", "parentId": comment["id"]})),
    )
    .await;

    let feed = ok(Method::GET, "/api/feed/following", Some(&fan_token), None).await;
    assert_eq!(feed["items"][0]["id"], id);
    assert_eq!(feed["items"][0]["liked"], true);
    let tagged = ok(Method::GET, &format!("/api/tags/{tag}/videos"), None, None).await;
    assert_eq!(tagged["items"][0]["commentCount"], 2);
    let comments = ok(
        Method::GET,
        &format!("/api/videos/{id}/comments"),
        None,
        None,
    )
    .await;
    assert_eq!(comments["items"][0]["replyCount"], 1);
    let profile = ok(
        Method::GET,
        &format!("/api/users/{creator}"),
        Some(&fan_token),
        None,
    )
    .await;
    assert_eq!(profile["name"], "Gateway Creator");
    assert_eq!(
        (
            profile["followerCount"].as_i64(),
            profile["likeCount"].as_i64()
        ),
        (Some(1), Some(2))
    );
    assert_eq!(profile["following"], true);
    let followers = ok(
        Method::GET,
        &format!("/api/users/{creator}/followers"),
        None,
        None,
    )
    .await;
    assert_eq!(followers["items"][0]["id"], fan.as_str());
    assert_eq!(followers["items"][0]["name"], "Gateway Fan");

    // Another user may not delete it; an admin may.
    let resp = call(
        Method::DELETE,
        &format!("/api/videos/{id}"),
        Some(&fan_token),
        None,
    )
    .await;
    envelope(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let admin = bootstrap_admin().await;
    let resp = call(
        Method::DELETE,
        &format!("/api/videos/{id}"),
        admin["accessToken"].as_str(),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = call(Method::GET, &format!("/api/videos/{id}"), None, None).await;
    envelope(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let profile = ok(Method::GET, &format!("/api/users/{creator}"), None, None).await;
    assert_eq!(
        (
            profile["videoCount"].as_i64(),
            profile["likeCount"].as_i64()
        ),
        (Some(0), Some(0))
    );
}

#[tokio::test]
async fn social_errors_come_in_the_envelope_through_the_gateway() {
    let resp = call(Method::POST, "/api/videos", None, Some(json!({}))).await;
    envelope(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let (_, token) = member("Gateway Errors").await;
    let resp = call(Method::POST, "/api/videos", Some(&token), Some(json!({}))).await;
    envelope(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    let resp = call(Method::GET, "/api/videos/not-a-video", None, None).await;
    envelope(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = call(Method::GET, "/api/feed/nothing-here", None, None).await;
    envelope(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn notifications_stream_through_the_gateway_as_they_happen() {
    let (star, star_token) = member("Gateway Star").await;
    let (_, fan_token) = member("Gateway Listener").await;
    let mut stream = http()
        .get(format!("{}/api/notifications/stream", gateway()))
        .bearer_auth(&star_token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(
        stream.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    // Reads until `needle` has come, for at most five seconds: an event held in
    // a gateway buffer would not come at all while the stream stays open.
    async fn until(stream: &mut reqwest::Response, seen: &mut String, needle: &str) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while !seen.contains(needle) {
            let chunk = tokio::time::timeout_at(deadline, stream.chunk())
                .await
                .unwrap_or_else(|_| panic!("no {needle} within 5 s; got {seen:?}"))
                .unwrap()
                .expect("the stream stays open");
            seen.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
    let mut seen = String::new();
    until(&mut stream, &mut seen, "event: unread").await;
    ok(
        Method::PUT,
        &format!("/api/users/{star}/follow"),
        Some(&fan_token),
        None,
    )
    .await;
    until(&mut stream, &mut seen, "event: notification").await;
    assert!(seen.contains("\"type\":\"follow\""), "{seen}");
    assert!(seen.contains("Gateway Listener"), "{seen}");
    let unread = ok(
        Method::GET,
        "/api/notifications/unread-count",
        Some(&star_token),
        None,
    )
    .await;
    assert_eq!(unread, json!({"count": 1}));
}

#[tokio::test]
async fn an_upload_through_the_gateway_is_processed_and_streams_by_range() {
    let (_, token) = member("Gateway Uploader").await;
    let bytes = testkit::api::clip(1, 320, 240);
    let (content_type, body) = testkit::api::multipart(&[
        testkit::api::Part::text("caption", "through the #gateway"),
        testkit::api::Part::file("file", "clip.mp4", "video/mp4", &bytes),
    ]);
    let resp = http()
        .post(format!("{}/api/videos/upload", gateway()))
        .bearer_auth(&token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let video: Value = resp.json().await.unwrap();
    let id = video["id"].as_str().unwrap().to_owned();
    let ready = processed(&id, &token).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    let playlist = call(Method::GET, ready["hlsUrl"].as_str().unwrap(), None, None).await;
    assert_eq!(playlist.status(), StatusCode::OK);
    assert!(playlist.text().await.unwrap().starts_with("#EXTM3U"));
    let part = http()
        .get(format!(
            "{}{}",
            gateway(),
            ready["streamUrl"].as_str().unwrap()
        ))
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    let n = bytes.len();
    assert_eq!(
        part.headers()["content-range"].to_str().unwrap(),
        format!("bytes 10-19/{n}")
    );
    assert!(part.headers().contains_key("x-request-id"));
    assert!(!part.headers().contains_key("last-modified"));
    assert_eq!(part.bytes().await.unwrap(), bytes[10..20]);

    // The stack hands the bytes to the gateway (MEDIA_ACCEL_REDIRECT): what a
    // client sees is what the service itself would send.
    let stream = format!("{}{}", gateway(), ready["streamUrl"].as_str().unwrap());
    let get = |headers: &[(&str, &str)]| {
        let mut req = http().get(&stream);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send()
    };
    let whole = get(&[]).await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["content-type"], "video/mp4");
    assert!(whole.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert!(!whole.headers().contains_key("x-accel-redirect"));
    let etag = whole.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(whole.bytes().await.unwrap(), bytes);
    let resp = get(&[("range", "bytes=100-"), ("if-range", &etag)])
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(resp.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(resp.bytes().await.unwrap(), bytes[100..]);
    let resp = get(&[("range", "bytes=100-"), ("if-range", "\"stale\"")])
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "a stale If-Range gets all of it"
    );
    assert_eq!(resp.bytes().await.unwrap().len(), n);
    let resp = get(&[("if-none-match", &etag)]).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    // nginx alone would refuse this (412: it knows no ETag); the service
    // streams it, as it ignores If-Match.
    let resp = get(&[("if-match", &etag)]).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.unwrap(), bytes);
    let resp = get(&[("range", &format!("bytes={n}-"))]).await.unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        resp.headers()["content-range"].to_str().unwrap(),
        format!("bytes */{n}")
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "RANGE_NOT_SATISFIABLE");
    let poster = call(
        Method::GET,
        ready["posterUrl"].as_str().unwrap(),
        None,
        None,
    )
    .await;
    assert_eq!(poster.headers()["content-type"], "image/jpeg");
    assert!(poster
        .bytes()
        .await
        .unwrap()
        .starts_with(&[0xFF, 0xD8, 0xFF]));
    // The gateway's media location is reachable only through the service.
    let resp = call(
        Method::GET,
        &format!("/__reelstack/media/videos/{id}/original"),
        None,
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// The Python with tuspy that `make test` installs (`.run/tus-venv`).
fn tus_python() -> std::path::PathBuf {
    std::env::var_os("E2E_TUS_PYTHON").map_or_else(
        || testkit::workspace_root().join(".run/tus-venv/bin/python"),
        std::path::PathBuf::from,
    )
}

#[tokio::test]
async fn a_real_tus_client_uploads_in_chunks_across_a_dropped_connection() {
    let (_, token) = member("Gateway Tus").await;
    let bytes = testkit::api::clip(2, 640, 360);
    let clip = std::env::temp_dir().join(format!("tus-{}.mp4", uuid::Uuid::now_v7().simple()));
    std::fs::write(&clip, &bytes).unwrap();
    let chunk = bytes.len() / 4 + 1;
    let python = tus_python();
    assert!(
        python.exists(),
        "{} missing: `make test` installs tuspy there (deploy/local/tus-requirements.txt)",
        python.display()
    );
    let script = testkit::workspace_root().join("tests/e2e/tus_client.py");
    let out = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(gateway())
        .arg(&token)
        .arg(&clip)
        .arg(chunk.to_string())
        .output()
        .await
        .unwrap();
    std::fs::remove_file(&clip).unwrap();
    assert!(
        out.status.success(),
        "tus client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["cuts"], 1, "{report}");
    assert_eq!(report["size"], bytes.len());
    // After the cut the client asked where to go on, and went on from there:
    // from the first chunk's end, or past it by what of the second the gateway
    // had passed on before it saw the client go (the service keeps what came;
    // its own tests check that byte for byte).
    let resumed = report["resumedFrom"][0]
        .as_u64()
        .expect("a HEAD after the cut") as usize;
    assert!((chunk..2 * chunk).contains(&resumed), "{report}");
    assert_eq!(
        report["offsets"].as_array().unwrap().last(),
        Some(&json!(bytes.len()))
    );
    let video_id = report["videoId"]
        .as_str()
        .expect("Video-Id on the last PATCH");
    let upload_path = urlsplit_path(report["url"].as_str().unwrap());
    let status = ok(Method::GET, &upload_path, Some(&token), None).await;
    assert_eq!(status["videoId"], video_id);
    let video = processed(video_id, &token).await;
    assert_eq!(video["status"], "ready", "{video}");
    assert_eq!(video["caption"], "resumed with #tuspy");
    let original = http()
        .get(format!(
            "{}{}",
            gateway(),
            video["streamUrl"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        original.bytes().await.unwrap(),
        bytes,
        "every byte, once, in order"
    );
}

/// The path of an absolute URL (`http://host:port/api/uploads/…` → `/api/uploads/…`).
fn urlsplit_path(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme
        .find('/')
        .map_or_else(|| "/".to_owned(), |i| after_scheme[i..].to_owned())
}

/// The video, polled as its owner until it is no longer processing (60 s at most).
async fn processed(id: &str, token: &str) -> Value {
    for _ in 0..240 {
        let video = ok(Method::GET, &format!("/api/videos/{id}"), Some(token), None).await;
        if video["status"] != "processing" {
            return video;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("video {id} still processing after 60 s");
}
