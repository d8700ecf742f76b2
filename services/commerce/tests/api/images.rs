//! Product images: types read from the bytes, thumbnails, limits, admin-only
//! writes, order, deletion, and serving with ETag and Cache-Control.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use testkit::api::{multipart, Part};

use crate::helpers::*;

fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = RgbaImage::from_pixel(width, height, Rgba([10, 120, 200, 200]));
    encoded(DynamicImage::ImageRgba8(img), ImageFormat::Png)
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_pixel(width, height, Rgb([200, 30, 30]));
    encoded(DynamicImage::ImageRgb8(img), ImageFormat::Jpeg)
}

fn webp(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_pixel(width, height, Rgb([1, 200, 30]));
    encoded(DynamicImage::ImageRgb8(img), ImageFormat::WebP)
}

fn header(resp: &Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A multipart upload of `bytes` in a field `field` (sent as `part_type`).
async fn upload_as(
    app: &TestApp,
    token: Option<&str>,
    product: &str,
    field: &str,
    part_type: &str,
    bytes: &[u8],
) -> Response {
    let (content_type, body) = multipart(&[Part::file(field, "photo.img", part_type, bytes)]);
    app.request(
        Method::POST,
        &format!("/api/products/{product}/images"),
        token,
    )
    .header("content-type", content_type)
    .body(body)
    .send()
    .await
    .unwrap()
}

/// Uploads as an admin, asserting 201; the image's JSON.
async fn upload(app: &TestApp, product: &str, bytes: &[u8]) -> Value {
    let resp = upload_as(app, Some(&app.admin()), product, "file", "image/png", bytes).await;
    json_of(resp, StatusCode::CREATED).await
}

/// A product with one variant; its id.
async fn product(app: &TestApp, title: &str, status: &str) -> String {
    let (product, _) = app
        .product(json!({"title": title, "status": status,
            "variants": [{"sku": format!("{title}-1"), "priceMinor": 100}]}))
        .await;
    product["id"].as_str().unwrap().to_owned()
}

/// The objects stored for image `image` of `product`, sorted.
fn stored(app: &TestApp, product: &str, image: &str) -> Vec<String> {
    let folder = app.storage_dir.join("products").join(product).join(image);
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .map(|dir| {
            dir.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn each_format_is_stored_with_thumbnails_that_keep_the_aspect_and_never_upscale() {
    let app = spawn_app().await;
    let id = product(&app, "Lamp", "active").await;
    let cases = [
        // Transparent: PNG thumbnails.
        (
            png(1200, 800),
            "image/png",
            "image/png",
            (1200, 800),
            [(200, 133), (600, 400)],
        ),
        // Opaque: JPEG thumbnails; 400 wide is not scaled up to 600.
        (
            jpeg(400, 600),
            "image/jpeg",
            "image/jpeg",
            (400, 600),
            [(200, 300), (400, 600)],
        ),
        (
            webp(100, 50),
            "image/webp",
            "image/jpeg",
            (100, 50),
            [(100, 50), (100, 50)],
        ),
    ];
    for (position, (bytes, kind, thumb_type, (w, h), thumbs)) in cases.into_iter().enumerate() {
        // The part's own Content-Type is ignored: the type is read from the bytes.
        let resp = upload_as(
            &app,
            Some(&app.admin()),
            &id,
            "file",
            "application/octet-stream",
            &bytes,
        )
        .await;
        let location = header(&resp, "location");
        let image = json_of(resp, StatusCode::CREATED).await;
        let image_id = image["id"].as_str().unwrap();
        let url = format!("/api/products/{id}/images/{image_id}");
        assert_eq!(location, url);
        assert_eq!(
            image,
            json!({
                "id": image_id,
                "url": url,
                "thumbnails": {"w200": format!("{url}?size=w200"), "w600": format!("{url}?size=w600")},
                "width": w,
                "height": h,
                "contentType": kind,
                "position": position,
            })
        );
        assert_eq!(stored(&app, &id, image_id), ["original", "w200", "w600"]);
        let original = app.get(&url).await;
        assert_eq!(original.status(), StatusCode::OK);
        assert_eq!(header(&original, "content-type"), kind);
        assert_eq!(original.bytes().await.unwrap().to_vec(), bytes);
        for (size, (tw, th)) in ["w200", "w600"].into_iter().zip(thumbs) {
            let thumb = app.get(&format!("{url}?size={size}")).await;
            assert_eq!(thumb.status(), StatusCode::OK, "{kind} {size}");
            assert_eq!(header(&thumb, "content-type"), thumb_type, "{kind} {size}");
            let decoded = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
            assert_eq!(
                (decoded.width(), decoded.height()),
                (tw, th),
                "{kind} {size}"
            );
        }
    }
    assert_error(
        app.get(&format!(
            "/api/products/{id}/images/{}?size=w500",
            uuid::Uuid::now_v7()
        ))
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
}

#[tokio::test]
async fn files_that_are_not_png_jpeg_or_webp_or_too_large_or_misnamed_are_refused() {
    let app = spawn_app_with(&[("PRODUCT_IMAGE_MAX_BYTES", "100000")]).await;
    let id = product(&app, "Vase", "active").await;
    let admin = app.admin();
    for bytes in [
        b"GIF89a\x01\x00\x01\x00".to_vec(),
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
        b"just text".to_vec(),
    ] {
        assert_error(
            upload_as(&app, Some(&admin), &id, "file", "image/png", &bytes).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        .await;
    }
    // A PNG signature over garbage cannot be decoded.
    let mut broken = png(20, 20);
    broken.truncate(60);
    let error = assert_error(
        upload_as(&app, Some(&admin), &id, "file", "image/png", &broken).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(error_fields(&error), ["file"]);
    // One byte over the limit.
    let mut too_big = png(10, 10);
    too_big.resize(100_001, 0);
    assert_error(
        upload_as(&app, Some(&admin), &id, "file", "image/png", &too_big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    // No `file` field: another name instead.
    let error = assert_error(
        upload_as(&app, Some(&admin), &id, "image", "image/png", &png(5, 5)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(error_fields(&error), ["file"]);
    // An empty file is no file.
    let error = assert_error(
        upload_as(&app, Some(&admin), &id, "file", "image/png", b"").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(error_fields(&error), ["file"]);
    // Not multipart at all.
    let raw = app
        .request(
            Method::POST,
            &format!("/api/products/{id}/images"),
            Some(&admin),
        )
        .header("content-type", "image/png")
        .body(png(5, 5))
        .send()
        .await
        .unwrap();
    assert_error(
        raw,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    // Nothing was kept.
    let product = app.read(&format!("/api/products/{id}"), None).await;
    assert_eq!(product["images"], json!([]));
    assert!(!app.storage_dir.join("products").join(&id).exists());
}

#[tokio::test]
async fn only_admins_write_images_and_only_of_products_that_exist() {
    let app = spawn_app().await;
    let id = product(&app, "Desk", "active").await;
    let image = upload(&app, &id, &png(30, 30)).await;
    let image_id = image["id"].as_str().unwrap();
    let customer = app.customer();
    assert_error(
        upload_as(&app, None, &id, "file", "image/png", &png(5, 5)).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    assert_error(
        upload_as(&app, Some(&customer), &id, "file", "image/png", &png(5, 5)).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    )
    .await;
    let order = json!({"ids": [image_id]});
    let order_path = format!("/api/products/{id}/images/order");
    let image_path = format!("/api/products/{id}/images/{image_id}");
    for token in [None, Some(customer.as_str())] {
        let expected = if token.is_none() {
            (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED")
        } else {
            (StatusCode::FORBIDDEN, "FORBIDDEN")
        };
        assert_error(
            app.send(Method::PUT, &order_path, token, Some(&order))
                .await,
            expected.0,
            expected.1,
        )
        .await;
        assert_error(
            app.send(Method::DELETE, &image_path, token, None).await,
            expected.0,
            expected.1,
        )
        .await;
    }
    // Another product's image, and a product that does not exist.
    let other = product(&app, "Chair", "active").await;
    let admin = app.admin();
    for path in [
        format!("/api/products/{other}/images/{image_id}"),
        format!("/api/products/{id}/images/{}", uuid::Uuid::now_v7()),
        format!("/api/products/{id}/images/not-an-id"),
    ] {
        assert_error(app.get(&path).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
        assert_error(
            app.send(Method::DELETE, &path, Some(&admin), None).await,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
    }
    let missing = uuid::Uuid::now_v7().to_string();
    assert_error(
        upload_as(
            &app,
            Some(&admin),
            &missing,
            "file",
            "image/png",
            &png(5, 5),
        )
        .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_error(
        app.send(
            Method::PUT,
            &format!("/api/products/{missing}/images/order"),
            Some(&admin),
            Some(&json!({"ids": []})),
        )
        .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    // Still there.
    assert_eq!(app.get(&image_path).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn images_are_reordered_by_a_permutation_and_listed_in_order_on_the_product() {
    let app = spawn_app().await;
    let id = product(&app, "Rug", "active").await;
    let mut ids = Vec::new();
    for width in [10, 20, 30] {
        let image = upload(&app, &id, &png(width, 10)).await;
        ids.push(image["id"].as_str().unwrap().to_owned());
    }
    let before = app.read(&format!("/api/products/{id}"), None).await;
    let listed: Vec<&str> = before["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids);
    let admin = app.admin();
    let path = format!("/api/products/{id}/images/order");
    let resp = app
        .send(
            Method::PUT,
            &path,
            Some(&admin),
            Some(&json!({"ids": [ids[2], ids[0], ids[1]]})),
        )
        .await;
    let reordered = json_of(resp, StatusCode::OK).await;
    let order: Vec<(&str, i64)> = reordered["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i["position"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        order,
        [
            (ids[2].as_str(), 0),
            (ids[0].as_str(), 1),
            (ids[1].as_str(), 2)
        ]
    );
    let resp = app.get(&format!("/api/products/{id}")).await;
    let tag = etag(&resp);
    let after = json_of(resp, StatusCode::OK).await;
    assert_eq!(after["images"], reordered["items"]);
    assert_eq!(after["images"][0]["width"], 30);
    // Uploads and the reorder each counted a revision of the product.
    assert_eq!(tag, "\"5\"");

    let other = product(&app, "Mat", "active").await;
    let foreign = upload(&app, &other, &png(5, 5)).await;
    let not_ours = foreign["id"].as_str().unwrap();
    for bad in [
        json!({"ids": [ids[0], ids[1]]}),
        json!({"ids": [ids[0], ids[1], ids[2], ids[0]]}),
        json!({"ids": [ids[0], ids[1], ids[1]]}),
        json!({"ids": [ids[0], ids[1], not_ours]}),
        json!({"ids": [ids[0], ids[1], "nope"]}),
        json!({"ids": []}),
        json!({}),
    ] {
        let error = assert_error(
            app.send(Method::PUT, &path, Some(&admin), Some(&bad)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        assert_eq!(error_fields(&error), ["ids"], "{bad}");
    }
    for malformed in [json!({"ids": "x"}), json!({"ids": [1, 2, 3]})] {
        assert_error(
            app.send(Method::PUT, &path, Some(&admin), Some(&malformed))
                .await,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        )
        .await;
    }
    let unchanged = app.read(&format!("/api/products/{id}"), None).await;
    assert_eq!(unchanged["images"], reordered["items"]);
}

#[tokio::test]
async fn a_deleted_image_loses_its_objects_and_the_rest_move_up() {
    let app = spawn_app().await;
    let id = product(&app, "Clock", "active").await;
    let first = upload(&app, &id, &png(10, 10)).await;
    let second = upload(&app, &id, &jpeg(10, 10)).await;
    let first_id = first["id"].as_str().unwrap();
    let path = format!("/api/products/{id}/images/{first_id}");
    let resp = app
        .send(Method::DELETE, &path, Some(&app.admin()), None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(stored(&app, &id, first_id).is_empty(), "objects removed");
    for size in ["", "?size=w200", "?size=w600"] {
        assert_error(
            app.get(&format!("{path}{size}")).await,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
    }
    assert_error(
        app.send(Method::DELETE, &path, Some(&app.admin()), None)
            .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    let product = app.read(&format!("/api/products/{id}"), None).await;
    assert_eq!(product["images"].as_array().unwrap().len(), 1);
    assert_eq!(product["images"][0]["id"], second["id"]);
    assert_eq!(product["images"][0]["position"], 0);
}

#[tokio::test]
async fn a_product_takes_at_most_20_images() {
    let app = spawn_app().await;
    let id = product(&app, "Frame", "active").await;
    let bytes = png(4, 4);
    for _ in 0..20 {
        upload(&app, &id, &bytes).await;
    }
    let error = assert_error(
        upload_as(&app, Some(&app.admin()), &id, "file", "image/png", &bytes).await,
        StatusCode::CONFLICT,
        "TOO_MANY_IMAGES",
    )
    .await;
    assert_eq!(error["error"]["details"]["max"], 20);
    let product = app.read(&format!("/api/products/{id}"), None).await;
    assert_eq!(product["images"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn images_are_served_with_content_etags_and_public_immutable_caching() {
    let app = spawn_app().await;
    let id = product(&app, "Bowl", "active").await;
    let image = upload(&app, &id, &png(300, 300)).await;
    let url = image["url"].as_str().unwrap().to_owned();
    let served = app.get(&url).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(
        header(&served, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let tag = header(&served, "etag");
    assert!(
        tag.starts_with('"') && tag.ends_with("-original\""),
        "{tag}"
    );
    let thumb = app.get(&format!("{url}?size=w200")).await;
    assert_ne!(header(&thumb, "etag"), tag, "each size has its own");
    for if_none_match in [
        tag.clone(),
        format!("W/{tag}"),
        format!("\"other\", {tag}"),
        "*".to_owned(),
    ] {
        let cached = app
            .request(Method::GET, &url, None)
            .header("if-none-match", &if_none_match)
            .send()
            .await
            .unwrap();
        assert_eq!(cached.status(), StatusCode::NOT_MODIFIED, "{if_none_match}");
        assert_eq!(header(&cached, "etag"), tag);
        assert!(cached.bytes().await.unwrap().is_empty());
    }
    let stale = app
        .request(Method::GET, &url, None)
        .header("if-none-match", "\"0000-original\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);
    // The same bytes uploaded again are the same content: the same ETag.
    let again = upload(&app, &id, &png(300, 300)).await;
    let copy = app.get(again["url"].as_str().unwrap()).await;
    assert_eq!(header(&copy, "etag"), tag);
}

#[tokio::test]
async fn a_draft_products_images_are_hidden_from_everyone_but_admins() {
    let app = spawn_app().await;
    let id = product(&app, "Secret", "draft").await;
    let image = upload(&app, &id, &png(50, 50)).await;
    let url = image["url"].as_str().unwrap();
    assert_error(app.get(url).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(
        app.send(Method::GET, url, Some(&app.customer()), None)
            .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    let served = app.send(Method::GET, url, Some(&app.admin()), None).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(header(&served, "cache-control"), "private, no-cache");
    let product = app
        .read(&format!("/api/products/{id}"), Some(&app.admin()))
        .await;
    assert_eq!(product["images"][0]["id"], image["id"]);
    // Once active, anyone gets them.
    let resp = app
        .send(
            Method::PATCH,
            &format!("/api/products/{id}"),
            Some(&app.admin()),
            Some(&json!({"status": "active"})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(app.get(url).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_deleted_products_images_are_gone_with_it() {
    let app = spawn_app().await;
    let id = product(&app, "Shelf", "active").await;
    let image = upload(&app, &id, &png(20, 20)).await;
    let url = image["url"].as_str().unwrap();
    assert_eq!(app.get(url).await.status(), StatusCode::OK);
    let stored = app.storage_dir.join("products").join(&id);
    assert_eq!(files_under(&stored), 3, "original, w200, w600");
    let resp = app
        .send(
            Method::DELETE,
            &format!("/api/products/{id}"),
            Some(&app.admin()),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(files_under(&stored), 0, "objects removed");
    assert_error(app.get(url).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(
        upload_as(
            &app,
            Some(&app.admin()),
            &id,
            "file",
            "image/png",
            &png(5, 5),
        )
        .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
}

/// Files (not folders) under `dir`, at any depth.
fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                let path = e.path();
                if path.is_dir() {
                    files_under(&path)
                } else {
                    1
                }
            })
            .sum()
    })
}
