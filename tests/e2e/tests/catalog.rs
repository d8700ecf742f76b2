//! media-catalog through the real gateway, with real tokens from the auth service
//! and tmdb-sim standing in for TMDB.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use std::io::Cursor;
use std::time::Duration;

use e2e::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn access_token() -> String {
    let (_, body) = signup("Catalog E2E").await;
    body["accessToken"].as_str().unwrap().to_owned()
}

/// A PNG of random pixels: it does not compress, so its size is about 4 bytes a pixel.
fn noisy_png(width: u32, height: u32) -> Vec<u8> {
    let pixels: Vec<u8> = (0..width * height * 4).map(|_| rand::random()).collect();
    let img = image::RgbaImage::from_raw(width, height, pixels).unwrap();
    let mut out = Vec::new();
    image::DynamicImage::ImageRgba8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn upload(token: &str, movie: &str, bytes: Vec<u8>) -> reqwest::Response {
    let boundary = "e2eboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"poster\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    http()
        .put(format!("{}/api/library/movies/{movie}/poster", gateway()))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_gateway_reports_the_catalog_upstream() {
    let body: Value = call(Method::GET, "/health", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["upstreams"]["media_catalog"]["status"], "ok", "{body}");
    assert_eq!(
        body["upstreams"]["media_catalog"]["service"],
        "media-catalog"
    );
}

#[tokio::test]
async fn the_catalog_is_served_with_its_cache_headers() {
    let first = call(Method::GET, "/api/movies/popular?page=7", None, None).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(!header(&first, "x-request-id").is_empty());
    assert!(header(&first, "cache-status").starts_with("reelstack;"));
    let etag = header(&first, "etag");
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 20);
    assert_eq!(body["meta"]["page"], 7);
    let again = http()
        .get(format!("{}/api/movies/popular?page=7", gateway()))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(header(&again, "cache-status").starts_with("reelstack; hit"));

    let search = call(Method::GET, "/api/search?q=harbor", None, None).await;
    assert_eq!(search.status(), StatusCode::OK);
    let invalid = call(Method::GET, "/api/movies/abc", None, None).await;
    envelope(
        invalid,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
}

#[tokio::test]
async fn an_auth_account_keeps_a_watchlist_until_it_logs_out() {
    let token = access_token().await;
    let saved = call(
        Method::POST,
        "/api/watchlist",
        Some(&token),
        Some(json!({"tmdbId": 10000, "mediaType": "movie"})),
    )
    .await;
    assert_eq!(saved.status(), StatusCode::CREATED);
    let list: Value = call(Method::GET, "/api/watchlist", Some(&token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["meta"]["total"], 1);
    assert_eq!(list["items"][0]["tmdbId"], 10000);

    let logout = call(Method::POST, "/api/auth/logout", Some(&token), None).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    // auth publishes the revocation through Redis; media-catalog refuses the
    // session's token within a second, without asking auth.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let refused = call(Method::GET, "/api/watchlist", Some(&token), None).await;
    envelope(refused, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn posters_over_the_default_body_limit_pass_and_over_6_mb_are_refused() {
    let token = access_token().await;
    let movie: Value = call(
        Method::POST,
        "/api/library/movies",
        Some(&token),
        Some(json!({"title": "Big Poster", "year": 2020})),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = movie["id"].as_str().unwrap();

    let png = noisy_png(700, 700);
    assert!(
        png.len() > 1024 * 1024,
        "larger than the gateway's default 1 MB"
    );
    let stored = upload(&token, id, png).await;
    assert_eq!(stored.status(), StatusCode::OK);
    let stored: Value = stored.json().await.unwrap();
    assert_eq!(stored["poster"]["width"], 700);
    let thumb = http()
        .get(format!(
            "{}/api/library/movies/{id}/poster?size=w92",
            gateway()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(thumb.status(), StatusCode::OK);
    assert_eq!(header(&thumb, "content-type"), "image/png");

    let refused = upload(&token, id, vec![0u8; 7 * 1024 * 1024]).await;
    envelope(refused, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    // JSON routes keep the 1 MB limit.
    let big_json = call(
        Method::POST,
        "/api/library/movies",
        Some(&token),
        Some(json!({"title": "x".repeat(1_100_000), "year": 2000})),
    )
    .await;
    envelope(big_json, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
}

/// The peak resident memory (VmHWM) of a process, in KiB.
fn peak_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// media-catalog's memory limit in the Kubernetes base, in KiB.
fn kubernetes_limit_kib() -> u64 {
    let manifest = std::fs::read_to_string(
        testkit::workspace_root().join("deploy/k8s/base/media-catalog.yaml"),
    )
    .unwrap();
    let mebibytes: u64 = manifest
        .lines()
        .find_map(|l| l.split("limits: { memory: ").nth(1))
        .and_then(|v| v.split("Mi").next())
        .and_then(|v| v.trim().parse().ok())
        .expect("a memory limit in Mi");
    mebibytes * 1024
}

/// Poster uploads cannot exhaust memory: eight at once of a 64 KB PNG that
/// declares 8192 x 8192 (a decompression bomb of 64 MiB each) are refused from
/// their header (422), or while every decoding slot is taken (429), and the
/// service stays under its Kubernetes memory limit.
#[tokio::test]
async fn eight_concurrent_decompression_bombs_stay_under_the_memory_limit() {
    let pid =
        std::fs::read_to_string(testkit::workspace_root().join(".run/pids/media-catalog.pid"))
            .expect("the stack's media-catalog pid file")
            .trim()
            .to_owned();
    let bomb = std::fs::read(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/bomb-8192x8192.png"),
    )
    .unwrap();
    assert!(bomb.len() < 100 * 1024);
    let (_, body) = signup("Poster Bomber").await;
    let token = body["accessToken"].as_str().unwrap().to_owned();
    let mut movies = Vec::new();
    for n in 0..8 {
        let resp = call(
            Method::POST,
            "/api/library/movies",
            Some(&token),
            Some(json!({"title": format!("Bomb {n}"), "year": 2001})),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let movie: Value = resp.json().await.unwrap();
        movies.push(movie["id"].as_str().unwrap().to_owned());
    }
    // Start from the current footprint: VmHWM now measures only what follows.
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("clear_refs writable");
    let before = peak_kib(&pid);
    let uploads = movies.iter().map(|id| {
        let (token, bomb) = (token.clone(), bomb.clone());
        async move { upload(&token, id, bomb).await.status() }
    });
    let statuses = futures_util::future::join_all(uploads).await;
    assert!(
        statuses.iter().all(|s| matches!(s.as_u16(), 422 | 429)),
        "{statuses:?}"
    );
    let peak = peak_kib(&pid);
    assert!(
        peak < kubernetes_limit_kib(),
        "peak {peak} KiB (from {before} KiB) over the limit of {} KiB",
        kubernetes_limit_kib()
    );
    assert!(
        peak - before < 32 * 1024,
        "the bombs cost {} KiB",
        peak - before
    );
}
