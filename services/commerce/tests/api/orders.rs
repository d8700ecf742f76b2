//! Orders: placement with a required Idempotency-Key, reservations that never
//! oversell, snapshot lines, statuses and their transitions, expiry, and who
//! may see and move which order.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::cart::{put_item, stock, stock_of, stocked_shirt};
use crate::helpers::*;

/// A token for `subject` with `role`.
fn token_of(app: &TestApp, subject: &str, role: &str) -> String {
    let mut claims = testkit::TestIssuer::claims(ISSUER, "reelstack", subject);
    claims["role"] = json!(role);
    claims["sid"] = json!(uuid::Uuid::now_v7().to_string());
    app.issuer.mint(&claims)
}

async fn place_with(
    app: &TestApp,
    token: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut req = app.request(Method::POST, "/api/orders", Some(token));
    if let Some(key) = key {
        req = req.header("idempotency-key", key);
    }
    if let Some(body) = body {
        req = req.json(body);
    }
    req.send().await.unwrap()
}

/// Places `lines` with a fresh key; the answer.
async fn place(app: &TestApp, token: &str, lines: Value) -> reqwest::Response {
    let key = uuid::Uuid::now_v7().to_string();
    place_with(app, token, Some(&key), Some(&json!({ "lines": lines }))).await
}

fn line(variant: &Value, quantity: i64) -> Value {
    json!({"variantId": variant["id"], "quantity": quantity})
}

async fn admin_post(app: &TestApp, path: &str) -> reqwest::Response {
    app.send(Method::POST, path, Some(&app.admin()), None).await
}

