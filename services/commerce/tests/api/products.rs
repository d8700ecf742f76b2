//! Products: the shape, slugs, visibility, validation, ETag and If-Match.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn a_product_is_created_with_its_variants_and_read_by_anyone() {
    let app = spawn_app().await;
    let shoes = app.category(json!({"name": "Shoes"})).await;
    let sale = app.category(json!({"name": "Sale"})).await;
    let mut body = shirt("Tee");
    body["description"] = json!("  Soft.\nOrganic cotton.  ");
    body["categories"] = json!(["sale", "shoes"]);
    let resp = app.post("/api/products", Some(&app.admin()), &body).await;
    let tag = etag(&resp);
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let product = json_of(resp, StatusCode::CREATED).await;
    let id = product["id"].as_str().unwrap();
    assert_eq!(
        location.as_deref(),
        Some(format!("/api/products/{id}").as_str())
    );
    assert_eq!(tag, "\"1\"");
    let variants = product["variants"].as_array().unwrap();
    let variant_ids: Vec<&Value> = variants.iter().map(|v| &v["id"]).collect();
    assert_eq!(
        product,
        json!({
            "id": id,
            "slug": "tee",
            "title": "Tee",
            "description": "Soft.\nOrganic cotton.",
            "status": "active",
            "categories": [
                {"id": sale["id"], "slug": "sale", "name": "Sale"},
                {"id": shoes["id"], "slug": "shoes", "name": "Shoes"}
            ],
            "attributes": {"brand": "Acme", "organic": true, "weightGrams": 180, "care": ["cold wash"]},
            "options": [
                {"name": "Size", "values": ["S", "M"]},
                {"name": "Color", "values": ["Red", "Blue"]}
            ],
            "variants": [
                {"id": variant_ids[0], "sku": "Tee-S-RED", "title": "S / Red",
                 "optionValues": {"Color": "Red", "Size": "S"}, "priceMinor": 1999,
                 "compareAtPriceMinor": null, "currency": "EUR", "available": 0},
                {"id": variant_ids[1], "sku": "Tee-M-RED", "title": "M / Red",
                 "optionValues": {"Color": "Red", "Size": "M"}, "priceMinor": 1999,
                 "compareAtPriceMinor": 2499, "currency": "EUR", "available": 0},
                {"id": variant_ids[2], "sku": "Tee-M-BLUE", "title": "Medium blue",
                 "optionValues": {"Color": "Blue", "Size": "M"}, "priceMinor": 2199,
                 "compareAtPriceMinor": null, "currency": "EUR", "available": 0}
            ],
            "images": [],
            "createdAt": product["createdAt"],
            "updatedAt": product["updatedAt"]
        })
    );
    // By id and by slug, anonymous, a customer and an admin alike.
    for path in [
        format!("/api/products/{id}"),
        "/api/products/tee".to_owned(),
    ] {
        for token in [None, Some(app.customer()), Some(app.admin())] {
            let resp = app.send(Method::GET, &path, token.as_deref(), None).await;
            assert_eq!(etag(&resp), tag);
            assert_eq!(json_of(resp, StatusCode::OK).await, product);
        }
    }
    for missing in [
        format!("/api/products/{}", uuid::Uuid::now_v7()),
        "/api/products/no-such-thing".to_owned(),
    ] {
        assert_error(app.get(&missing).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
}

#[tokio::test]
async fn the_currency_is_the_shops() {
    let app = spawn_app_with(&[("SHOP_CURRENCY", "USD")]).await;
    let (product, _) = app.product(shirt("Tee")).await;
    assert_eq!(product["variants"][0]["currency"], "USD");
}

#[tokio::test]
async fn drafts_and_archived_products_are_for_admins_only() {
    let app = spawn_app().await;
    let (draft, _) = app.product(json!({"title": "Secret plan"})).await;
    assert_eq!(draft["status"], "draft", "the default");
    assert_eq!(draft["slug"], "secret-plan");
    assert_eq!(draft["variants"], json!([]));
    let id = draft["id"].as_str().unwrap();
    let (archived, _) = app
        .product(json!({"title": "Old thing", "status": "archived"}))
        .await;
    for path in [
        format!("/api/products/{id}"),
        "/api/products/secret-plan".to_owned(),
        "/api/products/old-thing".to_owned(),
        format!("/api/products/{}", archived["id"].as_str().unwrap()),
    ] {
        for token in [None, Some(app.customer())] {
            let resp = app.send(Method::GET, &path, token.as_deref(), None).await;
            assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
        }
        let seen = app.read(&path, Some(&app.admin())).await;
        assert!(seen["status"] == "draft" || seen["status"] == "archived");
    }
    // Published, everyone sees it.
    let resp = app
        .send_json(
            Method::PATCH,
            &format!("/api/products/{id}"),
            Some(&app.admin()),
            &json!({"status": "active"}),
        )
        .await;
    assert_eq!(json_of(resp, StatusCode::OK).await["status"], "active");
    assert_eq!(app.read("/api/products/secret-plan", None).await["id"], id);
}

#[tokio::test]
async fn slugs_come_from_titles_unique_or_given() {
    let app = spawn_app().await;
    let (first, _) = app.product(json!({"title": "Red Shoes"})).await;
    let (second, _) = app.product(json!({"title": "Red shoes!"})).await;
    let (third, _) = app.product(json!({"title": "東京"})).await;
    let (given, _) = app
        .product(json!({"title": "Anything", "slug": "my-slug"}))
        .await;
    assert_eq!(
        [
            &first["slug"],
            &second["slug"],
            &third["slug"],
            &given["slug"]
        ],
        [
            &json!("red-shoes"),
            &json!("red-shoes-2"),
            &json!("product"),
            &json!("my-slug")
        ]
    );
    let resp = app
        .post(
            "/api/products",
            Some(&app.admin()),
            &json!({"title": "Other", "slug": "red-shoes"}),
        )
        .await;
    assert_error(resp, StatusCode::CONFLICT, "SLUG_TAKEN").await;
    let resp = app
        .send_json(
            Method::PATCH,
            &format!("/api/products/{}", given["id"].as_str().unwrap()),
            Some(&app.admin()),
            &json!({"slug": "red-shoes-2"}),
        )
        .await;
    assert_error(resp, StatusCode::CONFLICT, "SLUG_TAKEN").await;
    // A new title keeps the slug (links stay valid).
    let resp = app
        .send_json(
            Method::PATCH,
            &format!("/api/products/{}", first["id"].as_str().unwrap()),
            Some(&app.admin()),
            &json!({"title": "Blue Shoes"}),
        )
        .await;
    let renamed = json_of(resp, StatusCode::OK).await;
    assert_eq!(
        (renamed["title"].as_str(), renamed["slug"].as_str()),
        (Some("Blue Shoes"), Some("red-shoes"))
    );
}

#[tokio::test]
async fn invalid_products_are_422_naming_every_field() {
    let app = spawn_app().await;
    app.category(json!({"name": "Shoes"})).await;
    let nested: Value = json!({"deep": {"x": 1}});
    let many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
    let options = json!([{"name": "Size", "values": ["S", "M"]}]);
    for (body, fields) in [
        (json!({}), vec!["title"]),
        (json!({"title": null}), vec!["title"]),
        (json!({"title": " \t "}), vec!["title"]),
        (json!({"title": "x".repeat(201)}), vec!["title"]),
        (
            json!({"title": "T", "description": "x".repeat(10_001)}),
            vec!["description"],
        ),
        (json!({"title": "T", "status": "published"}), vec!["status"]),
        (json!({"title": "T", "status": null}), vec!["status"]),
        (json!({"title": "T", "slug": "Bad Slug"}), vec!["slug"]),
        (
            json!({"title": "T", "categories": ["shoes", "shoes"]}),
            vec!["categories"],
        ),
        (
            json!({"title": "T", "categories": ["shoes", "nowhere"]}),
            vec!["categories"],
        ),
        (
            json!({"title": "T", "categories": (0..21).map(|i| format!("c{i}")).collect::<Vec<_>>()}),
            vec!["categories"],
        ),
        (
            json!({"title": "T", "attributes": nested}),
            vec!["attributes.deep"],
        ),
        (
            json!({"title": "T", "attributes": {"n": null, "mixed": [1, "a"]}}),
            vec!["attributes.mixed", "attributes.n"],
        ),
        (
            json!({"title": "T", "attributes": many}),
            vec!["attributes"],
        ),
        (
            json!({"title": "T", "attributes": {"big": "x".repeat(16 * 1024)}}),
            vec!["attributes"],
        ),
        (
            json!({"title": "T", "attributes": null}),
            vec!["attributes"],
        ),
        (
            json!({"title": "T", "options": [{"name": "Size", "values": []}, {"values": ["x"]}]}),
            vec!["options[0].values", "options[1].name"],
        ),
        (
            json!({"title": "T", "options": [{"name": "Size", "values": ["S"]}, {"name": "size", "values": ["M"]}]}),
            vec!["options[1].name"],
        ),
        (
            json!({"title": "T", "options": [
                {"name": "A", "values": ["1"]}, {"name": "B", "values": ["1"]},
                {"name": "C", "values": ["1"]}, {"name": "D", "values": ["1"]}]}),
            vec!["options"],
        ),
        (
            json!({"title": "T", "options": options, "variants": [
                {"sku": "A-1", "optionValues": {"Size": "S"}, "priceMinor": 100},
                {"sku": "A-2", "optionValues": {"Size": "S"}, "priceMinor": 100},
                {"sku": "a-1", "optionValues": {"Size": "M"}, "priceMinor": 100},
                {"sku": "A-4", "optionValues": {"Size": "XL"}, "priceMinor": 100},
                {"sku": "A-5", "optionValues": {}, "priceMinor": 100}
            ]}),
            vec![
                "variants[1].optionValues",
                "variants[2].sku",
                "variants[3].optionValues",
                "variants[4].optionValues",
            ],
        ),
        (
            json!({"title": "T", "variants": [
                {"optionValues": {}},
                {"sku": "bad sku", "priceMinor": -1},
                {"sku": "B-1", "priceMinor": 1_000_000_000_001_i64, "title": ""},
                {"sku": "B-2", "priceMinor": 100, "compareAtPriceMinor": 100}
            ]}),
            vec![
                "variants[0].priceMinor",
                "variants[0].sku",
                "variants[1].priceMinor",
                "variants[1].sku",
                "variants[2].priceMinor",
                "variants[2].title",
                "variants[3].compareAtPriceMinor",
            ],
        ),
        (json!({"title": "T", "variants": null}), vec!["variants"]),
    ] {
        let resp = app.post("/api/products", Some(&app.admin()), &body).await;
        let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&error), fields, "{body}");
    }
    // Whole numbers may be written with a decimal point; fractions are wrong types.
    let (ok, _) = app
        .product(json!({"title": "Round", "variants": [{"sku": "R-1", "priceMinor": 100.0}]}))
        .await;
    assert_eq!(ok["variants"][0]["priceMinor"], 100);
    assert_eq!(ok["variants"][0]["title"], "Default");
}

