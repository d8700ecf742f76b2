//! Uploads: multipart bodies streamed to object storage, processing by the real
//! ffprobe and ffmpeg (clips made here from ffmpeg's lavfi test sources), and
//! the media routes (ranges, HLS, poster).

use std::process::Command;
use std::time::Duration;

use diesel::prelude::*;
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use testkit::api::{clip, multipart, Part};

use crate::helpers::*;

/// Width and height of the first video stream of a file, by ffprobe.
fn probe_size(bytes: &[u8]) -> (u32, u32) {
    let file = std::env::temp_dir().join(format!("probe-{}", uuid::Uuid::now_v7().simple()));
    std::fs::write(&file, bytes).unwrap();
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["stream=width,height", "-of", "json"])
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let stream = &json["streams"][0];
    let side =
        |k: &str| u32::try_from(stream[k].as_u64().unwrap_or_else(|| panic!("{json}"))).unwrap();
    (side("width"), side("height"))
}

async fn upload(app: &TestApp, token: Option<&str>, parts: &[Part<'_>]) -> Response {
    let (content_type, body) = multipart(parts);
    app.post_raw("/api/videos/upload", token, &content_type, body)
        .await
}

async fn upload_video(app: &TestApp, user: &User, caption: &str, bytes: &[u8]) -> Value {
    let resp = upload(
        app,
        Some(&user.token),
        &[
            Part::text("caption", caption),
            Part::file("file", "clip.mp4", "video/mp4", bytes),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    resp.json().await.unwrap()
}

/// Polls the video as its owner until it is no longer processing.
async fn settled(app: &TestApp, user: &User, id: &str) -> Value {
    for _ in 0..240 {
        let video = app
            .read(&format!("/api/videos/{id}"), Some(&user.token))
            .await;
        if video["status"] != "processing" {
            return video;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("video {id} still processing after 60 s");
}

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = app.request(Method::GET, path, None);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

fn header<'a>(resp: &'a Response, name: &str) -> &'a str {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn an_upload_becomes_a_poster_and_an_hls_rendition_and_streams_by_range() {
    let app = spawn_app().await;
    let owner = app.user("Uploader").await;
    // Portrait and taller than 720: the rendition is scaled down, aspect kept.
    let bytes = clip(2, 540, 960);
    let video = upload_video(&app, &owner, "my first #Upload", &bytes).await;
    let id = video["id"].as_str().unwrap().to_owned();
    assert_eq!(video["status"], "processing");
    assert_eq!(video["source"], "upload");
    assert_eq!(video["hashtags"], serde_json::json!(["upload"]));
    assert_eq!(video["streamUrl"], format!("/api/videos/{id}/stream"));
    assert_eq!(
        (video["hlsUrl"].is_null(), video["posterUrl"].is_null()),
        (true, true)
    );
    // Others do not see it until it is ready.
    let resp = app.get(&format!("/api/videos/{id}")).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;

    let video = settled(&app, &owner, &id).await;
    assert_eq!(video["status"], "ready", "{video}");
    assert_eq!(video["failureReason"], Value::Null);
    assert_eq!(
        (video["width"].as_i64(), video["height"].as_i64()),
        (Some(540), Some(960))
    );
    let duration = video["durationSeconds"].as_f64().unwrap();
    assert!((1.9..=2.2).contains(&duration), "{duration}");
    assert_eq!(video["posterUrl"], format!("/api/videos/{id}/poster.jpg"));
    assert_eq!(video["hlsUrl"], format!("/api/videos/{id}/hls/index.m3u8"));
    assert_eq!(
        app.read(&format!("/api/videos/{id}"), None).await["status"],
        "ready"
    );
    let profile = app.read(&format!("/api/users/{}", owner.id), None).await;
    assert_eq!(profile["videoCount"], 1);

    // The rendition: a VOD playlist of segments, H.264 at 720 pixels high.
    let resp = get(&app, &format!("/api/videos/{id}/hls/index.m3u8"), &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(&resp, "content-type"),
        "application/vnd.apple.mpegurl"
    );
    assert!(header(&resp, "cache-control").contains("max-age=31536000"));
    let etag = header(&resp, "etag").to_owned();
    let playlist = resp.text().await.unwrap();
    assert!(playlist.starts_with("#EXTM3U"), "{playlist}");
    assert!(playlist.contains("#EXT-X-ENDLIST"), "{playlist}");
    let segments: Vec<&str> = playlist.lines().filter(|l| l.ends_with(".ts")).collect();
    assert!(!segments.is_empty(), "{playlist}");
    let again = get(
        &app,
        &format!("/api/videos/{id}/hls/index.m3u8"),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let resp = get(&app, &format!("/api/videos/{id}/hls/{}", segments[0]), &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "content-type"), "video/mp2t");
    let (width, height) = probe_size(&resp.bytes().await.unwrap());
    assert_eq!(height, 720);
    assert!(
        (404..=406).contains(&width),
        "aspect kept: {width}x{height}"
    );
    for bad in ["original", "..%2Foriginal", "seg_999.ts", "poster.jpg"] {
        let resp = get(&app, &format!("/api/videos/{id}/hls/{bad}"), &[]).await;
        assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }

    let resp = get(&app, &format!("/api/videos/{id}/poster.jpg"), &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "content-type"), "image/jpeg");
    assert!(resp.headers().contains_key("etag"));
    let poster = resp.bytes().await.unwrap();
    assert!(poster.starts_with(&[0xFF, 0xD8, 0xFF]));
    assert_eq!(probe_size(&poster).1, 720);

    // The original, whole and by range.
    let stream = format!("/api/videos/{id}/stream");
    let resp = get(&app, &stream, &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "accept-ranges"), "bytes");
    assert_eq!(header(&resp, "content-type"), "video/mp4");
    assert_eq!(header(&resp, "content-length"), bytes.len().to_string());
    let etag = header(&resp, "etag").to_owned();
    assert_eq!(resp.bytes().await.unwrap(), bytes);
    let n = bytes.len();
    let resp = get(&app, &stream, &[("range", "bytes=0-99")]).await;
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&resp, "content-range"), format!("bytes 0-99/{n}"));
    assert_eq!(resp.bytes().await.unwrap(), bytes[..100]);
    let resp = get(&app, &stream, &[("range", "bytes=-10")]).await;
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(resp.bytes().await.unwrap(), bytes[n - 10..]);
    let resp = get(
        &app,
        &stream,
        &[("range", "bytes=100-"), ("if-range", &etag)],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(resp.bytes().await.unwrap(), bytes[100..]);
    let resp = get(
        &app,
        &stream,
        &[("range", "bytes=100-"), ("if-range", "\"stale\"")],
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "a stale If-Range gets all of it"
    );
    assert_eq!(resp.bytes().await.unwrap().len(), n);
    let resp = get(&app, &stream, &[("if-none-match", &etag)]).await;
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    let resp = get(&app, &stream, &[("range", &format!("bytes={n}-"))]).await;
    assert_eq!(header(&resp, "content-range"), format!("bytes */{n}"));
    assert_error(
        resp,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "RANGE_NOT_SATISFIABLE",
    )
    .await;

    // Deleting it removes every object it had.
    assert!(files_under(&app.shared.storage_dir.join("videos")) >= 4);
    let resp = app
        .send(
            Method::DELETE,
            &format!("/api/videos/{id}"),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(files_under(&app.shared.storage_dir.join("videos")), 0);
    let resp = get(&app, &stream, &[]).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn with_media_accel_redirect_the_gateway_is_handed_the_stored_file() {
    let app = spawn_app_with(&[("MEDIA_ACCEL_REDIRECT", "true")]).await;
    let owner = app.user("Handed").await;
    let bytes = clip(1, 320, 240);
    let video = upload_video(&app, &owner, "handed over", &bytes).await;
    let id = video["id"].as_str().unwrap().to_owned();
    assert_eq!(settled(&app, &owner, &id).await["status"], "ready");
    let stored = |resp: &Response| {
        let target = header(resp, "x-accel-redirect");
        let key = target
            .strip_prefix("/__reelstack/media/")
            .unwrap_or_else(|| panic!("{target}"));
        std::fs::read(app.shared.storage_dir.join(key)).unwrap()
    };

    // The original, with or without a range: the gateway sends the bytes (and
    // the range) of the file it is pointed at, with these validators.
    let stream = format!("/api/videos/{id}/stream");
    for range in [None, Some("bytes=0-99")] {
        let headers: Vec<(&str, &str)> = range.iter().map(|r| ("range", *r)).collect();
        let resp = get(&app, &stream, &headers).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            header(&resp, "x-accel-redirect"),
            format!("/__reelstack/media/videos/{id}/original")
        );
        assert_eq!(stored(&resp), bytes);
        assert_eq!(header(&resp, "content-type"), "video/mp4");
        assert!(header(&resp, "cache-control").contains("immutable"));
        assert!(header(&resp, "etag").starts_with('"'));
        assert!(resp.bytes().await.unwrap().is_empty());
    }
    // What needs the service is answered by it: not modified, a range past
    // the end, a file the rendition does not have.
    let etag = header(&get(&app, &stream, &[]).await, "etag").to_owned();
    let resp = get(&app, &stream, &[("if-none-match", &etag)]).await;
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert!(!resp.headers().contains_key("x-accel-redirect"));
    let n = bytes.len();
    let resp = get(&app, &stream, &[("range", &format!("bytes={n}-"))]).await;
    assert!(!resp.headers().contains_key("x-accel-redirect"));
    assert_error(
        resp,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "RANGE_NOT_SATISFIABLE",
    )
    .await;
    let resp = get(&app, &format!("/api/videos/{id}/hls/seg_999.ts"), &[]).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    // And what nginx would answer otherwise (a 412 for validators it does not
    // have, some of several ranges, a range of a file served whole): the
    // service sends the bytes itself.
    let playlist = format!("/api/videos/{id}/hls/index.m3u8");
    for (path, headers) in [
        (&stream, vec![("if-match", etag.as_str())]),
        (
            &stream,
            vec![("if-unmodified-since", "Thu, 01 Jan 2015 00:00:00 GMT")],
        ),
        (&stream, vec![("range", "bytes=0-1,5-6")]),
        (&playlist, vec![("range", "bytes=0-9")]),
    ] {
        let resp = get(&app, path, &headers).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path} {headers:?}");
        assert!(!resp.headers().contains_key("x-accel-redirect"));
        let body = resp.bytes().await.unwrap();
        if path == &stream {
            assert_eq!(body, bytes);
        } else {
            assert!(body.starts_with(b"#EXTM3U"));
        }
    }

    // The rendition and the poster, likewise.
    let resp = get(&app, &format!("/api/videos/{id}/hls/index.m3u8"), &[]).await;
    assert_eq!(
        header(&resp, "content-type"),
        "application/vnd.apple.mpegurl"
    );
    assert!(stored(&resp).starts_with(b"#EXTM3U"));
    let resp = get(&app, &format!("/api/videos/{id}/poster.jpg"), &[]).await;
    assert_eq!(header(&resp, "content-type"), "image/jpeg");
    assert!(stored(&resp).starts_with(&[0xFF, 0xD8, 0xFF]));
}

