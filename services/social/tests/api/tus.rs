//! Resumable uploads over tus 1.0.0, spoken by hand (the real tus client runs in
//! the end-to-end tests): creation, chunks, offsets, an interrupted PATCH,
//! termination and expiration.

use std::time::Duration;

use base64::Engine;
use reqwest::{Method, Response, StatusCode};
use tokio::io::AsyncWriteExt;

use crate::helpers::*;

const TUS: (&str, &str) = ("tus-resumable", "1.0.0");
const OCTETS: &str = "application/offset+octet-stream";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn header<'a>(resp: &'a Response, name: &str) -> &'a str {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header in {resp:?}"))
        .to_str()
        .unwrap()
}

async fn create(app: &TestApp, user: &User, length: usize, caption: &str) -> String {
    let resp = app
        .request(Method::POST, "/api/uploads/", Some(&user.token))
        .header(TUS.0, TUS.1)
        .header("upload-length", length.to_string())
        .header(
            "upload-metadata",
            format!("caption {},filename {}", b64(caption), b64("clip.mp4")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(header(&resp, "tus-resumable"), "1.0.0");
    assert!(header(&resp, "upload-expires").ends_with(" GMT"));
    let location = header(&resp, "location").to_owned();
    assert!(location.starts_with("/api/uploads/"), "{location}");
    location
}

async fn head(app: &TestApp, user: &User, location: &str) -> Response {
    app.request(Method::HEAD, location, Some(&user.token))
        .header(TUS.0, TUS.1)
        .send()
        .await
        .unwrap()
}

async fn offset(app: &TestApp, user: &User, location: &str) -> usize {
    let resp = head(app, user, location).await;
    assert_eq!(resp.status(), StatusCode::OK);
    header(&resp, "upload-offset").parse().unwrap()
}

async fn patch(
    app: &TestApp,
    user: &User,
    location: &str,
    offset: usize,
    bytes: &[u8],
) -> Response {
    app.request(Method::PATCH, location, Some(&user.token))
        .header(TUS.0, TUS.1)
        .header("upload-offset", offset.to_string())
        .header("content-type", OCTETS)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
}

fn file(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn options_advertise_the_protocol_and_its_extensions() {
    let app = spawn_app_with(&[("VIDEO_MAX_BYTES", "5000000")]).await;
    for path in ["/api/uploads/", "/api/uploads"] {
        let resp = app
            .request(Method::OPTIONS, path, None)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert_eq!(header(&resp, "tus-version"), "1.0.0");
        assert_eq!(
            header(&resp, "tus-extension"),
            "creation,termination,expiration"
        );
        assert_eq!(header(&resp, "tus-max-size"), "5000000");
    }
}

#[tokio::test]
async fn chunks_at_the_right_offsets_become_a_video_only_its_owner_sees_uploading() {
    let app = spawn_app_with(&[("VIDEO_PROCESSING_CONCURRENCY", "0")]).await;
    let (owner, other) = (app.user("Chunky").await, app.user("Nosy").await);
    let bytes = file(25_000);
    let location = create(&app, &owner, bytes.len(), "resumable #tus").await;
    assert_eq!(offset(&app, &owner, &location).await, 0);

    // Wrong type, wrong offset, no protocol version: refused, nothing stored.
    let resp = app
        .request(Method::PATCH, &location, Some(&owner.token))
        .header(TUS.0, TUS.1)
        .header("upload-offset", "0")
        .header("content-type", "application/octet-stream")
        .body(bytes[..10].to_vec())
        .send()
        .await
        .unwrap();
    assert_error(
        resp,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    let resp = patch(&app, &owner, &location, 5, &bytes[5..10]).await;
    assert_error(resp, StatusCode::CONFLICT, "UPLOAD_OFFSET_MISMATCH").await;
    let resp = app
        .request(Method::HEAD, &location, Some(&owner.token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(header(&resp, "tus-version"), "1.0.0");
    assert_eq!(offset(&app, &owner, &location).await, 0);

    // Someone else cannot see, add to or end it.
    assert_eq!(
        head(&app, &other, &location).await.status(),
        StatusCode::NOT_FOUND
    );
    let resp = patch(&app, &other, &location, 0, &bytes[..10]).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = app
        .request(Method::DELETE, &location, Some(&other.token))
        .header(TUS.0, TUS.1)
        .send()
        .await
        .unwrap();
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = app
        .send(Method::GET, &location, Some(&other.token), None)
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;

    let mut at = 0;
    for chunk in bytes.chunks(10_000) {
        let resp = patch(&app, &owner, &location, at, chunk).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        at += chunk.len();
        assert_eq!(header(&resp, "upload-offset"), at.to_string());
        if at < bytes.len() {
            assert!(resp.headers().get("video-id").is_none());
        } else {
            let video_id = header(&resp, "video-id").to_owned();
            let status = app.read(&location, Some(&owner.token)).await;
            assert_eq!(status["videoId"], video_id.as_str());
            assert_eq!(
                (status["offset"].as_u64(), status["length"].as_u64()),
                (Some(25_000), Some(25_000))
            );
            let video = app
                .read(&format!("/api/videos/{video_id}"), Some(&owner.token))
                .await;
            assert_eq!(video["status"], "processing");
            assert_eq!(video["caption"], "resumable #tus");
            assert_eq!(video["hashtags"], serde_json::json!(["tus"]));
            let original = app
                .request(
                    Method::GET,
                    video["streamUrl"].as_str().unwrap(),
                    Some(&owner.token),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(
                original.bytes().await.unwrap(),
                bytes,
                "the parts joined in order"
            );
        }
    }
    // More bytes than Upload-Length are refused.
    let resp = patch(&app, &owner, &location, at, b"extra").await;
    assert_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    let parts = app.shared.storage_dir.join("uploads");
    assert_eq!(files_under(&parts), 0, "parts removed");
}

#[tokio::test]
async fn an_interrupted_patch_keeps_what_arrived_and_the_upload_resumes() {
    let app = spawn_app_with(&[("VIDEO_PROCESSING_CONCURRENCY", "0")]).await;
    let owner = app.user("Flaky").await;
    let bytes = file(40_000);
    let location = create(&app, &owner, bytes.len(), "").await;
    // A PATCH that announces 40,000 bytes, sends 15,000 and drops the connection.
    let address = app.url("").replace("http://", "");
    let mut socket = tokio::net::TcpStream::connect(address.trim_end_matches('/'))
        .await
        .unwrap();
    let head = format!(
        "PATCH {location} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: {OCTETS}\r\nContent-Length: 40000\r\nX-Real-IP: {}\r\n\r\n",
        owner.token, app.ip
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&bytes[..15_000]).await.unwrap();
    socket.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(socket);
    let mut kept = 0;
    for _ in 0..50 {
        kept = offset(&app, &owner, &location).await;
        if kept > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(kept, 15_000, "the bytes that arrived are kept");
    let resp = patch(&app, &owner, &location, kept, &bytes[kept..]).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let video_id = header(&resp, "video-id").to_owned();
    let video = app
        .read(&format!("/api/videos/{video_id}"), Some(&owner.token))
        .await;
    let original = app
        .request(
            Method::GET,
            video["streamUrl"].as_str().unwrap(),
            Some(&owner.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(original.bytes().await.unwrap(), bytes);
}

#[tokio::test]
async fn creation_refuses_bad_headers_and_oversized_files() {
    let app = spawn_app_with(&[("VIDEO_MAX_BYTES", "1000")]).await;
    let user = app.user("Strict").await;
    type Headers<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Headers, StatusCode, &str); 7] = [
        (
            &[("upload-length", "10")],
            StatusCode::PRECONDITION_FAILED,
            "TUS_VERSION_UNSUPPORTED",
        ),
        (&[TUS], StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        (
            &[TUS, ("upload-defer-length", "1")],
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &[TUS, ("upload-length", "-1")],
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &[TUS, ("upload-length", "1001")],
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
        ),
        (
            &[TUS, ("upload-length", "0")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        (
            &[
                TUS,
                ("upload-length", "10"),
                ("upload-metadata", "caption !!notbase64"),
            ],
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
    ];
    for (headers, status, code) in cases {
        let mut req = app.request(Method::POST, "/api/uploads/", Some(&user.token));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        assert_error(req.send().await.unwrap(), status, code).await;
    }
    let long = b64(&"x".repeat(2201));
    let resp = app
        .request(Method::POST, "/api/uploads/", Some(&user.token))
        .header(TUS.0, TUS.1)
        .header("upload-length", "10")
        .header("upload-metadata", format!("caption {long}"))
        .send()
        .await
        .unwrap();
    let body = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&body), ["caption"]);
    let resp = app
        .request(Method::POST, "/api/uploads/", None)
        .header(TUS.0, TUS.1)
        .header("upload-length", "10")
        .send()
        .await
        .unwrap();
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn abandoned_and_expired_uploads_go_with_their_bytes() {
    let app = spawn_app().await;
    let owner = app.user("Quitter").await;
    let bytes = file(3_000);
    let location = create(&app, &owner, bytes.len(), "").await;
    assert_eq!(
        patch(&app, &owner, &location, 0, &bytes[..1_000])
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let parts = app.shared.storage_dir.join("uploads");
    assert_eq!(files_under(&parts), 1);
    let resp = app
        .request(Method::DELETE, &location, Some(&owner.token))
        .header(TUS.0, TUS.1)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        head(&app, &owner, &location).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(files_under(&parts), 0);

    // An upload past its 24 hours is gone to its owner, and swept with its parts.
    let location = create(&app, &owner, bytes.len(), "").await;
    assert_eq!(
        patch(&app, &owner, &location, 0, &bytes[..1_000])
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let db = common::db::Db::new(&app.shared.db_url, 2, 0, Duration::from_secs(5));
    db.run(|conn| {
        use diesel::RunQueryDsl;
        diesel::sql_query("UPDATE tus_uploads SET expires_at = now() - interval '1 second'")
            .execute(conn)?;
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(
        head(&app, &owner, &location).await.status(),
        StatusCode::NOT_FOUND
    );
    let resp = patch(&app, &owner, &location, 1_000, &bytes[1_000..]).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let storage = common::storage::Storage::open(&common::storage::StorageSettings {
        storage_dir: app.shared.storage_dir.display().to_string(),
        s3_bucket: None,
        s3_region: None,
        s3_endpoint: None,
        s3_access_key_id: None,
        s3_secret_access_key: None,
        s3_allow_http: false,
    })
    .unwrap();
    social::routes::uploads::sweep_expired(&db, &storage).await;
    assert_eq!(files_under(&parts), 0, "parts swept");
    let left: i64 = db
        .run(|conn| {
            use diesel::{QueryDsl, RunQueryDsl};
            Ok(social::db::schema::tus_uploads::table
                .count()
                .get_result(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(left, 0);
}
