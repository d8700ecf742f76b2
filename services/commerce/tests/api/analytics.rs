//! analytics: API tests. The app rolls up every second; reports are polled
//! (at most 15 s) until the rollup shows what was sent.

use std::time::{Duration, Instant};

use chrono::{DurationRound, Utc};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const EVENTS: &str = "/api/analytics/events";

async fn spawn() -> TestApp {
    spawn_app_with(&[("ANALYTICS_ROLLUP_SECS", "1")]).await
}

/// A new product: its id and its first variant's id.
async fn product(app: &TestApp, title: &str) -> (String, String) {
    let (p, _) = app.product(shirt(title)).await;
    (
        p["id"].as_str().unwrap().to_owned(),
        p["variants"][0]["id"].as_str().unwrap().to_owned(),
    )
}

async fn send_events(app: &TestApp, body: Value) -> Value {
    json_of(app.post(EVENTS, None, &body).await, StatusCode::ACCEPTED).await
}

fn view(product: &str, session: &str) -> Value {
    json!({"type": "product_view", "productId": product, "sessionId": session})
}

fn cart(product: &str, session: &str) -> Value {
    json!({"type": "add_to_cart", "productId": product, "sessionId": session})
}

/// An order (raw SQL: the order routes are built elsewhere) of `quantity` of
/// the variant at `price`, in `status`.
fn order(
    app: &TestApp,
    product: &str,
    variant: &str,
    quantity: i64,
    price: i64,
    status: &str,
) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    app.sql(&format!(
        "INSERT INTO orders (id, owner_issuer, owner_subject, status, currency, total_minor, expires_at) \
         VALUES ('{id}', 'test', 'buyer', '{status}', 'EUR', {}, now() + interval '30 minutes')",
        quantity * price
    ))
    .unwrap();
    app.sql(&format!(
        "INSERT INTO order_lines (order_id, position, variant_id, product_id, sku, title, quantity, unit_price_minor) \
         VALUES ('{id}', 0, '{variant}', '{product}', 'SKU', 'Line', {quantity}, {price})"
    ))
    .unwrap();
    id
}