#[tokio::test]
async fn what_is_not_a_short_video_fails_with_a_reason_for_its_owner() {
    let app = spawn_app_with(&[("VIDEO_MAX_SECONDS", "1")]).await;
    let owner = app.user("Hopeful").await;
    let text = upload_video(&app, &owner, "", b"this is not a video at all").await;
    let long = upload_video(&app, &owner, "too long", &clip(2, 160, 120)).await;
    let text = settled(&app, &owner, text["id"].as_str().unwrap()).await;
    assert_eq!(text["status"], "failed");
    assert_eq!(text["failureReason"], "the file is not a video");
    let long = settled(&app, &owner, long["id"].as_str().unwrap()).await;
    assert_eq!(long["status"], "failed");
    assert_eq!(
        long["failureReason"],
        "the video is 2.0 seconds long; at most 1 are accepted"
    );
    // Only the owner sees failed videos.
    let resp = app
        .get(&format!("/api/videos/{}", long["id"].as_str().unwrap()))
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let grid = app
        .read(
            &format!("/api/users/{}/videos", owner.id),
            Some(&owner.token),
        )
        .await;
    assert_eq!(ids(&grid).len(), 2);
    assert!(ids(&app
        .read(&format!("/api/users/{}/videos", owner.id), None)
        .await)
    .is_empty());
    assert_eq!(
        app.read(&format!("/api/users/{}", owner.id), None).await["videoCount"],
        0
    );
}

