//! What every route shares: the committed OpenAPI document, health, tokens
//! (missing, forged, a customer's on admin routes), malformed bodies and
//! undeclared methods.

use commerce::Commerce;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_openapi_document_is_committed_and_served() {
    let app = spawn_app().await;
    testkit::app::assert_openapi_committed::<Commerce>(&app.api).await;
}

#[tokio::test]
async fn health_reports_the_database_and_redis() {
    let app = spawn_app().await;
    let body = app.read("/health/ready", None).await;
    assert_eq!(body["service"], "commerce");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["redis"], "ok");
}

/// Every admin route, with a body where it takes one.
fn admin_routes(product: &str, variant: &str) -> Vec<(Method, String)> {
    vec![
        (Method::POST, "/api/categories".to_owned()),
        (Method::PATCH, "/api/categories/shoes".to_owned()),
        (Method::DELETE, "/api/categories/shoes".to_owned()),
        (Method::POST, "/api/products".to_owned()),
        (Method::PATCH, format!("/api/products/{product}")),
        (Method::DELETE, format!("/api/products/{product}")),
        (Method::POST, format!("/api/products/{product}/variants")),
        (
            Method::PATCH,
            format!("/api/products/{product}/variants/{variant}"),
        ),
        (
            Method::DELETE,
            format!("/api/products/{product}/variants/{variant}"),
        ),
    ]
}

#[tokio::test]
async fn admin_routes_refuse_anonymous_forged_and_customer_callers_and_change_nothing() {
    let app = spawn_app().await;
    app.category(json!({"name": "Shoes"})).await;
    let (product, tag) = app.product(shirt("Tee")).await;
    let id = product["id"].as_str().unwrap();
    let variant = product["variants"][0]["id"].as_str().unwrap();
    let body = json!({"name": "Boots", "title": "Changed", "sku": "NEW-1", "priceMinor": 1, "delta": 5, "reason": "count"});
    let customer = app.customer();
    for (method, path) in admin_routes(id, variant) {
        let resp = app.send(method.clone(), &path, None, Some(&body)).await;
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        let resp = app
            .send(method.clone(), &path, Some(&app.forged()), Some(&body))
            .await;
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        let resp = app
            .request(method.clone(), &path, None)
            .header("authorization", "Bearer not.a.jwt")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        let resp = app
            .send(method.clone(), &path, Some(&customer), Some(&body))
            .await;
        assert_error(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    }
    // Public reads refuse a bad token rather than treat it as anonymous.
    let resp = app
        .send(
            Method::GET,
            &format!("/api/products/{id}"),
            Some(&app.forged()),
            None,
        )
        .await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    // Nothing was written by any of them.
    let resp = app.get(&format!("/api/products/{id}")).await;
    assert_eq!(etag(&resp), tag);
    let after = json_of(resp, StatusCode::OK).await;
    assert_eq!(after, product);
    let tree = app.read("/api/categories", None).await;
    assert_eq!(slugs(&tree), ["shoes"]);
    let stock = app
        .read("/api/inventory/Tee-S-RED", Some(&app.admin()))
        .await;
    assert_eq!(stock["onHand"], 0);
}

#[tokio::test]
async fn malformed_bodies_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.admin();
    app.category(json!({"name": "Shoes"})).await;
    let (product, tag) = app.product(shirt("Tee")).await;
    let id = product["id"].as_str().unwrap();
    let variant = product["variants"][0]["id"].as_str().unwrap();
    let writes = [
        (Method::POST, "/api/categories".to_owned()),
        (Method::PATCH, "/api/categories/shoes".to_owned()),
        (Method::POST, "/api/products".to_owned()),
        (Method::PATCH, format!("/api/products/{id}")),
        (Method::POST, format!("/api/products/{id}/variants")),
        (
            Method::PATCH,
            format!("/api/products/{id}/variants/{variant}"),
        ),
    ];
    for (method, path) in &writes {
        for raw in [
            "{",
            "[]",
            "\"text\"",
            "42",
            "null",
            r#"{"name": 5, "title": 5, "sku": 5, "priceMinor": "5", "delta": "5"}"#,
            r#"{"slug": ["a"], "parentId": "not-a-uuid", "optionValues": [], "attributes": [], "priceMinor": 1.5, "delta": 1.5}"#,
        ] {
            let resp = app
                .request(method.clone(), path, Some(&admin))
                .header("content-type", "application/json")
                .body(raw)
                .send()
                .await
                .unwrap();
            assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
        }
        let resp = app
            .request(method.clone(), path, Some(&admin))
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_error(
            resp,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        .await;
        let huge = json!({"title": "x".repeat(2 * 1024 * 1024)});
        let resp = app
            .send(method.clone(), path, Some(&admin), Some(&huge))
            .await;
        assert_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    }
    let resp = app.get(&format!("/api/products/{id}")).await;
    assert_eq!(etag(&resp), tag);
    assert_eq!(json_of(resp, StatusCode::OK).await, product);
}

#[tokio::test]
async fn undeclared_methods_are_405_with_allow() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (Method::PUT, "/api/categories", "GET, POST"),
        (Method::PUT, "/api/categories/shoes", "DELETE, GET, PATCH"),
        (Method::GET, "/api/products/x/variants", "POST"),
        // Not a PATCH of a product with the id "suggest".
        (Method::PATCH, "/api/products/suggest", "GET"),
    ] {
        let resp = app.send(method, path, Some(&app.admin()), None).await;
        assert_eq!(
            resp.headers().get("allow").and_then(|v| v.to_str().ok()),
            Some(allow),
            "{path}"
        );
        assert_error(resp, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").await;
    }
}