/// The sum of the open orders' lines of `variant`, straight from the tables.
fn open_lines(app: &TestApp, variant: &str) -> i64 {
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Sum {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = diesel::PgConnection::establish(&app.db.url).unwrap();
    diesel::sql_query(format!(
        "SELECT COALESCE(SUM(l.quantity), 0)::BIGINT AS n FROM order_lines l JOIN orders o ON o.id = l.order_id \
         WHERE o.status IN ('placed', 'paid') AND l.variant_id = '{variant}'"
    ))
    .get_result::<Sum>(&mut conn)
    .unwrap()
    .n
}

#[tokio::test]
async fn the_cart_becomes_an_order_with_its_stock_reserved() {
    let app = spawn_app().await;
    let me = app.customer();
    let product = stocked_shirt(&app, "Tee", 5).await;
    let (small, blue) = (&product["variants"][0], &product["variants"][2]);
    put_item(&app, &me, &small["id"], json!({"quantity": 2})).await;
    put_item(&app, &me, &blue["id"], json!({"quantity": 1})).await;

    let resp = place_with(&app, &me, Some("cart-1"), None).await;
    let order = json_of(resp, StatusCode::CREATED).await;
    assert_eq!(order["status"], "placed");
    assert_eq!(order["totalMinor"], 2 * 1999 + 2199);
    assert_eq!(order["currency"], "EUR");
    assert_eq!(
        order["lines"],
        json!([
            {"variantId": small["id"], "productId": product["id"], "sku": "Tee-S-RED", "title": "Tee (S / Red)",
             "quantity": 2, "unitPriceMinor": 1999, "lineTotalMinor": 3998},
            {"variantId": blue["id"], "productId": product["id"], "sku": "Tee-M-BLUE", "title": "Tee (Medium blue)",
             "quantity": 1, "unitPriceMinor": 2199, "lineTotalMinor": 2199}
        ])
    );
    assert_eq!(stock_of(&app, "Tee-S-RED").await, (5, 2, 3));
    assert_eq!(stock_of(&app, "Tee-M-BLUE").await, (5, 1, 4));
    assert_eq!(
        app.read("/api/cart", Some(&me)).await["items"],
        json!([]),
        "the cart is emptied"
    );

    // The lines are snapshots: a new price changes the product, not the order.
    let path = format!(
        "/api/products/{}/variants/{}",
        product["id"].as_str().unwrap(),
        small["id"].as_str().unwrap()
    );
    let resp = app
        .send(
            Method::PATCH,
            &path,
            Some(&app.admin()),
            Some(&json!({"priceMinor": 1})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let id = order["id"].as_str().unwrap();
    let again = app.read(&format!("/api/orders/{id}"), Some(&me)).await;
    assert_eq!(again["lines"][0]["unitPriceMinor"], 1999);
    assert_eq!(again, order, "the order reads as it was answered");

    // An empty cart is nothing to order.
    let resp = place_with(&app, &me, Some("cart-2"), Some(&json!({}))).await;
    let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&error), vec!["lines".to_owned()]);
}

#[tokio::test]
async fn explicit_lines_of_one_variant_are_summed_before_reserving() {
    let app = spawn_app().await;
    let me = app.customer();
    let product = stocked_shirt(&app, "Sum", 4).await;
    let v = &product["variants"][1];
    put_item(
        &app,
        &me,
        &product["variants"][0]["id"],
        json!({"quantity": 1}),
    )
    .await;
    let resp = place(&app, &me, json!([line(v, 2), line(v, 3)])).await;
    let body = assert_error(resp, StatusCode::CONFLICT, "INSUFFICIENT_STOCK").await;
    assert_eq!(
        (
            &body["error"]["details"]["requested"],
            &body["error"]["details"]["available"]
        ),
        (&json!(5), &json!(4))
    );
    assert_eq!(
        stock_of(&app, "Sum-M-RED").await,
        (4, 0, 4),
        "nothing reserved"
    );
    let order = json_of(
        place(&app, &me, json!([line(v, 1), line(v, 3)])).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(order["lines"].as_array().unwrap().len(), 1);
    assert_eq!(order["lines"][0]["quantity"], 4);
    assert_eq!(stock_of(&app, "Sum-M-RED").await, (4, 4, 0));
    assert_eq!(
        app.read("/api/cart", Some(&me)).await["items"][0]["quantity"],
        1,
        "an order of explicit lines leaves the cart as it was"
    );
}

#[tokio::test]
async fn an_idempotency_key_is_required_and_replays_the_first_answer() {
    let app = spawn_app().await;
    let subject = uuid::Uuid::now_v7().to_string();
    let me = token_of(&app, &subject, "user");
    let product = stocked_shirt(&app, "Once", 10).await;
    let body = json!({"lines": [line(&product["variants"][0], 2)]});

    let resp = place_with(&app, &me, None, Some(&body)).await;
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let resp = place_with(&app, &me, Some(""), Some(&body)).await;
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(stock_of(&app, "Once-S-RED").await, (10, 0, 10));

    let first = place_with(&app, &me, Some("k-1"), Some(&body)).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = first.json::<Value>().await.unwrap();
    let replay = place_with(&app, &me, Some("k-1"), Some(&body)).await;
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().await.unwrap(), first);
    assert_eq!(
        stock_of(&app, "Once-S-RED").await,
        (10, 2, 8),
        "reserved once"
    );

    let other = json!({"lines": [line(&product["variants"][0], 3)]});
    let resp = place_with(&app, &me, Some("k-1"), Some(&other)).await;
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    // Keys are per customer: another one's k-1 is a new order.
    let resp = place_with(&app, &app.customer(), Some("k-1"), Some(&body)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);

    // A duplicate while the first is still running is 409.
    // (The first's row, copied as still running under another key.)
    let copied = app
        .sql(&format!(
            "INSERT INTO idempotency_keys (owner, key, fingerprint, state) \
             SELECT owner, 'k-running', fingerprint, 'running' FROM idempotency_keys \
             WHERE key = 'k-1' AND owner LIKE '%:{subject}'"
        ))
        .unwrap();
    assert_eq!(copied, 1);
    let resp = place_with(&app, &me, Some("k-running"), Some(&body)).await;
    assert_error(resp, StatusCode::CONFLICT, "CONFLICT").await;
    assert_eq!(
        stock_of(&app, "Once-S-RED").await,
        (10, 4, 6),
        "the first and the other customer's"
    );
}

/// How many of the test database's sessions wait for a lock.
fn lock_waiters(app: &TestApp) -> i64 {
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = diesel::PgConnection::establish(&app.db.url).unwrap();
    diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .get_result::<Count>(&mut conn)
    .unwrap()
    .n
}

async fn until_lock_waiters(app: &TestApp, n: i64) {
    for _ in 0..200 {
        if lock_waiters(app) >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{n} requests never waited for the variant's lock");
}

#[tokio::test]
async fn an_order_that_outlasts_its_keys_lease_keeps_nothing_when_a_retry_took_the_key() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let app = spawn_app().await;
    let subject = uuid::Uuid::now_v7().to_string();
    let me = token_of(&app, &subject, "user");
    let product = stocked_shirt(&app, "Lease", 10).await;
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
    let body = json!({"lines": [line(&product["variants"][0], 1)]});

    // The variant locked elsewhere: the first request takes its key, then waits.
    let mut holder = diesel::PgConnection::establish(&app.db.url).unwrap();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM variants WHERE id = '{variant}' FOR UPDATE"
        ))
        .unwrap();
    // The same request, as a client sends it and then retries it.
    let send = || {
        let (client, me, body) = (app.api.clone(), me.clone(), body.clone());
        tokio::spawn(async move {
            client
                .request(Method::POST, "/api/orders", Some(&me))
                .header("idempotency-key", "slow")
                .json(&body)
                .send()
                .await
                .unwrap()
        })
    };
    let first = send();
    until_lock_waiters(&app, 1).await;
    // Its lease runs out; the client's retry takes the key over and waits too.
    let aged = app
        .sql(&format!(
            "UPDATE idempotency_keys SET created_at = now() - interval '10 minutes' \
             WHERE key = 'slow' AND owner LIKE '%:{subject}' AND state = 'running'"
        ))
        .unwrap();
    assert_eq!(aged, 1);
    let retry = send();
    until_lock_waiters(&app, 2).await;
    let restamped = app
        .sql(&format!(
            "SELECT 1 FROM idempotency_keys WHERE key = 'slow' AND owner LIKE '%:{subject}' \
             AND state = 'running' AND created_at > now() - interval '1 minute'"
        ))
        .unwrap();
    assert_eq!(restamped, 1, "the retry stamps the key it took over anew");
    holder.batch_execute("COMMIT").unwrap();

    let first = first.await.unwrap();
    assert_error(first, StatusCode::CONFLICT, "CONFLICT").await;
    let retry = json_of(retry.await.unwrap(), StatusCode::CREATED).await;
    assert_eq!(
        stock_of(&app, "Lease-S-RED").await,
        (10, 1, 9),
        "one order reserved, the first's rolled back"
    );
    let mine = app.read("/api/orders", Some(&me)).await;
    assert_eq!(mine["meta"]["total"], 1);
    assert_eq!(mine["items"][0]["id"], retry["id"]);
    let replay = place_with(&app, &me, Some("slow"), Some(&body)).await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().await.unwrap(), retry);
}

