//! The cart: items at current prices, quantities bounded by what is
//! available, one cart per user.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// Adds `delta` units of `sku` on hand.
pub async fn stock(app: &TestApp, sku: &str, delta: i64) {
    let resp = app
        .post(
            &format!("/api/inventory/{sku}/adjustments"),
            Some(&app.admin()),
            &json!({"delta": delta, "reason": "delivery"}),
        )
        .await;
    json_of(resp, StatusCode::CREATED).await;
}

/// The stock of `sku`: (onHand, reserved, available).
pub async fn stock_of(app: &TestApp, sku: &str) -> (i64, i64, i64) {
    let s = app
        .read(&format!("/api/inventory/{sku}"), Some(&app.admin()))
        .await;
    (
        s["onHand"].as_i64().unwrap(),
        s["reserved"].as_i64().unwrap(),
        s["available"].as_i64().unwrap(),
    )
}

/// An active shirt with `units` of each variant on hand; its JSON.
pub async fn stocked_shirt(app: &TestApp, title: &str, units: i64) -> Value {
    let (product, _) = app.product(shirt(title)).await;
    for v in product["variants"].as_array().unwrap() {
        stock(app, v["sku"].as_str().unwrap(), units).await;
    }
    product
}

pub async fn put_item(
    app: &TestApp,
    token: &str,
    variant: &Value,
    body: Value,
) -> reqwest::Response {
    app.send(
        Method::PUT,
        &format!("/api/cart/items/{}", variant.as_str().unwrap()),
        Some(token),
        Some(&body),
    )
    .await
}

#[tokio::test]
async fn a_cart_holds_items_at_current_prices() {
    let app = spawn_app().await;
    let me = app.customer();
    let product = stocked_shirt(&app, "Tee", 5).await;
    let (small, medium) = (&product["variants"][0], &product["variants"][2]);

    let empty = app.read("/api/cart", Some(&me)).await;
    assert_eq!(
        empty,
        json!({"items": [], "totalMinor": 0, "currency": "EUR"})
    );

    put_item(&app, &me, &small["id"], json!({"quantity": 2})).await;
    let resp = put_item(&app, &me, &medium["id"], json!({"quantity": 1})).await;
    let cart = json_of(resp, StatusCode::OK).await;
    assert_eq!(
        cart,
        json!({
            "items": [
                {"variantId": small["id"], "sku": "Tee-S-RED", "title": "Tee (S / Red)", "quantity": 2,
                 "unitPriceMinor": 1999, "lineTotalMinor": 3998, "available": 5},
                {"variantId": medium["id"], "sku": "Tee-M-BLUE", "title": "Tee (Medium blue)", "quantity": 1,
                 "unitPriceMinor": 2199, "lineTotalMinor": 2199, "available": 5}
            ],
            "totalMinor": 6197,
            "currency": "EUR"
        })
    );

    // A new price shows at once; setting a quantity again replaces it.
    let id = product["id"].as_str().unwrap();
    let resp = app
        .send(
            Method::PATCH,
            &format!(
                "/api/products/{id}/variants/{}",
                small["id"].as_str().unwrap()
            ),
            Some(&app.admin()),
            Some(&json!({"priceMinor": 1000})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    put_item(&app, &me, &small["id"], json!({"quantity": 3})).await;
    let cart = app.read("/api/cart", Some(&me)).await;
    assert_eq!(cart["items"][0]["quantity"], 3);
    assert_eq!(cart["items"][0]["lineTotalMinor"], 3000);
    assert_eq!(cart["totalMinor"], 3000 + 2199);

    // Someone else's cart is their own.
    let other = app.customer();
    assert_eq!(
        app.read("/api/cart", Some(&other)).await["items"],
        json!([])
    );

    // 0 removes; DELETE empties.
    let cart = json_of(
        put_item(&app, &me, &small["id"], json!({"quantity": 0})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cart["items"].as_array().unwrap().len(), 1);
    let resp = app.delete_as("/api/cart", &me).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.read("/api/cart", Some(&me)).await["items"], json!([]));
}

#[tokio::test]
async fn a_cart_never_holds_more_than_is_available() {
    let app = spawn_app().await;
    let me = app.customer();
    let product = stocked_shirt(&app, "Scarce", 3).await;
    let variant = &product["variants"][0];
    let resp = put_item(&app, &me, &variant["id"], json!({"quantity": 4})).await;
    let body = assert_error(resp, StatusCode::CONFLICT, "INSUFFICIENT_STOCK").await;
    assert_eq!(body["error"]["details"]["available"], 3);
    assert_eq!(body["error"]["details"]["requested"], 4);
    assert_eq!(app.read("/api/cart", Some(&me)).await["items"], json!([]));
    let resp = put_item(&app, &me, &variant["id"], json!({"quantity": 3})).await;
    assert_eq!(resp.status(), StatusCode::OK);

    // A product taken off sale shows 0 available in carts that hold it, and
    // cannot be added.
    let id = product["id"].as_str().unwrap();
    let resp = app
        .send(
            Method::PATCH,
            &format!("/api/products/{id}"),
            Some(&app.admin()),
            Some(&json!({"status": "draft"})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cart = app.read("/api/cart", Some(&me)).await;
    assert_eq!(cart["items"][0]["available"], 0);
    let resp = put_item(
        &app,
        &app.customer(),
        &variant["id"],
        json!({"quantity": 1}),
    )
    .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn bad_cart_requests_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let me = app.customer();
    let product = stocked_shirt(&app, "Plain", 5).await;
    let variant = &product["variants"][0];

    for (body, field) in [
        (json!({}), "quantity"),
        (json!({"quantity": -1}), "quantity"),
        (json!({"quantity": 1001}), "quantity"),
    ] {
        let resp = put_item(&app, &me, &variant["id"], body.clone()).await;
        let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&error), vec![field.to_owned()], "{body}");
    }
    for body in [
        json!({"quantity": "2"}),
        json!({"quantity": 1.5}),
        json!([1]),
    ] {
        let resp = put_item(&app, &me, &variant["id"], body.clone()).await;
        assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    }
    let resp = app
        .request(
            Method::PUT,
            &format!("/api/cart/items/{}", variant["id"].as_str().unwrap()),
            Some(&me),
        )
        .header("content-type", "application/json")
        .body("{\"quantity\": ")
        .send()
        .await
        .unwrap();
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;

    for missing in [json!(uuid::Uuid::now_v7().to_string()), json!("not-a-uuid")] {
        let resp = put_item(&app, &me, &missing, json!({"quantity": 1})).await;
        assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    for token in [None, Some(app.forged())] {
        let resp = app
            .send(Method::GET, "/api/cart", token.as_deref(), None)
            .await;
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        let resp = app
            .send(
                Method::PUT,
                &format!("/api/cart/items/{}", variant["id"].as_str().unwrap()),
                token.as_deref(),
                Some(&json!({"quantity": 1})),
            )
            .await;
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
    assert_eq!(app.read("/api/cart", Some(&me)).await["items"], json!([]));
}
