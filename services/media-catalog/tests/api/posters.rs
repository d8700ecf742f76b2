//! Poster upload and serving: types read from the bytes, size limits, thumbnails,
//! ETags, and images removed with their movie.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::library::add;

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = RgbaImage::from_pixel(width, height, Rgba([10, 120, 200, 200]));
    let mut out = Vec::new();
    DynamicImage::ImageRgba8(img)
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_pixel(width, height, Rgb([200, 30, 30]));
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
        .unwrap();
    out
}

fn webp(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_pixel(width, height, Rgb([1, 200, 30]));
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), ImageFormat::WebP)
        .unwrap();
    out
}

async fn upload(
    app: &TestApp,
    token: &str,
    movie_id: &str,
    field: &str,
    part_type: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let (content_type, body) = multipart(field, "poster.img", part_type, bytes);
    app.request(
        Method::PUT,
        &format!("/api/library/movies/{movie_id}/poster"),
        Some(token),
    )
    .header("content-type", content_type)
    .body(body)
    .send()
    .await
    .unwrap()
}

async fn new_movie(app: &TestApp, token: &str) -> String {
    let movie = add(app, token, json!({"title": "Poster test", "year": 2001})).await;
    movie["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_png_is_stored_with_two_thumbnails_and_served_with_etags() {
    let app = spawn_app().await;
    let token = app.new_user();
    let id = new_movie(&app, &token).await;
    let original = png(500, 750);
    let resp = upload(&app, &token, &id, "poster", "image/png", &original).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let movie: Value = resp.json().await.unwrap();
    let poster = &movie["poster"];
    assert_eq!(poster["contentType"], "image/png");
    assert_eq!(
        (poster["width"].as_i64(), poster["height"].as_i64()),
        (Some(500), Some(750))
    );
    let base = format!("/api/library/movies/{id}/poster");
    assert_eq!(poster["urls"]["w92"], format!("{base}?size=w92"));

    let served = app.get_as(&base, &token).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(header(&served, "content-type"), "image/png");
    assert_eq!(header(&served, "cache-control"), "private, max-age=86400");
    let etag = header(&served, "etag");
    assert_eq!(served.bytes().await.unwrap().to_vec(), original);

    for (size, width, height) in [("w92", 92, 138), ("w342", 342, 513)] {
        let thumb = app.get_as(&format!("{base}?size={size}"), &token).await;
        assert_eq!(thumb.status(), StatusCode::OK);
        assert_eq!(
            header(&thumb, "content-type"),
            "image/png",
            "transparency kept"
        );
        assert_ne!(header(&thumb, "etag"), etag);
        let image = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
        assert_eq!((image.width(), image.height()), (width, height), "{size}");
    }

    let cached = app
        .request(Method::GET, &base, Some(&token))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert!(cached.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_type_comes_from_the_bytes_not_the_header() {
    let app = spawn_app().await;
    let token = app.new_user();
    let id = new_movie(&app, &token).await;
    // A JPEG sent as "image/png" is a JPEG; its thumbnails are JPEG too.
    let resp = upload(&app, &token, &id, "file", "image/png", &jpeg(400, 600)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let movie: Value = resp.json().await.unwrap();
    assert_eq!(movie["poster"]["contentType"], "image/jpeg");
    let thumb = app
        .get_as(&format!("/api/library/movies/{id}/poster?size=w92"), &token)
        .await;
    assert_eq!(header(&thumb, "content-type"), "image/jpeg");

    // WebP is accepted.
    let resp = upload(
        &app,
        &token,
        &id,
        "poster",
        "application/octet-stream",
        &webp(300, 450),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let movie: Value = resp.json().await.unwrap();
    assert_eq!(movie["poster"]["contentType"], "image/webp");

    // Text or a GIF claiming to be a PNG is refused.
    for bytes in [
        b"GIF89a\x01\x00\x01\x00".to_vec(),
        b"<svg xmlns=...>".to_vec(),
    ] {
        assert_error(
            upload(&app, &token, &id, "poster", "image/png", &bytes).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        .await;
    }
    // A PNG signature over garbage cannot be decoded.
    let mut broken = png(20, 20);
    broken.truncate(60);
    let err = assert_error(
        upload(&app, &token, &id, "poster", "image/png", &broken).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(error_fields(&err), vec!["poster"]);
    // The last good upload is still what is served.
    let served = app
        .get_as(&format!("/api/library/movies/{id}/poster"), &token)
        .await;
    assert_eq!(header(&served, "content-type"), "image/webp");
}

#[tokio::test]
async fn uploads_over_5_mb_and_malformed_requests_are_refused() {
    let app = spawn_app().await;
    let token = app.new_user();
    let id = new_movie(&app, &token).await;
    let mut too_big = png(10, 10);
    too_big.resize(5 * 1024 * 1024 + 1, 0);
    assert_error(
        upload(&app, &token, &id, "poster", "image/png", &too_big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    let err = assert_error(
        upload(&app, &token, &id, "notes", "text/plain", b"hello").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(error_fields(&err), vec!["poster"]);
    let not_multipart = app
        .request(
            Method::PUT,
            &format!("/api/library/movies/{id}/poster"),
            Some(&token),
        )
        .header("content-type", "image/png")
        .body(png(5, 5))
        .send()
        .await
        .unwrap();
    assert_error(
        not_multipart,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    let truncated = app
        .request(
            Method::PUT,
            &format!("/api/library/movies/{id}/poster"),
            Some(&token),
        )
        .header("content-type", "multipart/form-data; boundary=xyz")
        .body("--xyz\r\nContent-Disposition: form-data; name=\"poster\"\r\n\r\nabc")
        .send()
        .await
        .unwrap();
    assert_error(truncated, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let movie: Value = app
        .get_as(&format!("/api/library/movies/{id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(movie["poster"], Value::Null, "nothing was stored");
    assert_error(
        app.get_as(&format!("/api/library/movies/{id}/poster"), &token)
            .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_error(
        app.get_as(
            &format!("/api/library/movies/{id}/poster?size=w500"),
            &token,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
}

#[tokio::test]
async fn other_users_cannot_upload_and_deleting_a_movie_deletes_its_images() {
    let app = spawn_app().await;
    let alice = app.new_user();
    let bob = app.new_user();
    let id = new_movie(&app, &alice).await;
    assert_error(
        upload(&app, &bob, &id, "poster", "image/png", &png(50, 50)).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_eq!(
        upload(&app, &alice, &id, "poster", "image/png", &png(50, 50))
            .await
            .status(),
        StatusCode::OK
    );
    let folder = app.shared.storage_dir.join("library").join(&id);
    let mut stored: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    stored.sort();
    assert_eq!(stored, vec!["original", "w342", "w92"]);

    assert_eq!(
        app.delete_as(&format!("/api/library/movies/{id}"), &alice)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let left = std::fs::read_dir(&folder).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "images removed with the movie");
}
