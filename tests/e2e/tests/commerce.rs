//! The shop through the real gateway: an admin builds the catalog, the public
//! reads it, a customer may not write, and stock adjustments show in inventory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use e2e::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The JSON of a successful answer (a failure shows the body).
async fn ok(method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
    let resp = call(method.clone(), path, token, body).await;
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A unique suffix: the stack's database outlives runs.
fn unique() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

#[tokio::test]
async fn the_gateway_reports_the_commerce_upstream() {
    let body = ok(Method::GET, "/health", None, None).await;
    assert_eq!(body["upstreams"]["commerce"]["status"], "ok", "{body}");
    assert_eq!(
        body["upstreams"]["commerce"]["checks"]["database"], "ok",
        "{body}"
    );
}

/// One test of the admin's: `bootstrap_admin` signs it up and verifies it the
/// first time, which two tests of one binary would race.
#[tokio::test]
async fn an_admin_stocks_a_product_that_the_public_reads_and_a_customer_cannot_change() {
    let admin = bootstrap_admin().await;
    let admin = admin["accessToken"].as_str().unwrap().to_owned();
    let id = unique();

    // The category, at the collection path (`location = /api/categories`).
    let category_slug = format!("e2e-shoes-{id}");
    let category = ok(
        Method::POST,
        "/api/categories",
        Some(&admin),
        Some(json!({"slug": category_slug, "name": "E2E Shoes"})),
    )
    .await;
    assert_eq!(category["path"], category_slug.as_str());
    let tree = ok(Method::GET, "/api/categories", None, None).await;
    assert!(
        tree["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["slug"] == category_slug.as_str()),
        "{tree}"
    );
    let one = ok(
        Method::GET,
        &format!("/api/categories/{category_slug}"),
        None,
        None,
    )
    .await;
    assert_eq!(one["id"], category["id"]);

    // An active product with one variant, at `location = /api/products`.
    let sku = format!("E2E-RUN-{id}");
    let resp = call(
        Method::POST,
        "/api/products",
        Some(&admin),
        Some(json!({
            "title": format!("E2E Runner {id}"),
            "status": "active",
            "categories": [category_slug],
            "attributes": {"brand": "Acme", "waterproof": true},
            "options": [{"name": "Size", "values": ["42"]}],
            "variants": [{"sku": sku, "optionValues": {"Size": "42"}, "priceMinor": 8999}]
        })),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created_tag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let product: Value = resp.json().await.unwrap();
    let slug = product["slug"].as_str().unwrap().to_owned();
    assert_eq!(slug, format!("e2e-runner-{id}"), "made from the title");
    let product_id = product["id"].as_str().unwrap().to_owned();

    // The public reads it by slug, with its ETag and the shop's currency.
    let resp = call(Method::GET, &format!("/api/products/{slug}"), None, None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["etag"].to_str().unwrap(), created_tag);
    let read: Value = resp.json().await.unwrap();
    assert_eq!(read["id"], product_id.as_str());
    assert_eq!(read["categories"][0]["slug"], category_slug.as_str());
    assert_eq!(read["variants"][0]["sku"], sku.as_str());
    assert_eq!(read["variants"][0]["priceMinor"], 8999);
    assert_eq!(read["variants"][0]["currency"], "EUR");
    assert_eq!(read["variants"][0]["available"], 0);

    // A customer may read but not write: 403 in the envelope, nothing changed.
    let (_, customer) = signup("Shop Customer").await;
    let customer = customer["accessToken"].as_str().unwrap().to_owned();
    let resp = call(
        Method::PATCH,
        &format!("/api/products/{product_id}"),
        Some(&customer),
        Some(json!({"title": "Hijacked"})),
    )
    .await;
    envelope(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let resp = call(
        Method::POST,
        &format!("/api/inventory/{sku}/adjustments"),
        Some(&customer),
        Some(json!({"delta": 5, "reason": "not mine to give"})),
    )
    .await;
    envelope(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let resp = call(
        Method::POST,
        "/api/categories",
        None,
        Some(json!({"name": "x"})),
    )
    .await;
    envelope(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;

    // A stale If-Match is 412 through the gateway too.
    let resp = http()
        .patch(format!("{}/api/products/{product_id}", gateway()))
        .bearer_auth(&admin)
        .header("if-match", "\"999999\"")
        .json(&json!({"title": "Too late"}))
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::PRECONDITION_FAILED, "PRECONDITION_FAILED").await;

    // An adjustment shows in inventory (the SKU whatever its case), in the
    // ledger, and in the product's `available`.
    let adjusted = ok(
        Method::POST,
        &format!("/api/inventory/{sku}/adjustments"),
        Some(&admin),
        Some(json!({"delta": 12, "reason": "first delivery"})),
    )
    .await;
    assert_eq!(adjusted["inventory"]["onHand"], 12);
    assert_eq!(adjusted["entry"]["delta"], 12);
    let stock = ok(
        Method::GET,
        &format!("/api/inventory/{}", sku.to_lowercase()),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (
            stock["sku"].as_str(),
            stock["onHand"].as_i64(),
            stock["reserved"].as_i64(),
            stock["available"].as_i64()
        ),
        (Some(sku.as_str()), Some(12), Some(0), Some(12))
    );
    let ledger = ok(
        Method::GET,
        &format!("/api/inventory/{sku}/ledger"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(ledger["items"][0]["reason"], "first delivery");
    assert_eq!(ledger["items"][0]["onHandAfter"], 12);
    let read = ok(Method::GET, &format!("/api/products/{slug}"), None, None).await;
    assert_eq!(read["variants"][0]["available"], 12);
    let resp = call(
        Method::GET,
        &format!("/api/inventory/{sku}"),
        Some(&customer),
        None,
    )
    .await;
    envelope(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;

    // The customer's cart becomes an order (`location = /api/cart`,
    // `/api/orders`), placed once for one Idempotency-Key, paid and fulfilled
    // by the admin (`/api/admin/orders/`): the stock follows.
    let variant = read["variants"][0]["id"].as_str().unwrap().to_owned();
    let cart = ok(
        Method::PUT,
        &format!("/api/cart/items/{variant}"),
        Some(&customer),
        Some(json!({"quantity": 2})),
    )
    .await;
    assert_eq!(cart["totalMinor"], 2 * 8999);
    let place = || {
        http()
            .post(format!("{}/api/orders", gateway()))
            .bearer_auth(&customer)
            .header("idempotency-key", format!("e2e-{id}"))
            .send()
    };
    let resp = place().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let order: Value = resp.json().await.unwrap();
    assert_eq!(order["status"], "placed");
    let again = place().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let order_id = order["id"].as_str().unwrap();
    let stock = ok(
        Method::GET,
        &format!("/api/inventory/{sku}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (stock["reserved"].as_i64(), stock["available"].as_i64()),
        (Some(2), Some(10))
    );
    let mine = ok(Method::GET, "/api/orders", Some(&customer), None).await;
    assert_eq!(mine["items"][0]["id"], order_id);
    ok(
        Method::POST,
        &format!("/api/admin/orders/{order_id}/paid"),
        Some(&admin),
        None,
    )
    .await;
    let done = ok(
        Method::POST,
        &format!("/api/admin/orders/{order_id}/fulfil"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(done["status"], "fulfilled");
    let stock = ok(
        Method::GET,
        &format!("/api/inventory/{sku}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (stock["onHand"].as_i64(), stock["reserved"].as_i64()),
        (Some(10), Some(0))
    );
    let resp = call(Method::GET, "/api/admin/orders", Some(&customer), None).await;
    envelope(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;

    // A draft is the admins' only: 404 to the public.
    let draft = ok(
        Method::POST,
        "/api/products",
        Some(&admin),
        Some(json!({"title": format!("E2E Draft {id}")})),
    )
    .await;
    assert_eq!(draft["status"], "draft");
    let draft = draft["slug"].as_str().unwrap();
    let resp = call(Method::GET, &format!("/api/products/{draft}"), None, None).await;
    envelope(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    ok(
        Method::GET,
        &format!("/api/products/{draft}"),
        Some(&admin),
        None,
    )
    .await;
}