#[tokio::test]
async fn refused_uploads_store_nothing() {
    let app = spawn_app_with(&[
        ("VIDEO_MAX_BYTES", "100000"),
        ("UPLOADS_PER_USER_PER_HOUR", "100"),
    ])
    .await;
    let user = app.user("Refused").await;
    let big = vec![7u8; 300_000];
    let resp = upload(
        &app,
        Some(&user.token),
        &[Part::file("file", "big.mp4", "video/mp4", &big)],
    )
    .await;
    assert_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    let clip = clip(1, 160, 120);
    let long_caption = "x".repeat(2201);
    for (parts, field) in [
        (vec![Part::text("caption", "no file")], "file"),
        (
            vec![Part::file("file", "empty.mp4", "video/mp4", b"")],
            "file",
        ),
        (
            vec![
                Part::file("file", "a.mp4", "video/mp4", &clip),
                Part::text("caption", &long_caption),
            ],
            "caption",
        ),
        (
            vec![
                Part::file("file", "a.mp4", "video/mp4", &clip),
                Part::text("title", "unknown field"),
            ],
            "file",
        ),
        (
            vec![
                Part::file("file", "a.mp4", "video/mp4", &clip),
                Part::file("file", "b.mp4", "video/mp4", &clip),
            ],
            "file",
        ),
    ] {
        let resp = upload(&app, Some(&user.token), &parts).await;
        let body = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&body), [field], "{body}");
    }
    let resp = app
        .post(
            "/api/videos/upload",
            Some(&user.token),
            &serde_json::json!({"file": "x"}),
        )
        .await;
    assert_error(
        resp,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    let resp = app
        .post_raw(
            "/api/videos/upload",
            Some(&user.token),
            "multipart/form-data; boundary=xyz",
            b"--xyz\r\nno headers here".to_vec(),
        )
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let resp = upload(
        &app,
        None,
        &[Part::file("file", "a.mp4", "video/mp4", &clip)],
    )
    .await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let forged = app.forged_token(&user.id).await;
    let resp = upload(
        &app,
        Some(&forged),
        &[Part::file("file", "a.mp4", "video/mp4", &clip)],
    )
    .await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;

    assert_eq!(files_under(&app.shared.storage_dir.join("videos")), 0);
    let grid = app
        .read(&format!("/api/users/{}/videos", user.id), Some(&user.token))
        .await;
    assert!(ids(&grid).is_empty());
}

