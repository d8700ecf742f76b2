//! Watchlist and favorites: saving with a snapshot, listing without TMDB, per-user
//! isolation, and every bad input.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::tmdb_sim::catalog::Media;

use crate::helpers::*;

async fn save(app: &TestApp, list: &str, token: &str, body: Value) -> reqwest::Response {
    app.send_json(Method::POST, &format!("/api/{list}"), Some(token), &body)
        .await
}

#[tokio::test]
async fn saving_keeps_a_snapshot_and_listing_never_calls_tmdb() {
    let app = spawn_app().await;
    let token = app.new_user();
    let movie = app
        .sim()
        .state()
        .catalog()
        .get(Media::Movie, 10_000)
        .unwrap()
        .clone();

    let created = save(
        &app,
        "watchlist",
        &token,
        json!({"tmdbId": MOVIE_ID, "mediaType": "movie"}),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let item: Value = created.json().await.unwrap();
    assert_eq!(item["tmdbId"], MOVIE_ID);
    assert_eq!(item["mediaType"], "movie");
    assert_eq!(item["title"], movie.title.as_str());
    assert_eq!(item["posterPath"], movie.poster_path.as_str());
    assert_eq!(
        item["posterUrl"],
        format!("{IMAGE_BASE}/w500{}", movie.poster_path)
    );
    assert!(item["addedAt"].as_str().unwrap().ends_with('Z'));

    // Saving again is not an error: 200 with the same row.
    let again = save(
        &app,
        "watchlist",
        &token,
        json!({"tmdbId": MOVIE_ID, "mediaType": "movie"}),
    )
    .await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], item["id"]);

    // `contentType` is an alias of `mediaType`.
    let show = save(
        &app,
        "watchlist",
        &token,
        json!({"tmdbId": TV_ID, "contentType": "tv"}),
    )
    .await;
    assert_eq!(show.status(), StatusCode::CREATED);

    let calls = app.sim().total_requests();
    let list: Value = app
        .get_as("/api/watchlist", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["meta"]["total"], 2);
    assert_eq!(list["items"][0]["tmdbId"], TV_ID, "newest first");
    assert_eq!(list["items"][1]["tmdbId"], MOVIE_ID);
    let movies: Value = app
        .get_as("/api/watchlist?mediaType=movie&limit=1", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(movies["meta"]["total"], 1);
    assert_eq!(movies["meta"]["limit"], 1);
    assert_eq!(movies["items"][0]["mediaType"], "movie");
    assert_eq!(
        app.sim().total_requests(),
        calls,
        "listing never calls TMDB"
    );
}

