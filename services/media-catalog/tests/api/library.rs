//! The personal movie library: CRUD, filters, sorting, paging, isolation and every
//! bad input.

use chrono::Datelike;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

pub async fn add(app: &TestApp, token: &str, body: Value) -> Value {
    let resp = app
        .send_json(Method::POST, "/api/library/movies", Some(token), &body)
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_movie_can_be_added_read_replaced_patched_and_deleted() {
    let app = spawn_app().await;
    let token = app.new_user();
    let movie = add(
        &app,
        &token,
        json!({"title": "  Alien  ", "year": 1979, "imageUrl": "https://img.example/alien.jpg"}),
    )
    .await;
    assert_eq!(movie["title"], "Alien");
    assert_eq!(movie["year"], 1979);
    assert_eq!(movie["imageUrl"], "https://img.example/alien.jpg");
    assert_eq!(movie["poster"], Value::Null);
    let id = movie["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    let path = format!("/api/library/movies/{id}");

    let read: Value = app.get_as(&path, &token).await.json().await.unwrap();
    assert_eq!(read, movie);

    // PUT replaces everything: no imageUrl given means none.
    let replaced = app
        .send_json(
            Method::PUT,
            &path,
            Some(&token),
            &json!({"title": "Aliens", "year": 1986}),
        )
        .await;
    assert_eq!(replaced.status(), StatusCode::OK);
    let replaced: Value = replaced.json().await.unwrap();
    assert_eq!(replaced["title"], "Aliens");
    assert_eq!(replaced["imageUrl"], Value::Null);
    let time = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert!(time(&replaced["updatedAt"]) > time(&movie["updatedAt"]));
    assert_eq!(time(&replaced["createdAt"]), time(&movie["createdAt"]));

    // PATCH changes only what it names; `imageUrl: null` removes the URL.
    let patched: Value = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&token),
            &json!({"imageUrl": "http://x.test/p.png"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(patched["title"], "Aliens");
    assert_eq!(patched["imageUrl"], "http://x.test/p.png");
    let cleared: Value = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&token),
            &json!({"imageUrl": null, "year": 1987}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["imageUrl"], Value::Null);
    assert_eq!(cleared["year"], 1987);
    let unchanged = app
        .send_json(Method::PATCH, &path, Some(&token), &json!({}))
        .await;
    assert_eq!(unchanged.status(), StatusCode::OK);

    assert_eq!(
        app.delete_as(&path, &token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.get_as(&path, &token).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_error(
        app.delete_as(&path, &token).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn lists_page_filter_and_sort() {
    let app = spawn_app().await;
    let token = app.new_user();
    for (title, year) in [
        ("Zodiac", 2007),
        ("alien", 1979),
        ("Blade Runner", 1982),
        ("Alien: Covenant", 2017),
        ("The 100% Movie", 2001),
    ] {
        add(&app, &token, json!({"title": title, "year": year})).await;
    }
    let titles = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let get = |query: &str| {
        let path = format!("/api/library/movies{query}");
        let token = token.clone();
        let app = &app;
        async move {
            let resp = app.get_as(&path, &token).await;
            assert_eq!(resp.status(), StatusCode::OK, "{path}");
            resp.json::<Value>().await.unwrap()
        }
    };

    let newest = get("").await;
    assert_eq!(
        newest["meta"],
        json!({"page": 1, "limit": 20, "total": 5, "totalPages": 1})
    );
    assert_eq!(
        titles(&newest)[0],
        "The 100% Movie",
        "newest first by default"
    );
    assert_eq!(titles(&get("?sort=createdAt").await)[0], "Zodiac");
    assert_eq!(
        titles(&get("?sort=title").await),
        vec![
            "alien",
            "Alien: Covenant",
            "Blade Runner",
            "The 100% Movie",
            "Zodiac"
        ],
        "title order ignores case"
    );
    assert_eq!(titles(&get("?sort=-title").await)[0], "Zodiac");
    assert_eq!(titles(&get("?sort=year").await)[0], "alien");
    assert_eq!(titles(&get("?sort=-year").await)[0], "Alien: Covenant");
    let found = get("?q=ALIEN&sort=year").await;
    assert_eq!(titles(&found), vec!["alien", "Alien: Covenant"]);
    assert_eq!(found["meta"]["total"], 2);
    assert_eq!(
        titles(&get("?q=100%25").await),
        vec!["The 100% Movie"],
        "% is literal"
    );
    assert_eq!(titles(&get("?year=1982").await), vec!["Blade Runner"]);
    let paged = get("?page=2&limit=2&sort=title").await;
    assert_eq!(titles(&paged), vec!["Blade Runner", "The 100% Movie"]);
    assert_eq!(
        paged["meta"],
        json!({"page": 2, "limit": 2, "total": 5, "totalPages": 3})
    );
    let past_end = get("?page=9&limit=2").await;
    assert_eq!(past_end["items"], json!([]));
    assert_eq!(past_end["meta"]["total"], 5);
}

#[tokio::test]
async fn bad_input_is_refused_with_every_field_named() {
    let app = spawn_app().await;
    let token = app.new_user();
    // Next year + 5 is the last year taken.
    let next_year_plus_six = chrono::Utc::now().year() + 1 + 6;
    for (body, fields) in [
        (json!({}), vec!["title", "year"]),
        (json!({"title": "", "year": 1887}), vec!["title", "year"]),
        (
            json!({"title": "x".repeat(201), "year": 2000}),
            vec!["title"],
        ),
        (
            json!({"title": "Ok", "year": next_year_plus_six}),
            vec!["year"],
        ),
        (
            json!({"title": "Ok", "year": 2000, "imageUrl": "ftp://x/y"}),
            vec!["imageUrl"],
        ),
        (json!({"title": null, "year": null}), vec!["title", "year"]),
    ] {
        let err = assert_error(
            app.send_json(Method::POST, "/api/library/movies", Some(&token), &body)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        assert_eq!(error_fields(&err), fields, "{body}");
    }
    for body in [
        json!({"title": 5, "year": 2000}),
        json!({"title": "Ok", "year": "2000"}),
        json!({"title": "Ok", "year": 2000.5}),
    ] {
        assert_error(
            app.send_json(Method::POST, "/api/library/movies", Some(&token), &body)
                .await,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        )
        .await;
    }
    let malformed = app
        .request(Method::POST, "/api/library/movies", Some(&token))
        .header("content-type", "application/json")
        .body("{\"title\":")
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;

    let movie = add(&app, &token, json!({"title": "Heat", "year": 1995})).await;
    let path = format!("/api/library/movies/{}", movie["id"].as_str().unwrap());
    let err = assert_error(
        app.send_json(
            Method::PATCH,
            &path,
            Some(&token),
            &json!({"title": null, "year": 1}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(error_fields(&err), vec!["title", "year"]);
    let err = assert_error(
        app.send_json(Method::PUT, &path, Some(&token), &json!({"title": "Heat"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(error_fields(&err), vec!["year"]);
    let unchanged: Value = app.get_as(&path, &token).await.json().await.unwrap();
    assert_eq!(
        unchanged["title"], "Heat",
        "a refused change changes nothing"
    );

    let err = assert_error(
        app.get_as(
            "/api/library/movies?limit=101&sort=rating&year=1000",
            &token,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(error_fields(&err), vec!["limit", "sort", "year"]);
    assert_error(
        app.get_as(
            &format!("/api/library/movies?q={}", "q".repeat(201)),
            &token,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_error(
        app.get_as("/api/library/movies?page=two", &token).await,
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
    )
    .await;
}

#[tokio::test]
async fn another_users_movie_is_404_everywhere() {
    let app = spawn_app().await;
    let alice = app.new_user();
    let bob = app.new_user();
    let movie = add(&app, &alice, json!({"title": "Ran", "year": 1985})).await;
    let path = format!("/api/library/movies/{}", movie["id"].as_str().unwrap());

    assert_error(
        app.get_as(&path, &bob).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    for method in [Method::PUT, Method::PATCH] {
        assert_error(
            app.send_json(
                method,
                &path,
                Some(&bob),
                &json!({"title": "Mine now", "year": 2000}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
    }
    assert_error(
        app.delete_as(&path, &bob).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_error(
        app.get_as(&format!("{path}/poster"), &bob).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    let bobs: Value = app
        .get_as("/api/library/movies", &bob)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bobs["meta"]["total"], 0);
    let still: Value = app.get_as(&path, &alice).await.json().await.unwrap();
    assert_eq!(still["title"], "Ran");

    for bad in ["not-a-uuid", "12345"] {
        assert_error(
            app.get_as(&format!("/api/library/movies/{bad}"), &alice)
                .await,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
    }
}

#[tokio::test]
async fn the_library_needs_a_valid_token() {
    let app = spawn_app().await;
    let expired = app.expired_token();
    let forged = app.forged_token();
    for token in [None, Some(expired.as_str()), Some(forged.as_str())] {
        let resp = app
            .request(Method::GET, "/api/library/movies", token)
            .send()
            .await
            .unwrap();
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        let resp = app
            .request(Method::POST, "/api/library/movies", token)
            .json(&json!({"title": "X", "year": 2000}))
            .send()
            .await
            .unwrap();
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
}

#[tokio::test]
async fn the_total_stays_exact_through_concurrent_adds_and_deletes() {
    let app = spawn_app().await;
    let alice = app.new_user();
    let bob = app.new_user();
    let adds = futures_util::future::join_all((0..25).map(|n| {
        let (app, alice) = (&app, &alice);
        async move {
            let body = json!({"title": format!("Movie {n}"), "year": 2000 + n % 2});
            app.send_json(Method::POST, "/api/library/movies", Some(alice), &body)
                .await
        }
    }))
    .await;
    let mut ids = Vec::new();
    for resp in adds {
        assert_eq!(resp.status(), StatusCode::CREATED);
        ids.push(
            resp.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    add(&app, &bob, json!({"title": "Bob's", "year": 1999})).await;
    let total = |token: String, query: &'static str| {
        let app = &app;
        async move {
            let body: Value = app
                .get_as(&format!("/api/library/movies{query}"), &token)
                .await
                .json()
                .await
                .unwrap();
            body["meta"]["total"].as_i64().unwrap()
        }
    };
    assert_eq!(total(alice.clone(), "").await, 25);
    assert_eq!(total(bob.clone(), "").await, 1);

    let deletes = futures_util::future::join_all(ids.iter().take(5).map(|id| {
        let (app, alice) = (&app, &alice);
        async move {
            app.delete_as(&format!("/api/library/movies/{id}"), alice)
                .await
        }
    }))
    .await;
    assert!(deletes.iter().all(|r| r.status() == StatusCode::NO_CONTENT));
    assert_eq!(total(alice.clone(), "").await, 20);
    // A filtered list counts its own rows, and agrees.
    let per_year =
        total(alice.clone(), "?year=2000").await + total(alice.clone(), "?year=2001").await;
    assert_eq!(per_year, 20);
    assert_eq!(total(bob, "").await, 1);
}