#[tokio::test]
async fn uploads_are_rate_limited_per_account() {
    let app = spawn_app_with(&[
        ("UPLOADS_PER_USER_PER_HOUR", "2"),
        ("VIDEO_PROCESSING_CONCURRENCY", "0"),
    ])
    .await;
    let (user, other) = (app.user("Busy").await, app.user("Other").await);
    let clip = clip(1, 160, 120);
    upload_video(&app, &user, "one", &clip).await;
    upload_video(&app, &user, "two", &clip).await;
    let resp = upload(
        &app,
        Some(&user.token),
        &[Part::file("file", "a.mp4", "video/mp4", &clip)],
    )
    .await;
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    upload_video(&app, &other, "mine", &clip).await;
}

#[tokio::test]
async fn a_job_left_by_a_replica_is_done_by_another() {
    // This replica takes uploads but processes none: its jobs wait in PostgreSQL.
    let api_only = spawn_app_with(&[("VIDEO_PROCESSING_CONCURRENCY", "0")]).await;
    let owner = api_only.user("Patient").await;
    let video = upload_video(&api_only, &owner, "later", &clip(1, 160, 120)).await;
    let id = video["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        api_only
            .read(&format!("/api/videos/{id}"), Some(&owner.token))
            .await["status"],
        "processing"
    );
    // A replica that processes, started afterwards, finds the job and does it.
    let worker = api_only
        .with_settings(&[("VIDEO_PROCESSING_CONCURRENCY", "1")])
        .await;
    let done = settled(&worker, &owner, &id).await;
    assert_eq!(done["status"], "ready", "{done}");
}