#[tokio::test]
async fn one_title_can_be_read_and_removed() {
    let app = spawn_app().await;
    let token = app.new_user();
    save(
        &app,
        "favorites",
        &token,
        json!({"tmdbId": TV_ID, "mediaType": "tv"}),
    )
    .await;
    let path = format!("/api/favorites/tv/{TV_ID}");
    let one = app.get_as(&path, &token).await;
    assert_eq!(one.status(), StatusCode::OK);
    let one: Value = one.json().await.unwrap();
    assert_eq!(one["tmdbId"], TV_ID);
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
    // The same id as a movie is another title.
    assert_error(
        app.get_as(&format!("/api/favorites/movie/{TV_ID}"), &token)
            .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn watchlist_and_favorites_are_separate_lists() {
    let app = spawn_app().await;
    let token = app.new_user();
    save(
        &app,
        "watchlist",
        &token,
        json!({"tmdbId": MOVIE_ID, "mediaType": "movie"}),
    )
    .await;
    let favorites: Value = app
        .get_as("/api/favorites", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(favorites["meta"]["total"], 0);
    assert_eq!(favorites["items"], json!([]));
}

#[tokio::test]
async fn users_never_see_or_change_each_others_lists() {
    let app = spawn_app().await;
    let alice = app.new_user();
    let bob = app.new_user();
    save(
        &app,
        "watchlist",
        &alice,
        json!({"tmdbId": MOVIE_ID, "mediaType": "movie"}),
    )
    .await;
    let path = format!("/api/watchlist/movie/{MOVIE_ID}");

    let bobs: Value = app
        .get_as("/api/watchlist", &bob)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bobs["meta"]["total"], 0);
    assert_error(
        app.get_as(&path, &bob).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_error(
        app.delete_as(&path, &bob).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_eq!(
        app.get_as(&path, &alice).await.status(),
        StatusCode::OK,
        "still there"
    );

    // Bob saving the same title makes his own row.
    let bobs_own = save(
        &app,
        "watchlist",
        &bob,
        json!({"tmdbId": MOVIE_ID, "mediaType": "movie"}),
    )
    .await;
    assert_eq!(bobs_own.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn titles_must_exist_upstream() {
    let app = spawn_app().await;
    let token = app.new_user();
    let body = assert_error(
        save(
            &app,
            "watchlist",
            &token,
            json!({"tmdbId": MISSING_MOVIE_ID, "mediaType": "movie"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_eq!(body["error"]["message"], "Movie not found");
    let list: Value = app
        .get_as("/api/watchlist", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["meta"]["total"], 0);
}

#[tokio::test]
async fn bad_bodies_are_refused_in_the_envelope() {
    let app = spawn_app().await;
    let token = app.new_user();
    for (body, fields) in [
        (json!({}), vec!["mediaType", "tmdbId"]),
        (json!({"tmdbId": 0, "mediaType": "movie"}), vec!["tmdbId"]),
        (
            json!({"tmdbId": -4, "mediaType": "book"}),
            vec!["mediaType", "tmdbId"],
        ),
        (
            json!({"tmdbId": 9_999_999_999_i64, "mediaType": "tv"}),
            vec!["tmdbId"],
        ),
        (json!({"tmdbId": 5}), vec!["mediaType"]),
    ] {
        let err = assert_error(
            save(&app, "watchlist", &token, body.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        assert_eq!(error_fields(&err), fields, "{body}");
    }
    for body in [
        json!({"tmdbId": "10000", "mediaType": "movie"}),
        json!({"tmdbId": 10000, "mediaType": 3}),
        json!([1, 2]),
    ] {
        assert_error(
            save(&app, "favorites", &token, body).await,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        )
        .await;
    }
    let malformed = app
        .request(Method::POST, "/api/watchlist", Some(&token))
        .header("content-type", "application/json")
        .body("{\"tmdbId\": 1,")
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let not_json = app
        .request(Method::POST, "/api/watchlist", Some(&token))
        .header("content-type", "text/plain")
        .body("tmdbId=1")
        .send()
        .await
        .unwrap();
    assert_error(
        not_json,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    let oversized = json!({"tmdbId": 1, "mediaType": "movie", "pad": "x".repeat(1_100_000)});
    assert_error(
        save(&app, "watchlist", &token, oversized).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    let bad_query = assert_error(
        app.get_as("/api/watchlist?mediaType=book&limit=500", &token)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(error_fields(&bad_query), vec!["limit", "mediaType"]);
    let bad_path = assert_error(
        app.get_as("/api/watchlist/book/abc", &token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(error_fields(&bad_path), vec!["mediaType", "tmdbId"]);
    assert_eq!(app.sim().total_requests(), 0);
}

#[tokio::test]
async fn lists_need_a_valid_token() {
    let app = spawn_app().await;
    let expired = app.expired_token();
    let forged = app.forged_token();
    for token in [
        None,
        Some("not-a-jwt"),
        Some(expired.as_str()),
        Some(forged.as_str()),
    ] {
        for (method, path) in [
            (Method::GET, "/api/watchlist".to_owned()),
            (Method::POST, "/api/favorites".to_owned()),
            (Method::GET, format!("/api/watchlist/movie/{MOVIE_ID}")),
            (Method::DELETE, format!("/api/favorites/tv/{TV_ID}")),
        ] {
            let resp = app
                .request(method.clone(), &path, token)
                .json(&json!({"tmdbId": MOVIE_ID, "mediaType": "movie"}))
                .send()
                .await
                .unwrap();
            assert_eq!(
                header(&resp, "www-authenticate"),
                "Bearer",
                "{method} {path}"
            );
            assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        }
    }
}