/// GETs `path` as an admin until `done` holds (at most 15 s); the last body.
async fn until(app: &TestApp, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let admin = app.admin();
    let started = Instant::now();
    loop {
        let body = app.read(path, Some(&admin)).await;
        if done(&body) {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{path} never got there: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn report(product: &str) -> String {
    format!("/api/analytics/products/{product}")
}

#[tokio::test]
async fn single_and_batch_events_are_accepted_anonymously_and_rolled_up() {
    let app = spawn().await;
    let (p, _) = product(&app, "Tee").await;
    assert_eq!(
        send_events(&app, view(&p, "s-1")).await,
        json!({"accepted": 1})
    );
    let batch = json!({"events": [
        view(&p, "s-2"),
        cart(&p, "s-2"),
        cart(&p, "s-2"),
        {"type": "search", "query": "tee", "sessionId": "s-2"}
    ]});
    assert_eq!(send_events(&app, batch).await, json!({"accepted": 4}));

    let body = until(&app, &report(&p), |b| b["totals"]["addToCart"] == 2).await;
    assert_eq!(body["productId"], p.as_str());
    assert_eq!(body["interval"], "hour");
    assert_eq!(body["currency"], "EUR");
    let totals = &body["totals"];
    assert_eq!(totals["views"], 2);
    assert_eq!(totals["sessions"], 2);
    assert_eq!(totals["orders"], 0);
    assert_eq!(totals["conversion"], 0.0);
    // The last 7 days by default, every hour listed; the last one has it all.
    let items = body["items"].as_array().unwrap();
    assert!((168..=169).contains(&items.len()), "{}", items.len());
    assert_eq!(items.last().unwrap()["views"], 2);
    assert_eq!(
        items
            .iter()
            .map(|i| i["views"].as_i64().unwrap())
            .sum::<i64>(),
        2
    );

    let daily = app
        .read(&format!("{}?interval=day", report(&p)), Some(&app.admin()))
        .await;
    let days = daily["items"].as_array().unwrap();
    assert_eq!(days.len(), 8, "{daily}");
    assert_eq!(days[7]["views"], 2);
    assert_eq!(days[7]["addToCart"], 2);
    assert_eq!(daily["interval"], "day");
}

#[tokio::test]
async fn a_view_counts_once_per_session_and_product_per_30_minutes() {
    let app = spawn().await;
    let (p, _) = product(&app, "Tee").await;
    let (other, _) = product(&app, "Cap").await;
    // Duplicates in one batch and across requests are accepted, not counted;
    // the same session's view of another product is its own.
    let batch = json!({"events": [view(&p, "s-1"), view(&p, "s-1"), view(&other, "s-1")]});
    assert_eq!(send_events(&app, batch).await, json!({"accepted": 3}));
    assert_eq!(
        send_events(&app, view(&p, "s-1")).await,
        json!({"accepted": 1})
    );
    // Sent after the views: once it shows, the views have been rolled up too.
    send_events(&app, cart(&p, "s-1")).await;
    let body = until(&app, &report(&p), |b| b["totals"]["addToCart"] == 1).await;
    assert_eq!(body["totals"]["views"], 1);
    assert_eq!(body["totals"]["sessions"], 1);
    let body = until(&app, &report(&other), |b| b["totals"]["views"] == 1).await;
    assert_eq!(body["totals"]["sessions"], 1);

    // Half an hour later, the same session's view counts again.
    app.sql("UPDATE analytics_view_dedupe SET counted_at = now() - interval '31 minutes'")
        .unwrap();
    send_events(&app, view(&p, "s-1")).await;
    send_events(&app, cart(&p, "s-1")).await;
    let body = until(&app, &report(&p), |b| b["totals"]["addToCart"] == 2).await;
    assert_eq!(body["totals"]["views"], 2);
    // Still one session in this hour.
    assert_eq!(body["totals"]["sessions"], 1);
}

#[tokio::test]
async fn concurrent_duplicate_views_count_once() {
    let app = spawn().await;
    let (p, _) = product(&app, "Tee").await;
    let body = json!({"events": [view(&p, "racer")]});
    let answers: Vec<StatusCode> = futures_util::stream::iter(0..20)
        .map(|_| {
            let app = &app;
            let body = body.clone();
            async move { app.post(EVENTS, None, &body).await.status() }
        })
        .buffer_unordered(20)
        .collect()
        .await;
    assert!(
        answers.iter().all(|s| *s == StatusCode::ACCEPTED),
        "{answers:?}"
    );
    send_events(&app, cart(&p, "racer")).await;
    let body = until(&app, &report(&p), |b| b["totals"]["addToCart"] == 1).await;
    assert_eq!(body["totals"]["views"], 1);
}

#[tokio::test]
async fn events_of_unknown_products_are_dropped() {
    let app = spawn().await;
    let (p, _) = product(&app, "Tee").await;
    let ghost = uuid::Uuid::now_v7().to_string();
    let batch = json!({"events": [view(&ghost, "s-1"), view(&p, "s-1"), cart(&ghost, "s-1")]});
    assert_eq!(send_events(&app, batch).await, json!({"accepted": 1}));
    assert_eq!(
        send_events(&app, view(&ghost, "s-2")).await,
        json!({"accepted": 0})
    );
}

#[tokio::test]
async fn events_are_validated() {
    let app = spawn().await;
    let (p, _) = product(&app, "Tee").await;
    let long_query = "q".repeat(201);
    let cases = [
        (json!({"productId": p, "sessionId": "s"}), "type"),
        (
            json!({"type": "purchase", "productId": p, "sessionId": "s"}),
            "type",
        ),
        (json!({"type": "product_view", "productId": p}), "sessionId"),
        (
            json!({"type": "product_view", "productId": p, "sessionId": ""}),
            "sessionId",
        ),
        (
            json!({"type": "product_view", "productId": p, "sessionId": "s".repeat(101)}),
            "sessionId",
        ),
        (
            json!({"type": "product_view", "productId": p, "sessionId": "a b"}),
            "sessionId",
        ),
        (
            json!({"type": "product_view", "sessionId": "s"}),
            "productId",
        ),
        (
            json!({"type": "add_to_cart", "productId": "not-a-uuid", "sessionId": "s"}),
            "productId",
        ),
        (
            json!({"type": "product_view", "productId": p, "sessionId": "s", "query": "x"}),
            "query",
        ),
        (json!({"type": "search", "sessionId": "s"}), "query"),
        (
            json!({"type": "search", "sessionId": "s", "query": "   "}),
            "query",
        ),
        (
            json!({"type": "search", "sessionId": "s", "query": long_query}),
            "query",
        ),
        (
            json!({"type": "search", "sessionId": "s", "query": "red\u{1}shoes"}),
            "query",
        ),
        (
            json!({"type": "search", "sessionId": "s", "query": "x", "productId": p}),
            "productId",
        ),
        (json!({}), "type"),
        (json!({"events": []}), "events"),
        (
            json!({"events": (0..101).map(|_| view(&p, "s")).collect::<Vec<_>>()}),
            "events",
        ),
        (
            json!({"type": "product_view", "events": [view(&p, "s")]}),
            "events",
        ),
        (
            json!({"events": [view(&p, "s"), {"type": "product_view", "sessionId": "s"}]}),
            "events[1].productId",
        ),
    ];
    for (body, field) in cases {
        let resp = app.post(EVENTS, None, &body).await;
        let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert!(
            error_fields(&err).contains(&field.to_owned()),
            "{body}: {err}"
        );
    }
    // An invalid batch stores nothing.
    let resp = app
        .post(
            EVENTS,
            None,
            &json!({"events": [view(&p, "s"), {"type": "nope", "sessionId": "s"}]}),
        )
        .await;
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(app.sql("SELECT 1 FROM analytics_events").unwrap(), 0);
    send_events(&app, view(&p, "s")).await;
    assert_eq!(app.sql("SELECT 1 FROM analytics_events").unwrap(), 1);
    // Wrong JSON: 400 like every body of the service.
    for (content_type, raw) in [
        ("application/json", b"{not json".to_vec()),
        ("application/json", b"[]".to_vec()),
        (
            "application/json",
            br#"{"type": 5, "sessionId": "s"}"#.to_vec(),
        ),
        (
            "application/json",
            br#"{"events": {"type": "search"}}"#.to_vec(),
        ),
    ] {
        let resp = app.post_raw(EVENTS, None, content_type, raw).await;
        assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    }
}

#[tokio::test]
async fn too_many_requests_from_one_address_are_refused() {
    let app = spawn_app_with(&[("ANALYTICS_EVENTS_PER_IP_PER_MIN", "200")]).await;
    // Invalid bodies still count against the address (and touch no table).
    let statuses: Vec<(StatusCode, Option<String>)> = futures_util::stream::iter(0..300)
        .map(|_| {
            let app = &app;
            async move {
                let resp = app.post(EVENTS, None, &json!({})).await;
                let retry = resp
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                (resp.status(), retry)
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let refused: Vec<_> = statuses
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(refused.len(), 100, "200 of 300 within the minute");
    assert!(refused.iter().all(|(_, retry)| retry
        .as_deref()
        .is_some_and(|r| r.parse::<u64>().is_ok_and(|n| (1..=60).contains(&n)))));
    let resp = app.post(EVENTS, None, &json!({})).await;
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    // Another address has its own budget.
    let resp = app
        .http
        .post(app.url(EVENTS))
        .header("x-real-ip", testkit::unique_ip())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
}

#[tokio::test]
async fn reports_are_for_admins_only() {
    let app = spawn().await;
    let (p, _) = product(&app, "Tee").await;
    for path in [
        report(&p),
        "/api/analytics/top-products".to_owned(),
        "/api/analytics/searches".to_owned(),
    ] {
        let resp = app.send(Method::GET, &path, None, None).await;
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        let resp = app.get_as(&path, &app.customer()).await;
        assert_error(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
        let resp = app.get_as(&path, &app.forged()).await;
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        app.read(&path, Some(&app.admin())).await;
    }
}

#[tokio::test]
async fn report_queries_are_validated() {
    let app = spawn().await;
    let (p, _) = product(&app, "Tee").await;
    let admin = app.admin();
    let r = report(&p);
    let cases = [
        (format!("{r}?from=yesterday"), "from"),
        (format!("{r}?to=2026-13-01T00:00:00Z"), "to"),
        (
            format!("{r}?from=2026-06-02T00:00:00Z&to=2026-06-01T00:00:00Z"),
            "to",
        ),
        (
            format!("{r}?from=2026-06-01T00:00:00Z&to=2026-06-01T00:00:00Z"),
            "to",
        ),
        (format!("{r}?interval=week"), "interval"),
        // Hourly: 31 days at most; daily: 366.
        (
            format!("{r}?from=2026-01-01T00:00:00Z&to=2026-02-02T00:00:00Z"),
            "to",
        ),
        (
            format!("{r}?interval=day&from=2025-01-01T00:00:00Z&to=2026-01-03T00:00:00Z"),
            "to",
        ),
        (
            "/api/analytics/top-products?metric=clicks".to_owned(),
            "metric",
        ),
        ("/api/analytics/top-products?limit=0".to_owned(), "limit"),
        ("/api/analytics/top-products?limit=101".to_owned(), "limit"),
        ("/api/analytics/searches?limit=0".to_owned(), "limit"),
        ("/api/analytics/searches?from=2026-06-01".to_owned(), "from"),
    ];
    for (path, field) in cases {
        let err = assert_error(
            app.get_as(&path, &admin).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        assert_eq!(error_fields(&err), vec![field.to_owned()], "{path}: {err}");
    }
    let daily = app
        .read(
            &format!("{r}?interval=day&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z"),
            Some(&admin),
        )
        .await;
    assert_eq!(daily["items"].as_array().unwrap().len(), 59);
    assert_eq!(daily["items"][0]["start"], "2026-01-01T00:00:00Z");
    let resp = app
        .get_as("/api/analytics/top-products?limit=ten", &admin)
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let ghost = uuid::Uuid::now_v7();
    for path in [
        format!("/api/analytics/products/{ghost}"),
        "/api/analytics/products/nope".to_owned(),
    ] {
        assert_error(
            app.get_as(&path, &admin).await,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
    }
}

#[tokio::test]
async fn hourly_buckets_follow_the_hour_of_each_event() {
    let app = spawn().await;
    let (p, _) = product(&app, "Tee").await;
    let hour = Utc::now()
        .duration_trunc(chrono::Duration::hours(1))
        .unwrap();
    // An event of the previous hour (raw SQL: clients cannot pick a time).
    app.sql(&format!(
        "INSERT INTO analytics_events (kind, product_id, session_id, occurred_at) \
         VALUES ('product_view', '{p}', 'early', '{}')",
        (hour - chrono::Duration::minutes(30)).to_rfc3339()
    ))
    .unwrap();
    send_events(&app, view(&p, "now")).await;
    let from =
        (hour - chrono::Duration::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = (hour + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let path = format!("{}?from={from}&to={to}", report(&p)).replace('+', "%2B");
    let body = until(&app, &path, |b| b["totals"]["views"] == 2).await;
    let items = body["items"].as_array().unwrap();
    let views: Vec<i64> = items.iter().map(|i| i["views"].as_i64().unwrap()).collect();
    assert_eq!(views, vec![0, 1, 1], "{body}");
    assert_eq!(items[0]["start"], from.as_str());
    assert_eq!(body["totals"]["sessions"], 2);
}

#[tokio::test]
async fn cancelled_and_expired_orders_are_not_counted() {
    let app = spawn().await;
    let (p, v) = product(&app, "Tee").await;
    send_events(&app, view(&p, "buyer")).await;
    let first = order(&app, &p, &v, 1, 1000, "placed");
    order(&app, &p, &v, 2, 1500, "paid");
    order(&app, &p, &v, 5, 1000, "cancelled");
    order(&app, &p, &v, 7, 1000, "expired");
    let body = until(&app, &report(&p), |b| b["totals"]["orders"] == 2).await;
    let totals = &body["totals"];
    assert_eq!(totals["units"], 3);
    assert_eq!(totals["revenueMinor"], 4000);
    assert_eq!(totals["sessions"], 1);
    assert_eq!(totals["conversion"], 2.0);

    // Cancelled after its hour was rolled up: the hour is recomputed.
    app.sql(&format!(
        "UPDATE orders SET status = 'cancelled', updated_at = now() WHERE id = '{first}'"
    ))
    .unwrap();
    let body = until(&app, &report(&p), |b| b["totals"]["orders"] == 1).await;
    assert_eq!(body["totals"]["units"], 2);
    assert_eq!(body["totals"]["revenueMinor"], 3000);
    assert_eq!(body["totals"]["conversion"], 1.0);
}

#[tokio::test]
async fn top_products_rank_by_each_metric() {
    let app = spawn().await;
    let (a, _) = product(&app, "Alpha").await;
    let (b, b_variant) = product(&app, "Beta").await;
    let (c, c_variant) = product(&app, "Gamma").await;
    let (_d, _) = product(&app, "Delta").await;
    send_events(
        &app,
        json!({"events": [view(&a, "1"), view(&a, "2"), view(&a, "3"), view(&b, "1")]}),
    )
    .await;
    order(&app, &b, &b_variant, 2, 1000, "paid");
    order(&app, &b, &b_variant, 1, 1000, "placed");
    order(&app, &c, &c_variant, 1, 5000, "fulfilled");
    let ids = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["productId"].as_str().unwrap().to_owned())
            .collect()
    };
    let by_revenue = until(&app, "/api/analytics/top-products?metric=revenue", |body| {
        body["items"].as_array().unwrap().len() == 2
    })
    .await;
    assert_eq!(ids(&by_revenue), vec![c.clone(), b.clone()]);
    assert_eq!(by_revenue["items"][0]["revenueMinor"], 5000);
    assert_eq!(by_revenue["items"][0]["title"], "Gamma");
    assert_eq!(by_revenue["items"][1]["revenueMinor"], 3000);
    assert_eq!(by_revenue["metric"], "revenue");
    let admin = app.admin();
    let by_orders = app
        .read("/api/analytics/top-products?metric=orders", Some(&admin))
        .await;
    assert_eq!(ids(&by_orders), vec![b.clone(), c.clone()]);
    assert_eq!(by_orders["items"][0]["orders"], 2);
    assert_eq!(by_orders["items"][0]["units"], 3);
    let by_views = until(&app, "/api/analytics/top-products", |body| {
        body["items"].as_array().unwrap().len() == 2
    })
    .await;
    assert_eq!(by_views["metric"], "views");
    assert_eq!(ids(&by_views), vec![a.clone(), b.clone()]);
    assert_eq!(by_views["items"][0]["views"], 3);
    let one = app
        .read(
            "/api/analytics/top-products?metric=views&limit=1",
            Some(&admin),
        )
        .await;
    assert_eq!(ids(&one), vec![a.clone()]);
    // A range without them is empty.
    let old = app
        .read(
            "/api/analytics/top-products?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z",
            Some(&admin),
        )
        .await;
    assert_eq!(old["items"], json!([]));
}

#[tokio::test]
async fn the_searches_report_lists_top_queries_and_queries_without_results() {
    let app = spawn().await;
    let search =
        |q: &str, session: &str| json!({"type": "search", "query": q, "sessionId": session});
    send_events(
        &app,
        json!({"events": [search("  Red   SHIRT ", "1"), search("red shirt", "2"), search("blue", "3")]}),
    )
    .await;
    // Zero results are recorded by the search route (db::analytics::
    // record_zero_result); tests cannot call it, so the rows go in as it writes them.
    for _ in 0..2 {
        app.sql(
            "INSERT INTO analytics_events (kind, query) VALUES ('zero_result', 'no such thing')",
        )
        .unwrap();
    }
    app.sql("INSERT INTO analytics_events (kind, query) VALUES ('zero_result', 'blue')")
        .unwrap();
    let body = until(&app, "/api/analytics/searches", |b| {
        b["zeroResults"].as_array().unwrap().len() == 2
    })
    .await;
    assert_eq!(
        body["top"],
        json!([
            {"query": "red shirt", "searches": 2, "zeroResults": 0},
            {"query": "blue", "searches": 1, "zeroResults": 1}
        ])
    );
    assert_eq!(
        body["zeroResults"],
        json!([
            {"query": "no such thing", "searches": 0, "zeroResults": 2},
            {"query": "blue", "searches": 1, "zeroResults": 1}
        ])
    );
    let limited = app
        .read("/api/analytics/searches?limit=1", Some(&app.admin()))
        .await;
    assert_eq!(limited["top"].as_array().unwrap().len(), 1);
    assert_eq!(limited["zeroResults"].as_array().unwrap().len(), 1);
}