#[tokio::test]
async fn a_claimed_job_is_claimed_again_once_its_lease_runs_out() {
    let app = spawn_app_with(&[("VIDEO_PROCESSING_CONCURRENCY", "0")]).await;
    let owner = app.user("Leased").await;
    let video = upload_video(&app, &owner, "", &clip(1, 160, 120)).await;
    let id: uuid::Uuid = video["id"].as_str().unwrap().parse().unwrap();
    let mut conn = PgConnection::establish(&app.shared.db_url).unwrap();
    let first = social::db::jobs::claim(&mut conn, 600)
        .unwrap()
        .expect("a due job");
    assert_eq!((first.video_id, first.attempt), (id, 1));
    assert_eq!(
        social::db::jobs::claim(&mut conn, 600).unwrap(),
        None,
        "held by its lease"
    );
    // A replica that stopped mid-job: its lease runs out.
    diesel::sql_query("UPDATE video_jobs SET locked_until = now() - interval '1 second'")
        .execute(&mut conn)
        .unwrap();
    let second = social::db::jobs::claim(&mut conn, 600)
        .unwrap()
        .expect("claimed again");
    assert_eq!((second.video_id, second.attempt), (id, 2));
}

#[tokio::test]
async fn an_idempotency_key_makes_an_upload_retry_safe() {
    let app = spawn_app_with(&[("VIDEO_PROCESSING_CONCURRENCY", "0")]).await;
    let owner = app.user("Retrier").await;
    let clip = clip(1, 160, 120);
    let send = |caption: &'static str, key: &'static str| {
        let (content_type, body) = multipart(&[
            Part::text("caption", caption),
            Part::file("file", "clip.mp4", "video/mp4", &clip),
        ]);
        app.request(Method::POST, "/api/videos/upload", Some(&owner.token))
            .header("content-type", content_type)
            .header("idempotency-key", key)
            .body(body)
            .send()
    };
    let first = send("once", "upload-1").await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = send("once", "upload-1").await.unwrap();
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&again, "idempotent-replayed"), "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"], "the first answer, replayed");
    let resp = send("another caption", "upload-1").await.unwrap();
    let body = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&body), ["Idempotency-Key"]);
    let grid = app
        .read(
            &format!("/api/users/{}/videos", owner.id),
            Some(&owner.token),
        )
        .await;
    assert_eq!(ids(&grid).len(), 1, "one video for the three requests");
    assert_eq!(
        files_under(&app.shared.storage_dir.join("videos")),
        1,
        "the retries' bytes are not kept"
    );
}

