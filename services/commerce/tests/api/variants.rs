//! A product's variants: adding, changing and deleting one, under the
//! product's If-Match.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

fn skus(product: &Value) -> Vec<&str> {
    product["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["sku"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_variant_is_added_changed_and_deleted_as_revisions_of_the_product() {
    let app = spawn_app().await;
    let admin = app.admin();
    let (product, first) = app.product(shirt("Tee")).await;
    let id = product["id"].as_str().unwrap();
    let variants = format!("/api/products/{id}/variants");

    let resp = app
        .send_if(
            Method::POST,
            &variants,
            &admin,
            &first,
            Some(&json!({"sku": "TEE-S-BLUE", "optionValues": {"Size": "S", "Color": "Blue"}, "priceMinor": 2199})),
        )
        .await;
    let second = etag(&resp);
    let added = json_of(resp, StatusCode::CREATED).await;
    assert_eq!(second, "\"2\"");
    assert_eq!(
        skus(&added),
        ["Tee-S-RED", "Tee-M-RED", "Tee-M-BLUE", "TEE-S-BLUE"]
    );
    let new = &added["variants"][3];
    assert_eq!(
        new,
        &json!({"id": new["id"], "sku": "TEE-S-BLUE", "title": "S / Blue",
                "optionValues": {"Color": "Blue", "Size": "S"}, "priceMinor": 2199,
                "compareAtPriceMinor": null, "currency": "EUR", "available": 0})
    );
    let new_id = new["id"].as_str().unwrap();
    let one = format!("{variants}/{new_id}");

    // The first revision is stale now, for every variant write.
    for (method, path, body) in [
        (
            Method::POST,
            variants.clone(),
            Some(
                json!({"sku": "X-1", "priceMinor": 1, "optionValues": {"Size": "L", "Color": "Red"}}),
            ),
        ),
        (Method::PATCH, one.clone(), Some(json!({"priceMinor": 1}))),
        (Method::DELETE, one.clone(), None),
    ] {
        let resp = app
            .send_if(method, &path, &admin, &first, body.as_ref())
            .await;
        let error =
            assert_error(resp, StatusCode::PRECONDITION_FAILED, "PRECONDITION_FAILED").await;
        assert_eq!(error["error"]["details"]["etag"], second.as_str());
    }
    assert_eq!(app.read(&format!("/api/products/{id}"), None).await, added);

    let resp = app
        .send_if(
            Method::PATCH,
            &one,
            &admin,
            &second,
            Some(&json!({"sku": "TEE-S-BLU", "title": "Small blue", "priceMinor": 1500, "compareAtPriceMinor": 2199})),
        )
        .await;
    let third = etag(&resp);
    let changed = json_of(resp, StatusCode::OK).await;
    assert_eq!(third, "\"3\"");
    let variant = &changed["variants"][3];
    assert_eq!(
        (
            &variant["sku"],
            &variant["title"],
            &variant["priceMinor"],
            &variant["compareAtPriceMinor"]
        ),
        (
            &json!("TEE-S-BLU"),
            &json!("Small blue"),
            &json!(1500),
            &json!(2199)
        )
    );
    // Back to the title made from its values; no compare-at price.
    let resp = app
        .send_json(
            Method::PATCH,
            &one,
            Some(&admin),
            &json!({"title": null, "compareAtPriceMinor": null}),
        )
        .await;
    let reset = json_of(resp, StatusCode::OK).await;
    assert_eq!(reset["variants"][3]["title"], "S / Blue");
    assert!(reset["variants"][3]["compareAtPriceMinor"].is_null());
    assert_eq!(reset["variants"][3]["priceMinor"], 1500, "untouched");

    let resp = app
        .send_if(Method::DELETE, &one, &admin, "\"4\"", None)
        .await;
    let deleted = json_of(resp, StatusCode::OK).await;
    assert_eq!(skus(&deleted), ["Tee-S-RED", "Tee-M-RED", "Tee-M-BLUE"]);
    let resp = app.delete_as(&one, &admin).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn skus_are_unique_whatever_the_case_across_products() {
    let app = spawn_app().await;
    let admin = app.admin();
    let (tee, _) = app.product(shirt("Tee")).await;
    let (other, _) = app.product(json!({"title": "Mug"})).await;
    let tee_id = tee["id"].as_str().unwrap();
    let other_id = other["id"].as_str().unwrap();
    let resp = app
        .post(
            &format!("/api/products/{other_id}/variants"),
            Some(&admin),
            &json!({"sku": "tee-s-red", "priceMinor": 900}),
        )
        .await;
    assert_error(resp, StatusCode::CONFLICT, "SKU_TAKEN").await;
    let mut body = shirt("Other");
    body["variants"][0]["sku"] = json!("TEE-M-RED");
    let resp = app.post("/api/products", Some(&admin), &body).await;
    assert_error(resp, StatusCode::CONFLICT, "SKU_TAKEN").await;
    let resp = app.get("/api/products/other").await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    // Renaming a variant to another's SKU, even of the same product.
    let second = tee["variants"][1]["id"].as_str().unwrap();
    let resp = app
        .send_json(
            Method::PATCH,
            &format!("/api/products/{tee_id}/variants/{second}"),
            Some(&admin),
            &json!({"sku": "TEE-s-red"}),
        )
        .await;
    assert_error(resp, StatusCode::CONFLICT, "SKU_TAKEN").await;
    // Its own SKU in another case is fine.
    let resp = app
        .send_json(
            Method::PATCH,
            &format!("/api/products/{tee_id}/variants/{second}"),
            Some(&admin),
            &json!({"sku": "TEE-M-RED"}),
        )
        .await;
    assert_eq!(
        json_of(resp, StatusCode::OK).await["variants"][1]["sku"],
        "TEE-M-RED"
    );
    let resp = app
        .post(
            &format!("/api/products/{other_id}/variants"),
            Some(&admin),
            &json!({"sku": "MUG-1", "priceMinor": 900}),
        )
        .await;
    let mug = json_of(resp, StatusCode::CREATED).await;
    assert_eq!(mug["variants"][0]["title"], "Default");
}

#[tokio::test]
async fn variants_must_fit_the_options_once_each() {
    let app = spawn_app().await;
    let admin = app.admin();
    let (tee, _) = app.product(shirt("Tee")).await;
    let id = tee["id"].as_str().unwrap();
    let add = format!("/api/products/{id}/variants");
    let first = tee["variants"][0]["id"].as_str().unwrap();
    let one = format!("{add}/{first}");
    for (method, path, body, fields) in [
        // Taken by "Tee-M-RED".
        (
            Method::POST,
            &add,
            json!({"sku": "N-1", "priceMinor": 1, "optionValues": {"Size": "M", "Color": "Red"}}),
            vec!["optionValues"],
        ),
        (
            Method::PATCH,
            &one,
            json!({"optionValues": {"Color": "Red", "Size": "M"}}),
            vec!["optionValues"],
        ),
        (
            Method::POST,
            &add,
            json!({"sku": "N-1", "priceMinor": 1, "optionValues": {"Size": "S"}}),
            vec!["optionValues"],
        ),
        (
            Method::POST,
            &add,
            json!({"sku": "N-1", "priceMinor": 1}),
            vec!["optionValues"],
        ),
        (
            Method::POST,
            &add,
            json!({"sku": "N-1", "priceMinor": 1, "optionValues": {"Size": "S", "Color": "Green"}}),
            vec!["optionValues"],
        ),
        (
            Method::POST,
            &add,
            json!({"sku": "N-1", "priceMinor": 1, "optionValues": {"Size": "S", "Color": "Blue", "Fit": "Slim"}}),
            vec!["optionValues"],
        ),
        (Method::POST, &add, json!({"priceMinor": 1}), vec!["sku"]),
        (
            Method::POST,
            &add,
            json!({"sku": "N-1"}),
            vec!["priceMinor"],
        ),
        (
            Method::POST,
            &add,
            json!({"sku": "x".repeat(65), "priceMinor": 1}),
            vec!["sku"],
        ),
        (
            Method::POST,
            &add,
            json!({"sku": "N-1", "priceMinor": 1, "title": "x".repeat(201)}),
            vec!["title"],
        ),
        // Not above its price (stored: 1999).
        (
            Method::PATCH,
            &one,
            json!({"compareAtPriceMinor": 1999}),
            vec!["compareAtPriceMinor"],
        ),
        (
            Method::PATCH,
            &one,
            json!({"priceMinor": null, "sku": null, "optionValues": null}),
            vec!["optionValues", "priceMinor", "sku"],
        ),
    ] {
        let resp = app.send_json(method, path, Some(&admin), &body).await;
        let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&error), fields, "{body}");
    }
    let after = app.read(&format!("/api/products/{id}"), None).await;
    assert_eq!(after, tee, "nothing changed");
    assert_eq!(
        etag(&app.get(&format!("/api/products/{id}")).await),
        "\"1\""
    );
}

