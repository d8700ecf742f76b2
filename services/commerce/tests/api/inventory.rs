//! Inventory: stock by SKU, adjustments as ledger entries, the ledger's pages,
//! and on hand never below reserved.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn adjust(app: &TestApp, token: &str, sku: &str, body: Value) -> reqwest::Response {
    app.post(
        &format!("/api/inventory/{sku}/adjustments"),
        Some(token),
        &body,
    )
    .await
}

#[tokio::test]
async fn adjustments_change_on_hand_and_are_written_to_the_ledger() {
    let app = spawn_app().await;
    let admin = app.admin();
    let (product, tag) = app.product(shirt("Tee")).await;
    let variant = &product["variants"][0];
    let stock = app.read("/api/inventory/tee-s-red", Some(&admin)).await;
    assert_eq!(
        stock,
        json!({"sku": "Tee-S-RED", "variantId": variant["id"], "productId": product["id"],
               "onHand": 0, "reserved": 0, "available": 0}),
        "found whatever the case"
    );

    let resp = adjust(
        &app,
        &admin,
        "Tee-S-RED",
        json!({"delta": 10, "reason": " Delivery 42 "}),
    )
    .await;
    let added = json_of(resp, StatusCode::CREATED).await;
    assert_eq!(added["inventory"]["onHand"], 10);
    assert_eq!(added["inventory"]["available"], 10);
    let entry = &added["entry"];
    assert_eq!(
        (
            &entry["delta"],
            &entry["reason"],
            &entry["onHandAfter"],
            &entry["reservedAfter"]
        ),
        (&json!(10), &json!("Delivery 42"), &json!(10), &json!(0))
    );
    assert!(entry["actorId"].is_string());
    let resp = adjust(
        &app,
        &admin,
        "TEE-S-RED",
        json!({"delta": -3, "reason": "Breakage"}),
    )
    .await;
    assert_eq!(
        json_of(resp, StatusCode::CREATED).await["inventory"]["onHand"],
        7
    );
    // What customers see; stock is no revision of the product.
    let resp = app
        .get(&format!(
            "/api/products/{}",
            product["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(etag(&resp), tag);
    let seen = json_of(resp, StatusCode::OK).await;
    assert_eq!(seen["variants"][0]["available"], 7);
    assert_eq!(seen["variants"][1]["available"], 0);

    // Never below zero (nothing is reserved yet).
    let resp = adjust(
        &app,
        &admin,
        "Tee-S-RED",
        json!({"delta": -8, "reason": "Count"}),
    )
    .await;
    let error = assert_error(resp, StatusCode::CONFLICT, "STOCK_BELOW_RESERVED").await;
    assert_eq!(
        error["error"]["details"],
        json!({"onHand": 7, "reserved": 0, "available": 7, "delta": -8})
    );
    let ledger = app
        .read("/api/inventory/Tee-S-RED/ledger", Some(&admin))
        .await;
    let deltas: Vec<&Value> = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["delta"])
        .collect();
    assert_eq!(
        deltas,
        [&json!(-3), &json!(10)],
        "newest first; the refused one is not there"
    );
    assert!(ledger["nextCursor"].is_null());
    assert_eq!(ledger["items"][1], *entry);
}

#[tokio::test]
async fn on_hand_never_falls_below_reserved() {
    let app = spawn_app().await;
    let admin = app.admin();
    app.product(shirt("Tee")).await;
    adjust(
        &app,
        &admin,
        "Tee-S-RED",
        json!({"delta": 7, "reason": "Delivery"}),
    )
    .await;
    // Orders will reserve; until then, behind the service's back.
    assert_eq!(
        app.sql("UPDATE variants SET reserved = 5 WHERE sku = 'Tee-S-RED'")
            .unwrap(),
        1
    );
    let stock = app.read("/api/inventory/Tee-S-RED", Some(&admin)).await;
    assert_eq!(
        (&stock["onHand"], &stock["reserved"], &stock["available"]),
        (&json!(7), &json!(5), &json!(2))
    );
    let resp = adjust(
        &app,
        &admin,
        "Tee-S-RED",
        json!({"delta": -3, "reason": "Count"}),
    )
    .await;
    let error = assert_error(resp, StatusCode::CONFLICT, "STOCK_BELOW_RESERVED").await;
    assert_eq!(error["error"]["details"]["available"], 2);
    let resp = adjust(
        &app,
        &admin,
        "Tee-S-RED",
        json!({"delta": -2, "reason": "Count"}),
    )
    .await;
    let left = json_of(resp, StatusCode::CREATED).await;
    assert_eq!(
        left["inventory"],
        json!({"sku": "Tee-S-RED", "variantId": stock["variantId"],
        "productId": stock["productId"], "onHand": 5, "reserved": 5, "available": 0})
    );
    assert_eq!(left["entry"]["reservedAfter"], 5);
    // The database refuses it too, whoever writes.
    assert!(app
        .sql("UPDATE variants SET on_hand = 4 WHERE sku = 'Tee-S-RED'")
        .is_err());
}

#[tokio::test]
async fn ledger_entries_are_never_edited_and_page_by_cursor() {
    let app = spawn_app().await;
    let admin = app.admin();
    app.product(shirt("Tee")).await;
    for delta in 1..=5 {
        let resp = adjust(
            &app,
            &admin,
            "Tee-M-RED",
            json!({"delta": delta, "reason": format!("Delivery {delta}")}),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    assert!(app.sql("UPDATE inventory_ledger SET delta = 100").is_err());
    let mut seen = Vec::new();
    let mut path = "/api/inventory/Tee-M-RED/ledger?limit=2".to_owned();
    for _ in 0..5 {
        let page = app.read(&path, Some(&admin)).await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["delta"].as_i64().unwrap()),
        );
        match page["nextCursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/inventory/Tee-M-RED/ledger?limit=2&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(seen, [5, 4, 3, 2, 1]);
    let other = app
        .read("/api/inventory/Tee-S-RED/ledger", Some(&admin))
        .await;
    assert_eq!(other, json!({"items": [], "nextCursor": null}));
    for query in ["limit=0", "limit=101", "cursor=nonsense"] {
        let resp = app
            .get_as(&format!("/api/inventory/Tee-M-RED/ledger?{query}"), &admin)
            .await;
        assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    }
}

#[tokio::test]
async fn invalid_adjustments_and_unknown_skus_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin();
    app.product(shirt("Tee")).await;
    for (body, fields) in [
        (json!({}), vec!["delta", "reason"]),
        (json!({"delta": 0, "reason": "x"}), vec!["delta"]),
        (
            json!({"delta": 1_000_000_001, "reason": "x"}),
            vec!["delta"],
        ),
        (
            json!({"delta": -1_000_000_001, "reason": "x"}),
            vec!["delta"],
        ),
        (json!({"delta": i64::MIN, "reason": "x"}), vec!["delta"]),
        (json!({"delta": 1, "reason": "  "}), vec!["reason"]),
        (
            json!({"delta": 1, "reason": "x".repeat(501)}),
            vec!["reason"],
        ),
        (
            json!({"delta": null, "reason": null}),
            vec!["delta", "reason"],
        ),
    ] {
        let resp = adjust(&app, &admin, "Tee-S-RED", body.clone()).await;
        let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&error), fields, "{body}");
    }
    for body in [
        json!({"delta": 1.5, "reason": "x"}),
        json!({"delta": "1", "reason": "x"}),
        json!({"delta": 1, "reason": 5}),
    ] {
        let resp = adjust(&app, &admin, "Tee-S-RED", body).await;
        assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    }
    for (method, path) in [
        (Method::GET, "/api/inventory/NOPE-1"),
        (Method::POST, "/api/inventory/NOPE-1/adjustments"),
        (Method::GET, "/api/inventory/NOPE-1/ledger"),
    ] {
        let resp = app
            .send(
                method,
                path,
                Some(&admin),
                Some(&json!({"delta": 1, "reason": "x"})),
            )
            .await;
        assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    let stock = app.read("/api/inventory/Tee-S-RED", Some(&admin)).await;
    assert_eq!(stock["onHand"], 0, "nothing applied");
}