#[tokio::test]
async fn patches_change_what_they_name_and_refuse_what_breaks_variants() {
    let app = spawn_app().await;
    app.category(json!({"name": "Shoes"})).await;
    let (product, _) = app.product(shirt("Tee")).await;
    let id = product["id"].as_str().unwrap();
    let path = format!("/api/products/{id}");
    let admin = app.admin();
    let resp = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&admin),
            &json!({"description": "New", "categories": ["shoes"], "attributes": {"brand": "Other"}}),
        )
        .await;
    let tag = etag(&resp);
    let changed = json_of(resp, StatusCode::OK).await;
    assert_eq!(tag, "\"2\"");
    assert_eq!(changed["description"], "New");
    assert_eq!(changed["attributes"], json!({"brand": "Other"}));
    assert_eq!(changed["categories"][0]["slug"], "shoes");
    assert_eq!(changed["title"], product["title"], "untouched");
    assert_eq!(changed["variants"], product["variants"], "untouched");
    let resp = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&admin),
            &json!({"description": null, "categories": []}),
        )
        .await;
    let cleared = json_of(resp, StatusCode::OK).await;
    assert_eq!(
        (
            cleared["description"].is_null(),
            cleared["categories"].clone()
        ),
        (true, json!([]))
    );

    for (body, fields) in [
        // The variants name a Color: it cannot go.
        (
            json!({"options": [{"name": "Size", "values": ["S", "M"]}]}),
            vec!["options"],
        ),
        // Nor can a value a variant has.
        (
            json!({"options": [{"name": "Size", "values": ["S", "M"]}, {"name": "Color", "values": ["Red"]}]}),
            vec!["options"],
        ),
        (json!({"variants": []}), vec!["variants"]),
        (json!({"title": ""}), vec!["title"]),
        (json!({"categories": ["nowhere"]}), vec!["categories"]),
    ] {
        let resp = app
            .send_json(Method::PATCH, &path, Some(&admin), &body)
            .await;
        let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&error), fields, "{body}");
    }
    // More values are fine.
    let resp = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&admin),
            &json!({"options": [{"name": "Size", "values": ["S", "M", "L"]}, {"name": "Color", "values": ["Red", "Blue"]}]}),
        )
        .await;
    let widened = json_of(resp, StatusCode::OK).await;
    assert_eq!(widened["options"][0]["values"], json!(["S", "M", "L"]));
    let read = app.read(&path, None).await;
    assert_eq!(read, widened);
    let resp = app
        .send_json(
            Method::PATCH,
            &format!("/api/products/{}", uuid::Uuid::now_v7()),
            Some(&admin),
            &json!({"title": "X"}),
        )
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = app
        .send_json(
            Method::PATCH,
            "/api/products/tee",
            Some(&admin),
            &json!({"title": "X"}),
        )
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn stale_if_match_is_412_and_changes_nothing() {
    let app = spawn_app().await;
    let (product, first) = app.product(shirt("Tee")).await;
    let id = product["id"].as_str().unwrap();
    let path = format!("/api/products/{id}");
    let admin = app.admin();
    // Admin one saves from the first revision.
    let resp = app
        .send_if(
            Method::PATCH,
            &path,
            &admin,
            &first,
            Some(&json!({"title": "One"})),
        )
        .await;
    let second = etag(&resp);
    assert_eq!(json_of(resp, StatusCode::OK).await["title"], "One");
    assert_ne!(second, first);
    // Admin two still holds the first: refused, told the current one.
    for (method, body) in [
        (Method::PATCH, Some(json!({"title": "Two"}))),
        (Method::DELETE, None),
    ] {
        for stale in [first.as_str(), "\"999\"", "W/\"2\"", "garbage"] {
            let resp = app
                .send_if(method.clone(), &path, &admin, stale, body.as_ref())
                .await;
            let error =
                assert_error(resp, StatusCode::PRECONDITION_FAILED, "PRECONDITION_FAILED").await;
            assert_eq!(error["error"]["details"]["etag"], second.as_str());
        }
    }
    let resp = app.get(&path).await;
    assert_eq!(etag(&resp), second);
    assert_eq!(json_of(resp, StatusCode::OK).await["title"], "One");
    // A list naming the current one, or `*`, goes ahead.
    let resp = app
        .send_if(
            Method::PATCH,
            &path,
            &admin,
            &format!("\"77\", {second}"),
            Some(&json!({"title": "Three"})),
        )
        .await;
    let third = etag(&resp);
    assert_eq!(json_of(resp, StatusCode::OK).await["title"], "Three");
    let resp = app
        .send_if(Method::DELETE, &path, &admin, &third, None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = app.send_if(Method::DELETE, &path, &admin, "*", None).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn a_deleted_product_is_gone_with_its_variants_and_skus() {
    let app = spawn_app().await;
    let admin = app.admin();
    let (product, _) = app.product(shirt("Tee")).await;
    let id = product["id"].as_str().unwrap();
    let resp = app.delete_as(&format!("/api/products/{id}"), &admin).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for path in [
        format!("/api/products/{id}"),
        "/api/products/tee".to_owned(),
    ] {
        let resp = app.send(Method::GET, &path, Some(&admin), None).await;
        assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    let resp = app.delete_as(&format!("/api/products/{id}"), &admin).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = app.delete_as("/api/products/not-a-uuid", &admin).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    // Its slug and SKUs are free again.
    let (again, _) = app.product(shirt("Tee")).await;
    assert_eq!(again["slug"], "tee");
}

#[tokio::test]
async fn public_reads_come_from_a_short_cache_that_the_replicas_own_writes_empty() {
    let app = spawn_app_with(&[("PRODUCT_CACHE_SECS", "60")]).await;
    app.catalog_followed_by(1).await;
    let (tee, tag) = app.product(shirt("Tee")).await;
    let id = tee["id"].as_str().unwrap();
    let path = format!("/api/products/{id}");
    let slug_path = "/api/products/tee";
    assert_eq!(app.read(&path, None).await["title"], "Tee");
    assert_eq!(app.read(slug_path, None).await["title"], "Tee");

    // Behind the service's back: public reads keep the cached answer, with its
    // ETag; admins read the database.
    app.sql(&format!(
        "UPDATE products SET title = 'Changed' WHERE id = '{id}'"
    ))
    .unwrap();
    let resp = app.get(&path).await;
    assert_eq!(etag(&resp), tag);
    assert_eq!(json_of(resp, StatusCode::OK).await["title"], "Tee");
    assert_eq!(
        app.read(&path, Some(&app.admin())).await["title"],
        "Changed"
    );

    // A write through the service shows at once, by id and by slug.
    let resp = app
        .send_if(
            Method::PATCH,
            &path,
            &app.admin(),
            &tag,
            Some(&json!({"title": "Renamed"})),
        )
        .await;
    let tag = etag(&resp);
    json_of(resp, StatusCode::OK).await;
    assert_eq!(app.read(&path, None).await["title"], "Renamed");
    assert_eq!(app.read(slug_path, None).await["title"], "Renamed");

    // Archived: gone for the public at once, and never cached for them after
    // an admin reads it.
    let resp = app
        .send_if(
            Method::PATCH,
            &path,
            &app.admin(),
            &tag,
            Some(&json!({"status": "archived"})),
        )
        .await;
    json_of(resp, StatusCode::OK).await;
    assert_eq!(
        app.read(&path, Some(&app.admin())).await["status"],
        "archived"
    );
    let resp = app.get(&path).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn with_no_cache_every_read_sees_the_database() {
    let app = spawn_app_with(&[("PRODUCT_CACHE_SECS", "0")]).await;
    let (tee, _) = app.product(shirt("Tee")).await;
    let path = format!("/api/products/{}", tee["id"].as_str().unwrap());
    assert_eq!(app.read(&path, None).await["title"], "Tee");
    app.sql("UPDATE products SET title = 'Changed'").unwrap();
    assert_eq!(app.read(&path, None).await["title"], "Changed");
}

#[tokio::test]
async fn a_write_empties_the_other_replicas_caches_too() {
    let app = spawn_app_with(&[("PRODUCT_CACHE_SECS", "60")]).await;
    let other = app.replica().await;
    let (tee, tag) = app.product(shirt("Tee")).await;
    let path = format!("/api/products/{}", tee["id"].as_str().unwrap());
    let title = |client: &testkit::Client| {
        let path = path.clone();
        let client = client.clone();
        async move {
            let resp = client.get(&path).await;
            json_of(resp, StatusCode::OK).await["title"].clone()
        }
    };
    assert_eq!(title(&other).await, "Tee");
    let resp = app
        .send_if(
            Method::PATCH,
            &path,
            &app.admin(),
            &tag,
            Some(&json!({"title": "Renamed"})),
        )
        .await;
    json_of(resp, StatusCode::OK).await;
    // The announcement crosses Redis: within a second, long before the 60 s.
    let mut seen = title(&other).await;
    for _ in 0..50 {
        if seen == "Renamed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        seen = title(&other).await;
    }
    assert_eq!(seen, "Renamed");
}
