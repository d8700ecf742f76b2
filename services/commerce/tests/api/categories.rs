//! The category tree: reads, writes, slugs, moves and deletes.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_tree_is_public_depth_first_with_paths() {
    let app = spawn_app().await;
    let empty = app.read("/api/categories", None).await;
    assert_eq!(empty, json!({"items": []}));
    let clothing = app.category(json!({"name": "Clothing"})).await;
    let books = app.category(json!({"name": "Books"})).await;
    let shoes = app
        .category(json!({"name": "Shoes", "parentId": clothing["id"]}))
        .await;
    let shirts = app
        .category(json!({"name": "Shirts", "parentId": clothing["id"], "position": 0}))
        .await;
    let running = app
        .category(json!({"name": "Running shoes", "slug": "running", "parentId": shoes["id"]}))
        .await;
    assert_eq!(
        running,
        json!({
            "id": running["id"],
            "slug": "running",
            "name": "Running shoes",
            "parentId": shoes["id"],
            "position": 0,
            "path": "clothing/shoes/running"
        })
    );
    // Appended after the last sibling unless placed.
    assert_eq!(clothing["position"], 0);
    assert_eq!(books["position"], 1);
    assert_eq!(shoes["position"], 0);
    assert_eq!(shirts["position"], 0);
    let tree = app.read("/api/categories", None).await;
    assert_eq!(
        slugs(&tree),
        ["clothing", "shirts", "shoes", "running", "books"],
        "depth first, siblings by position then slug"
    );
    let paths: Vec<&str> = tree["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "clothing",
            "clothing/shirts",
            "clothing/shoes",
            "clothing/shoes/running",
            "books"
        ]
    );
    let one = app.read("/api/categories/running", None).await;
    assert_eq!(one, running);
    let resp = app.get("/api/categories/nothing-here").await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn slugs_are_made_from_names_unique_and_validated() {
    let app = spawn_app().await;
    let first = app.category(json!({"name": "Crème Brûlée"})).await;
    assert_eq!(first["slug"], "creme-brulee");
    let second = app.category(json!({"name": "Creme brulee!"})).await;
    assert_eq!(second["slug"], "creme-brulee-2", "made unique");
    let resp = app
        .post(
            "/api/categories",
            Some(&app.admin()),
            &json!({"name": "Other", "slug": "creme-brulee"}),
        )
        .await;
    assert_error(resp, StatusCode::CONFLICT, "SLUG_TAKEN").await;
    let resp = app
        .send_json(
            Method::PATCH,
            "/api/categories/creme-brulee-2",
            Some(&app.admin()),
            &json!({"slug": "creme-brulee"}),
        )
        .await;
    assert_error(resp, StatusCode::CONFLICT, "SLUG_TAKEN").await;
    for (body, fields) in [
        (json!({}), vec!["name"]),
        (json!({"name": "   "}), vec!["name"]),
        (json!({"name": "x".repeat(201)}), vec!["name"]),
        (json!({"name": null}), vec!["name"]),
        (json!({"name": "A", "slug": "Not A Slug"}), vec!["slug"]),
        (json!({"name": "A", "slug": "a".repeat(101)}), vec!["slug"]),
        (
            json!({"name": "A", "slug": "0190c1a2-7b3c-7def-8a9b-0c1d2e3f4a5b"}),
            vec!["slug"],
        ),
        (json!({"name": "A", "position": -1}), vec!["position"]),
        (json!({"name": "A", "position": 10001}), vec!["position"]),
        (
            json!({"name": "A", "parentId": uuid::Uuid::now_v7()}),
            vec!["parentId"],
        ),
        (
            json!({"slug": "-x", "position": null}),
            vec!["name", "position", "slug"],
        ),
    ] {
        let resp = app.post("/api/categories", Some(&app.admin()), &body).await;
        let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&error), fields, "{body}");
    }
    let tree = app.read("/api/categories", None).await;
    assert_eq!(slugs(&tree), ["creme-brulee", "creme-brulee-2"]);
}