#[tokio::test]
async fn unknown_products_and_variants_are_404() {
    let app = spawn_app().await;
    let admin = app.admin();
    let (tee, _) = app.product(shirt("Tee")).await;
    let (mug, _) = app
        .product(json!({"title": "Mug", "variants": [{"sku": "MUG-1", "priceMinor": 900}]}))
        .await;
    let tee_id = tee["id"].as_str().unwrap();
    let mug_variant = mug["variants"][0]["id"].as_str().unwrap();
    let nobody = uuid::Uuid::now_v7();
    let body = json!({"sku": "N-1", "priceMinor": 1});
    for (method, path) in [
        (Method::POST, format!("/api/products/{nobody}/variants")),
        (Method::POST, "/api/products/tee/variants".to_owned()),
        (
            Method::PATCH,
            format!("/api/products/{nobody}/variants/{mug_variant}"),
        ),
        // Another product's variant is not this product's.
        (
            Method::PATCH,
            format!("/api/products/{tee_id}/variants/{mug_variant}"),
        ),
        (
            Method::DELETE,
            format!("/api/products/{tee_id}/variants/{mug_variant}"),
        ),
        (
            Method::PATCH,
            format!("/api/products/{tee_id}/variants/{nobody}"),
        ),
        (
            Method::DELETE,
            format!("/api/products/{tee_id}/variants/not-a-uuid"),
        ),
    ] {
        let resp = app.send(method, &path, Some(&admin), Some(&body)).await;
        assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    assert_eq!(
        app.read(&format!("/api/products/{tee_id}"), None).await,
        tee
    );
}
