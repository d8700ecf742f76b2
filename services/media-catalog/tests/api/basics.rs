//! Health, metrics, unknown routes and the committed OpenAPI document.

use common::runner::Service;
use media_catalog::MediaCatalog;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn health_endpoints_report_the_service() {
    let app = spawn_app().await;
    let live = app.get("/health/live").await;
    assert_eq!(live.status(), StatusCode::OK);
    let ready: Value = app.get("/health/ready").await.json().await.unwrap();
    assert_eq!(ready["status"], "ok");
    assert_eq!(ready["service"], "media-catalog");
    assert_eq!(ready["checks"]["database"], "ok");
    assert_eq!(ready["checks"]["redis"], "ok");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_cache_results() {
    let app = spawn_app().await;
    app.get("/api/movies/popular").await;
    app.get("/api/movies/popular").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(text.contains("route=\"/api/{media:movies|tv}/{list:popular|top-rated|now-playing|upcoming|on-the-air|airing-today}\""), "{text}");
    assert!(
        text.contains("catalog_cache_total{result=\"hit\"}"),
        "{text}"
    );
    assert!(
        text.contains("tmdb_requests_total{status=\"200\"}"),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_envelope() {
    let app = spawn_app().await;
    assert_error(
        app.get("/api/nothing-here").await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_error(
        app.get("/api/books/popular").await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    // A known path with a method it does not take: 405 naming the ones it does.
    let resp = app
        .request(reqwest::Method::DELETE, "/api/movies/popular", None)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "allow"), "GET");
    let body = assert_error(resp, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").await;
    assert_eq!(body["error"]["details"]["allow"], json!(["GET"]));
    let resp = app
        .request(reqwest::Method::PUT, "/api/library/movies", None)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "allow"), "GET, POST");
    assert_error(resp, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").await;
}

#[tokio::test]
async fn the_service_refuses_to_start_without_tmdb_credentials() {
    let settings = <MediaCatalog as Service>::settings_from(vec![
        (
            "DATABASE_URL".to_owned(),
            "postgres://unused@127.0.0.1:1/x".to_owned(),
        ),
        ("PORT".to_owned(), "0".to_owned()),
    ])
    .unwrap();
    let err = <MediaCatalog as Service>::build(settings)
        .await
        .err()
        .expect("no credentials, no start");
    assert!(err.to_string().contains("TMDB_API_KEY"), "{err}");
}

#[tokio::test]
async fn the_openapi_document_is_served_and_matches_proto_docs() {
    let app = spawn_app().await;
    testkit::app::assert_openapi_committed::<MediaCatalog>(&app).await;
}