#[tokio::test]
async fn a_retry_while_the_first_upload_is_still_arriving_is_409() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(&[("VIDEO_PROCESSING_CONCURRENCY", "0")]).await;
    let owner = app.user("Impatient").await;
    let clip = clip(1, 160, 120);
    let (content_type, body) = multipart(&[Part::file("file", "clip.mp4", "video/mp4", &clip)]);
    // The first upload: its head and half its body, the rest held back.
    let address = app.url("").replace("http://", "");
    let mut socket = tokio::net::TcpStream::connect(address.trim_end_matches('/'))
        .await
        .unwrap();
    let head = format!(
        "POST /api/videos/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nIdempotency-Key: slow-1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nX-Real-IP: {}\r\nConnection: close\r\n\r\n",
        owner.token,
        body.len(),
        app.ip
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let half = body.len() / 2;
    socket.write_all(&body[..half]).await.unwrap();
    socket.flush().await.unwrap();
    // The service has the head and takes the key before it reads the body.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let retry = app
        .request(Method::POST, "/api/videos/upload", Some(&owner.token))
        .header("content-type", content_type.clone())
        .header("idempotency-key", "slow-1")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_error(retry, StatusCode::CONFLICT, "CONFLICT").await;
    socket.write_all(&body[half..]).await.unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    let grid = app
        .read(
            &format!("/api/users/{}/videos", owner.id),
            Some(&owner.token),
        )
        .await;
    assert_eq!(ids(&grid).len(), 1);
}

#[tokio::test]
async fn a_job_whose_worker_was_killed_mid_job_is_done_by_another() {
    // Uploads land on a replica that processes none; the worker is the service's
    // own binary, in a process of its own, whose ffprobe hangs.
    let app = spawn_app_with(&[("VIDEO_PROCESSING_CONCURRENCY", "0")]).await;
    let owner = app.user("Survivor").await;
    let hang = std::env::temp_dir().join(format!("hang-{}.sh", uuid::Uuid::now_v7().simple()));
    std::fs::write(&hang, "#!/bin/sh\nsleep 20\n").unwrap();
    std::fs::set_permissions(&hang, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let hang_path = hang.display().to_string();
    let mut worker = Command::new(env!("CARGO_BIN_EXE_social"))
        .envs(app.replica_env(&[
            ("VIDEO_PROCESSING_CONCURRENCY", "1"),
            ("VIDEO_PROCESSING_TIMEOUT_SECS", "2"),
            ("FFPROBE_PATH", &hang_path),
        ]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let video = upload_video(&app, &owner, "survives", &clip(1, 160, 120)).await;
    let id: uuid::Uuid = video["id"].as_str().unwrap().parse().unwrap();
    let mut conn = PgConnection::establish(&app.shared.db_url).unwrap();
    let attempts = |conn: &mut PgConnection| -> i32 {
        use social::db::schema::video_jobs::dsl;
        dsl::video_jobs
            .find(id)
            .select(dsl::attempts)
            .first(conn)
            .optional()
            .unwrap()
            .unwrap_or(-1)
    };
    let mut claimed = false;
    for _ in 0..200 {
        if attempts(&mut conn) >= 1 {
            claimed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(claimed, "the worker claimed the job");
    // The worker dies mid-job (SIGKILL: nothing is recorded).
    worker.kill().unwrap();
    worker.wait().unwrap();
    std::fs::remove_file(&hang).unwrap();
    assert_eq!(
        app.read(&format!("/api/videos/{id}"), Some(&owner.token))
            .await["status"],
        "processing"
    );
    // Another replica takes the job once the dead worker's lease (12 s) is over.
    let other = app
        .with_settings(&[("VIDEO_PROCESSING_CONCURRENCY", "1")])
        .await;
    let mut done = Value::Null;
    for _ in 0..120 {
        done = other
            .read(&format!("/api/videos/{id}"), Some(&owner.token))
            .await;
        if done["status"] != "processing" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(done["status"], "ready", "{done}");
    assert_eq!(attempts(&mut conn), -1, "the job is done and gone");
}