#[tokio::test]
async fn placing_outside_a_transaction_is_refused_and_reserves_nothing() {
    use diesel::Connection;
    let app = spawn_app().await;
    let product = stocked_shirt(&app, "Outside", 3).await;
    let variant: uuid::Uuid = product["variants"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut conn = diesel::PgConnection::establish(&app.db.url).unwrap();
    let owner = commerce::db::orders::Owner {
        issuer: ISSUER.to_owned(),
        subject: "outside".to_owned(),
    };
    let wanted = commerce::db::orders::Wanted::summed([(variant, 1)]).unwrap();
    let placed = commerce::db::orders::place(
        &mut conn,
        &owner,
        &wanted,
        "EUR",
        chrono::Duration::minutes(30),
        false,
    );
    assert!(placed.is_err(), "its locks would not outlast the statement");
    assert_eq!(stock_of(&app, "Outside-S-RED").await, (3, 0, 3));
}

#[tokio::test]
async fn bad_orders_are_refused_and_reserve_nothing() {
    let app = spawn_app().await;
    let me = app.customer();
    let product = stocked_shirt(&app, "Bad", 5).await;
    let v = &product["variants"][0];
    let too_many: Vec<Value> = (0..101).map(|_| line(v, 1)).collect();
    for (lines, field) in [
        (json!([]), "lines"),
        (json!(too_many), "lines"),
        (json!([{"quantity": 1}]), "lines[0].variantId"),
        (
            json!([line(v, 1), {"variantId": v["id"]}]),
            "lines[1].quantity",
        ),
        (json!([line(v, 0)]), "lines[0].quantity"),
        (json!([line(v, 1001)]), "lines[0].quantity"),
        (
            json!([{"variantId": uuid::Uuid::now_v7(), "quantity": 1}]),
            "lines[0].variantId",
        ),
    ] {
        let resp = place(&app, &me, lines.clone()).await;
        let error = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&error), vec![field.to_owned()], "{lines}");
    }
    for lines in [
        json!([{"variantId": "nope", "quantity": 1}]),
        json!([{"variantId": v["id"], "quantity": "1"}]),
        json!("all"),
    ] {
        let resp = place(&app, &me, lines.clone()).await;
        assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    }
    let resp = app
        .request(Method::POST, "/api/orders", Some(&me))
        .header("idempotency-key", "malformed")
        .header("content-type", "application/json")
        .body("{\"lines\": [")
        .send()
        .await
        .unwrap();
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    for token in [None, Some(app.forged())] {
        let resp = app
            .request(Method::POST, "/api/orders", token.as_deref())
            .header("idempotency-key", "anon")
            .json(&json!({"lines": [line(v, 1)]}))
            .send()
            .await
            .unwrap();
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
    // A product not for sale has nothing available.
    let (draft, _) = app
        .product(json!({"title": "Hidden", "status": "draft",
        "variants": [{"sku": "HID-1", "priceMinor": 100}]}))
        .await;
    stock(&app, "HID-1", 5).await;
    let resp = place(&app, &me, json!([line(&draft["variants"][0], 1)])).await;
    let body = assert_error(resp, StatusCode::CONFLICT, "INSUFFICIENT_STOCK").await;
    assert_eq!(body["error"]["details"]["available"], 0);
    assert_eq!(stock_of(&app, "Bad-S-RED").await, (5, 0, 5));
    assert_eq!(stock_of(&app, "HID-1").await, (5, 0, 5));
    assert_eq!(app.read("/api/orders", Some(&me)).await["meta"]["total"], 0);
}

