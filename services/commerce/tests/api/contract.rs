//! What schemathesis found the document and the service disagreeing on: each
//! value the document allows is one the service takes or refuses for a fact
//! no schema can state, never as a malformed body.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// A `parentId` that is not a UUID is a field error (422 on parentId), not a
/// malformed body (400): the document's `format: uuid` does not make `""` or
/// `"x"` invalid JSON Schema.
#[tokio::test]
async fn a_parent_id_that_is_not_a_uuid_is_a_field_error() {
    let app = spawn_app().await;
    app.category(json!({"slug": "shoes", "name": "Shoes"}))
        .await;
    for bad in ["", "x", "0190c1a2"] {
        let body = json!({"name": "Boots", "parentId": bad});
        let resp = app.post("/api/categories", Some(&app.admin()), &body).await;
        let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&error), ["parentId"], "{bad:?}");
        let resp = app
            .send(
                Method::PATCH,
                "/api/categories/shoes",
                Some(&app.admin()),
                Some(&body),
            )
            .await;
        let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&error), ["parentId"], "{bad:?}");
    }
    // A UUID with blanks around it, and null, still work.
    let parent = app.read("/api/categories/shoes", None).await;
    let child = app
        .category(
            json!({"name": "Boots", "parentId": format!(" {} ", parent["id"].as_str().unwrap())}),
        )
        .await;
    assert_eq!(child["path"], "shoes/boots");
    let resp = app
        .send(
            Method::PATCH,
            "/api/categories/boots",
            Some(&app.admin()),
            Some(&json!({"parentId": null})),
        )
        .await;
    assert_eq!(json_of(resp, StatusCode::OK).await["path"], "boots");
}

/// Every operation has an operationId of its own: schemathesis follows links
/// by operationId, and three `get_one`s sent a category's slug to the product
/// route.
#[tokio::test]
async fn every_operation_id_is_unique() {
    let app = spawn_app().await;
    let document = app.read("/openapi.json", None).await;
    let mut ids = Vec::new();
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            ids.push(operation["operationId"].as_str().unwrap().to_owned());
        }
    }
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "{ids:?}");
}

/// The bounds the service enforces are in the schema, not only in words: an
/// option value of 1-100 characters, and an adjustment that is not 0.
#[tokio::test]
async fn the_document_states_option_value_bounds_and_a_delta_that_is_not_zero() {
    let app = spawn_app().await;
    let document = app.read("/openapi.json", None).await;
    let schemas = &document["components"]["schemas"];
    let values = &schemas["OptionRequest"]["properties"]["values"];
    assert_eq!(values["items"]["maxLength"], 100, "{values}");
    let pattern = regex::Regex::new(values["items"]["pattern"].as_str().unwrap()).unwrap();
    assert!(!pattern.is_match("") && !pattern.is_match("  ") && pattern.is_match("M"));
    assert_eq!(values["uniqueItems"], true);
    let delta = &schemas["AdjustmentRequest"]["properties"]["delta"];
    let allows = |n: i64| {
        delta["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .any(|range: &Value| {
                range["minimum"].as_i64().unwrap() <= n && n <= range["maximum"].as_i64().unwrap()
            })
    };
    assert!(!allows(0) && allows(1) && allows(-1) && allows(1_000_000_000));
    assert!(!allows(1_000_000_001) && !allows(-1_000_000_001));

    // And the service still refuses what the schema now refuses.
    let resp = app
        .post(
            "/api/products",
            Some(&app.admin()),
            &json!({"title": "Tee", "options": [{"name": "Size", "values": [""]}]}),
        )
        .await;
    let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&error), ["options[0].values"]);
    let (product, _) = app.product(shirt("Delta Tee")).await;
    let sku = product["variants"][0]["sku"].as_str().unwrap();
    let resp = app
        .post(
            &format!("/api/inventory/{sku}/adjustments"),
            Some(&app.admin()),
            &json!({"delta": 0, "reason": "nothing"}),
        )
        .await;
    let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&error), ["delta"]);
}

/// Text PostgreSQL cannot hold (U+0000) in a category slug or an attribute
/// value is a field error (422) found before any query, not the database's
/// refusal (400); the document's patterns exclude it too.
#[tokio::test]
async fn nul_characters_in_category_slugs_and_attributes_are_field_errors() {
    let app = spawn_app().await;
    app.category(json!({"slug": "shoes", "name": "Shoes"}))
        .await;
    let (product, _) = app.product(shirt("Nul Tee")).await;
    let id = product["id"].as_str().unwrap();
    for (body, field) in [
        (json!({"categories": ["shoes", "sh\u{0}oes"]}), "categories"),
        (json!({"categories": ["Shoes"]}), "categories"),
        (
            json!({"attributes": {"brand": "Ac\u{0}me"}}),
            "attributes.brand",
        ),
        (
            json!({"attributes": {"care": ["ok", "\u{0}"]}}),
            "attributes.care",
        ),
    ] {
        let resp = app
            .send(
                Method::PATCH,
                &format!("/api/products/{id}"),
                Some(&app.admin()),
                Some(&body),
            )
            .await;
        let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&error), [field], "{body}");
        let mut new = shirt("Nul Tee Two");
        new.as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let resp = app.post("/api/products", Some(&app.admin()), &new).await;
        let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&error), [field], "{body}");
    }
    let read = app.read(&format!("/api/products/{id}"), None).await;
    assert_eq!(read["attributes"]["brand"], "Acme", "nothing changed");
    let document = app.read("/openapi.json", None).await;
    let categories =
        &document["components"]["schemas"]["ProductRequest"]["properties"]["categories"];
    assert_eq!(
        categories["items"]["pattern"], "^[a-z0-9]+(?:-[a-z0-9]+)*$",
        "{categories}"
    );
}