#[tokio::test]
async fn a_category_is_renamed_and_moved_but_never_under_itself() {
    let app = spawn_app().await;
    let admin = app.admin();
    let a = app.category(json!({"name": "A"})).await;
    let b = app
        .category(json!({"name": "B", "parentId": a["id"]}))
        .await;
    app.category(json!({"name": "C", "parentId": b["id"]}))
        .await;
    let patch = |slug: &str, body: serde_json::Value| {
        let path = format!("/api/categories/{slug}");
        let admin = admin.clone();
        let app = &app;
        async move {
            app.send_json(Method::PATCH, &path, Some(&admin), &body)
                .await
        }
    };
    for (target, message) in [("a", "itself"), ("b", "descendants"), ("c", "descendants")] {
        let target = app.read(&format!("/api/categories/{target}"), None).await;
        let resp = patch("a", json!({"parentId": target["id"]})).await;
        let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        let said = error["error"]["details"]["fields"]["parentId"][0]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(said.contains(message), "{said}");
    }
    // Renaming the slug changes the descendants' paths.
    let renamed = json_of(
        patch("b", json!({"slug": "bee", "name": "Bee"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["path"], "a/bee");
    assert_eq!(renamed["name"], "Bee");
    assert_eq!(app.read("/api/categories/c", None).await["path"], "a/bee/c");
    // Moving C to the root, then A under C, is fine.
    let c = json_of(patch("c", json!({"parentId": null})).await, StatusCode::OK).await;
    assert_eq!(
        (c["path"].as_str(), c["parentId"].is_null()),
        (Some("c"), true)
    );
    let a = json_of(
        patch("a", json!({"parentId": c["id"], "position": 3})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(a["path"], "c/a");
    assert_eq!(a["position"], 3);
    assert_eq!(
        app.read("/api/categories/bee", None).await["path"],
        "c/a/bee"
    );
    let resp = patch("nothing", json!({"name": "X"})).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = patch("bee", json!({"name": ""})).await;
    let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&error), ["name"]);
}

#[tokio::test]
async fn deleting_a_category_with_products_needs_a_reassignment() {
    let app = spawn_app().await;
    let admin = app.admin();
    let shoes = app.category(json!({"name": "Shoes"})).await;
    app.category(json!({"name": "Boots", "parentId": shoes["id"]}))
        .await;
    app.category(json!({"name": "Sale"})).await;
    let mut body = shirt("Boot");
    body["categories"] = json!(["boots", "sale"]);
    let (product, tag) = app.product(body).await;
    let id = product["id"].as_str().unwrap();

    let resp = app.delete_as("/api/categories/shoes", &admin).await;
    assert_error(resp, StatusCode::CONFLICT, "CATEGORY_HAS_CHILDREN").await;
    let resp = app.delete_as("/api/categories/boots", &admin).await;
    let error = assert_error(resp, StatusCode::CONFLICT, "CATEGORY_IN_USE").await;
    assert_eq!(error["error"]["details"]["products"], 1);
    for target in ["nowhere", "boots", ""] {
        let resp = app
            .delete_as(
                &format!("/api/categories/boots?reassignTo={target}"),
                &admin,
            )
            .await;
        let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&error), ["reassignTo"]);
    }
    let resp = app
        .delete_as("/api/categories/nothing?reassignTo=shoes", &admin)
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;

    // Reassigned: the product is in shoes, where boots was in its list, once.
    let resp = app
        .delete_as("/api/categories/boots?reassignTo=shoes", &admin)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = app.get(&format!("/api/products/{id}")).await;
    assert_ne!(
        etag(&resp),
        tag,
        "a reassignment is a revision of the product"
    );
    let after = json_of(resp, StatusCode::OK).await;
    let named: Vec<&str> = after["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(named, ["shoes", "sale"]);
    assert_eq!(after["categories"][0]["name"], "Shoes");
    // Reassigning to a category the product is already in keeps one link.
    let resp = app
        .delete_as("/api/categories/sale?reassignTo=shoes", &admin)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let after = app.read(&format!("/api/products/{id}"), None).await;
    assert_eq!(
        after["categories"],
        json!([{"id": shoes["id"], "slug": "shoes", "name": "Shoes"}])
    );
    let resp = app.get("/api/categories/boots").await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    // An empty category goes without a reassignment.
    app.category(json!({"name": "Empty"})).await;
    let resp = app.delete_as("/api/categories/empty", &admin).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(slugs(&app.read("/api/categories", None).await), ["shoes"]);
}