#[tokio::test]
async fn orders_move_from_placed_to_paid_to_fulfilled_and_no_other_way() {
    let app = spawn_app().await;
    let me = app.customer();
    let product = stocked_shirt(&app, "Flow", 5).await;
    let v = &product["variants"][0];
    let order = json_of(
        place(&app, &me, json!([line(v, 2)])).await,
        StatusCode::CREATED,
    )
    .await;
    let id = order["id"].as_str().unwrap();

    let resp = admin_post(&app, &format!("/api/admin/orders/{id}/fulfil")).await;
    let body = assert_error(resp, StatusCode::CONFLICT, "INVALID_TRANSITION").await;
    assert_eq!(body["error"]["details"]["status"], "placed");
    // Customers record no payments; a payment integration's service token does.
    let resp = app
        .send(
            Method::POST,
            &format!("/api/admin/orders/{id}/paid"),
            Some(&me),
            None,
        )
        .await;
    assert_error(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let service = token_of(&app, "payments", "service");
    let paid = json_of(
        app.send(
            Method::POST,
            &format!("/api/admin/orders/{id}/paid"),
            Some(&service),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(paid["status"], "paid");
    assert!(paid["paidAt"].is_string());
    let resp = admin_post(&app, &format!("/api/admin/orders/{id}/paid")).await;
    assert_error(resp, StatusCode::CONFLICT, "INVALID_TRANSITION").await;
    let resp = app
        .send(
            Method::POST,
            &format!("/api/admin/orders/{id}/fulfil"),
            Some(&me),
            None,
        )
        .await;
    assert_error(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;

    let done = json_of(
        admin_post(&app, &format!("/api/admin/orders/{id}/fulfil")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["status"], "fulfilled");
    assert_eq!(
        stock_of(&app, "Flow-S-RED").await,
        (3, 0, 3),
        "taken off on hand and reserved"
    );
    let ledger = app
        .read("/api/inventory/Flow-S-RED/ledger", Some(&app.admin()))
        .await;
    assert_eq!(ledger["items"][0]["delta"], -2);
    assert_eq!(
        ledger["items"][0]["reason"],
        format!("order {id} fulfilled")
    );
    let resp = app
        .send(
            Method::POST,
            &format!("/api/orders/{id}/cancel"),
            Some(&me),
            None,
        )
        .await;
    assert_error(resp, StatusCode::CONFLICT, "INVALID_TRANSITION").await;

    // Cancelling releases the stock, once.
    let order = json_of(
        place(&app, &me, json!([line(v, 3)])).await,
        StatusCode::CREATED,
    )
    .await;
    let id = order["id"].as_str().unwrap();
    assert_eq!(stock_of(&app, "Flow-S-RED").await, (3, 3, 0));
    let cancelled = json_of(
        app.send(
            Method::POST,
            &format!("/api/orders/{id}/cancel"),
            Some(&me),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["closedAt"].is_string());
    assert_eq!(stock_of(&app, "Flow-S-RED").await, (3, 0, 3));
    let resp = app
        .send(
            Method::POST,
            &format!("/api/orders/{id}/cancel"),
            Some(&me),
            None,
        )
        .await;
    assert_error(resp, StatusCode::CONFLICT, "INVALID_TRANSITION").await;
    let resp = admin_post(&app, &format!("/api/admin/orders/{id}/paid")).await;
    assert_error(resp, StatusCode::CONFLICT, "INVALID_TRANSITION").await;
    assert_eq!(stock_of(&app, "Flow-S-RED").await, (3, 0, 3));
}

#[tokio::test]
async fn customers_see_only_their_orders_and_admins_see_all() {
    let app = spawn_app().await;
    let (alice, bob) = (app.customer(), app.customer());
    let product = stocked_shirt(&app, "Mine", 10).await;
    let v = &product["variants"][0];
    let a1 = json_of(
        place(&app, &alice, json!([line(v, 1)])).await,
        StatusCode::CREATED,
    )
    .await;
    let a2 = json_of(
        place(&app, &alice, json!([line(v, 2)])).await,
        StatusCode::CREATED,
    )
    .await;
    let b1 = json_of(
        place(&app, &bob, json!([line(v, 1)])).await,
        StatusCode::CREATED,
    )
    .await;

    let mine = app.read("/api/orders?limit=1", Some(&alice)).await;
    assert_eq!(
        mine["meta"],
        json!({"page": 1, "limit": 1, "total": 2, "totalPages": 2})
    );
    assert_eq!(mine["items"][0]["id"], a2["id"], "newest first");
    let page2 = app.read("/api/orders?limit=1&page=2", Some(&alice)).await;
    assert_eq!(page2["items"][0]["id"], a1["id"]);

    let theirs = b1["id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, format!("/api/orders/{theirs}")),
        (Method::POST, format!("/api/orders/{theirs}/cancel")),
        (Method::GET, format!("/api/orders/{}", uuid::Uuid::now_v7())),
        (Method::GET, "/api/orders/not-an-id".to_owned()),
    ] {
        let resp = app.send(method, &path, Some(&alice), None).await;
        assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    assert_eq!(
        app.read(&format!("/api/orders/{theirs}"), Some(&bob)).await["status"],
        "placed"
    );

    let resp = app
        .send(Method::GET, "/api/admin/orders", Some(&alice), None)
        .await;
    assert_error(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let resp = app.send(Method::GET, "/api/admin/orders", None, None).await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let admin = app.admin();
    let all = app.read("/api/admin/orders", Some(&admin)).await;
    assert_eq!(all["meta"]["total"], 3);
    admin_post(&app, &format!("/api/admin/orders/{theirs}/paid")).await;
    let paid = app
        .read("/api/admin/orders?status=paid", Some(&admin))
        .await;
    assert_eq!(paid["items"].as_array().unwrap().len(), 1);
    assert_eq!(paid["items"][0]["id"], b1["id"]);
    for bad in ["status=shipped", "page=0", "limit=101"] {
        let resp = app
            .send(
                Method::GET,
                &format!("/api/admin/orders?{bad}"),
                Some(&admin),
                None,
            )
            .await;
        assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    }
}

#[tokio::test]
async fn unpaid_orders_expire_and_release_their_stock() {
    let app = spawn_app_with(&[
        ("ORDER_PAYMENT_TIMEOUT_SECS", "1"),
        ("ORDER_SWEEP_SECS", "1"),
    ])
    .await;
    let me = app.customer();
    let product = stocked_shirt(&app, "Late", 5).await;
    let v = &product["variants"][0];
    let unpaid = json_of(
        place(&app, &me, json!([line(v, 2)])).await,
        StatusCode::CREATED,
    )
    .await;
    let paid = json_of(
        place(&app, &me, json!([line(v, 1)])).await,
        StatusCode::CREATED,
    )
    .await;
    admin_post(
        &app,
        &format!("/api/admin/orders/{}/paid", paid["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(stock_of(&app, "Late-S-RED").await, (5, 3, 2));

    let path = format!("/api/orders/{}", unpaid["id"].as_str().unwrap());
    let mut status = Value::Null;
    for _ in 0..100 {
        status = app.read(&path, Some(&me)).await["status"].clone();
        if status == "expired" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, "expired");
    assert_eq!(
        stock_of(&app, "Late-S-RED").await,
        (5, 1, 4),
        "only the paid order holds stock"
    );
    let resp = admin_post(
        &app,
        &format!("{}/paid", path.replace("/api/orders", "/api/admin/orders")),
    )
    .await;
    assert_error(resp, StatusCode::CONFLICT, "INVALID_TRANSITION").await;
    let paid_now = app
        .read(
            &format!("/api/orders/{}", paid["id"].as_str().unwrap()),
            Some(&me),
        )
        .await;
    assert_eq!(paid_now["status"], "paid", "a paid order never expires");
}

#[tokio::test]
async fn two_hundred_orders_for_the_last_ten_units_place_exactly_ten() {
    let app = spawn_app().await;
    let product = stocked_shirt(&app, "Last", 10).await;
    let v = product["variants"][0].clone();
    let customers: Vec<String> = (0..200).map(|_| app.customer()).collect();
    let answers = futures_util::future::join_all(
        customers
            .iter()
            .map(|c| place(&app, c, json!([line(&v, 1)]))),
    )
    .await;
    let mut placed = 0;
    for resp in answers {
        match resp.status() {
            StatusCode::CREATED => placed += 1,
            _ => {
                let body = assert_error(resp, StatusCode::CONFLICT, "INSUFFICIENT_STOCK").await;
                assert_eq!(body["error"]["details"]["available"], 0);
            }
        }
    }
    assert_eq!(placed, 10);
    assert_eq!(stock_of(&app, "Last-S-RED").await, (10, 10, 0));
    assert_eq!(
        open_lines(&app, v["id"].as_str().unwrap()),
        10,
        "reserved is the open lines"
    );
}

#[tokio::test]
async fn orders_over_the_same_variants_in_opposite_orders_never_deadlock() {
    let app = spawn_app().await;
    let product = stocked_shirt(&app, "Pair", 1000).await;
    let (a, b) = (
        product["variants"][0].clone(),
        product["variants"][1].clone(),
    );
    let customers: Vec<String> = (0..60).map(|_| app.customer()).collect();
    let answers = futures_util::future::join_all(customers.iter().enumerate().map(|(n, c)| {
        let lines = if n % 2 == 0 {
            json!([line(&a, 1), line(&b, 2)])
        } else {
            json!([line(&b, 2), line(&a, 1)])
        };
        place(&app, c, lines)
    }))
    .await;
    let mut ids = Vec::new();
    for resp in answers {
        ids.push(
            json_of(resp, StatusCode::CREATED).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Cancellations racing new orders, over the same rows.
    let mine = app.customer();
    let paths: Vec<String> = ids
        .iter()
        .map(|id| format!("/api/orders/{id}/cancel"))
        .collect();
    let cancels = customers
        .iter()
        .zip(&paths)
        .take(30)
        .map(|(c, path)| app.send(Method::POST, path, Some(c), None));
    let more = (0..30).map(|n| {
        let lines = if n % 2 == 0 {
            json!([line(&b, 1), line(&a, 1)])
        } else {
            json!([line(&a, 1), line(&b, 1)])
        };
        place(&app, &mine, lines)
    });
    let (cancelled, placed) = tokio::join!(
        futures_util::future::join_all(cancels),
        futures_util::future::join_all(more)
    );
    assert!(cancelled.iter().all(|r| r.status() == StatusCode::OK));
    assert!(placed.iter().all(|r| r.status() == StatusCode::CREATED));
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    assert_eq!(stock_of(&app, "Pair-S-RED").await.1, 60 - 30 + 30);
    assert_eq!(stock_of(&app, "Pair-M-RED").await.1, 120 - 60 + 30);
    assert_eq!(open_lines(&app, a_id), 60);
    assert_eq!(open_lines(&app, b_id), 90);
}

#[tokio::test]
async fn an_ordered_product_is_archived_not_deleted() {
    let app = spawn_app().await;
    let admin = app.admin();
    let product = stocked_shirt(&app, "Kept", 5).await;
    let v = &product["variants"][0];
    json_of(
        place(&app, &app.customer(), json!([line(v, 1)])).await,
        StatusCode::CREATED,
    )
    .await;
    let id = product["id"].as_str().unwrap();

    let resp = app
        .delete_as(
            &format!("/api/products/{id}/variants/{}", v["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_error(resp, StatusCode::CONFLICT, "VARIANT_ORDERED").await;
    let resp = app.delete_as(&format!("/api/products/{id}"), &admin).await;
    let archived = json_of(resp, StatusCode::OK).await;
    assert_eq!(archived["status"], "archived");
    let resp = app.get(&format!("/api/products/{id}")).await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_eq!(
        app.read(&format!("/api/products/{id}"), Some(&admin)).await["status"],
        "archived"
    );

    // A product nobody ordered is deleted.
    let (unordered, _) = app.product(shirt("Gone")).await;
    let resp = app
        .delete_as(
            &format!("/api/products/{}", unordered["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
}
