//! The catalog routes: shapes, normalization, every family of route, and the
//! validation that happens before any call to TMDB.

use reqwest::StatusCode;
use serde_json::Value;
use testkit::tmdb_sim::catalog::Media;

use crate::helpers::*;

fn sim_title(app: &TestApp, media: Media, id: i64) -> testkit::tmdb_sim::catalog::Title {
    app.sim()
        .state()
        .catalog()
        .get(media, u32::try_from(id).unwrap())
        .unwrap()
        .clone()
}

#[tokio::test]
async fn popular_movies_are_normalized_into_a_page() {
    let app = spawn_app().await;
    let resp = app.get("/api/movies/popular?page=2&imageSize=w342").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "content-type"), "application/json");
    let body: Value = resp.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert_eq!(body["meta"]["page"], 2);
    assert_eq!(body["meta"]["limit"], 20);
    let total = body["meta"]["total"].as_i64().unwrap();
    assert_eq!(total, i64::from(testkit::tmdb_sim::catalog::MOVIE_COUNT));
    assert_eq!(body["meta"]["totalPages"], 200);

    let first = &items[0];
    for field in [
        "id",
        "mediaType",
        "title",
        "originalTitle",
        "overview",
        "releaseDate",
        "genreIds",
        "posterPath",
        "posterUrl",
        "backdropPath",
        "backdropUrl",
        "voteAverage",
        "voteCount",
        "popularity",
        "adult",
    ] {
        assert!(first.get(field).is_some(), "missing {field} in {first}");
    }
    assert_eq!(first["mediaType"], "movie");
    let expected = sim_title(&app, Media::Movie, first["id"].as_i64().unwrap());
    assert_eq!(first["title"], expected.title.as_str());
    assert_eq!(first["releaseDate"], expected.date.as_str());
    assert_eq!(
        first["posterUrl"],
        format!("{IMAGE_BASE}/w342{}", expected.poster_path)
    );
    assert_eq!(
        first["backdropUrl"],
        format!("{IMAGE_BASE}/w1280{}", expected.backdrop_path)
    );
    // Most popular first, across the page.
    let popularity: Vec<f64> = items
        .iter()
        .map(|i| i["popularity"].as_f64().unwrap())
        .collect();
    assert!(popularity.windows(2).all(|w| w[0] >= w[1]));
}

#[tokio::test]
async fn tv_names_and_air_dates_become_title_and_release_date() {
    let app = spawn_app().await;
    let body: Value = app.get("/api/tv/top-rated").await.json().await.unwrap();
    let show = &body["items"][0];
    assert_eq!(show["mediaType"], "tv");
    let expected = sim_title(&app, Media::Tv, show["id"].as_i64().unwrap());
    assert_eq!(show["title"], expected.title.as_str());
    assert_eq!(show["releaseDate"], expected.date.as_str());
    // The default poster size is w500.
    assert!(show["posterUrl"].as_str().unwrap().contains("/w500/"));
}

#[tokio::test]
async fn every_list_route_answers_a_page_from_its_tmdb_list() {
    let app = spawn_app().await;
    for (path, upstream) in [
        ("/api/movies/trending", "/3/trending/movie/day"),
        ("/api/movies/trending?window=week", "/3/trending/movie/week"),
        ("/api/tv/trending?window=week", "/3/trending/tv/week"),
        ("/api/movies/top-rated", "/3/movie/top_rated"),
        ("/api/movies/now-playing", "/3/movie/now_playing"),
        ("/api/movies/upcoming", "/3/movie/upcoming"),
        ("/api/tv/popular", "/3/tv/popular"),
        ("/api/tv/on-the-air", "/3/tv/on_the_air"),
        ("/api/tv/airing-today", "/3/tv/airing_today"),
        ("/api/movies/discover", "/3/discover/movie"),
        ("/api/tv/discover", "/3/discover/tv"),
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert!(!body["items"].as_array().unwrap().is_empty(), "{path}");
        assert!(body["meta"]["total"].as_i64().unwrap() > 0, "{path}");
        assert_eq!(app.sim().requests(upstream), 1, "{path} -> {upstream}");
    }
}

#[tokio::test]
async fn lists_that_belong_to_the_other_media_type_do_not_exist() {
    let app = spawn_app().await;
    for path in [
        "/api/movies/on-the-air",
        "/api/tv/now-playing",
        "/api/tv/upcoming",
    ] {
        assert_error(app.get(path).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    assert_eq!(app.sim().total_requests(), 0);
}

#[tokio::test]
async fn discover_applies_genre_year_rating_and_sort() {
    let app = spawn_app().await;
    let resp = app
        .get("/api/movies/discover?genre=18&minRating=6&sortBy=rating.desc")
        .await;
    let body: Value = resp.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        assert!(item["genreIds"]
            .as_array()
            .unwrap()
            .contains(&Value::from(18)));
        assert!(item["voteAverage"].as_f64().unwrap() >= 6.0);
    }
    let ratings: Vec<f64> = items
        .iter()
        .map(|i| i["voteAverage"].as_f64().unwrap())
        .collect();
    assert!(ratings.windows(2).all(|w| w[0] >= w[1]));

    let by_year: Value = app
        .get("/api/tv/discover?year=1999")
        .await
        .json()
        .await
        .unwrap();
    for item in by_year["items"].as_array().unwrap() {
        assert!(item["releaseDate"].as_str().unwrap().starts_with("1999-"));
    }
}

#[tokio::test]
async fn searches_find_titles_by_words_in_any_case() {
    let app = spawn_app().await;
    let movie = sim_title(&app, Media::Movie, MOVIE_ID);
    let word = movie
        .title
        .split_whitespace()
        .max_by_key(|w| w.len())
        .unwrap()
        .to_uppercase();
    let body: Value = app
        .get(&format!("/api/movies/search?q={word}"))
        .await
        .json()
        .await
        .unwrap();
    let items = body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        assert!(item["title"]
            .as_str()
            .unwrap()
            .to_uppercase()
            .contains(&word));
    }
    // Multi search mixes movies and shows, each with its media type.
    let multi: Value = app
        .get(&format!("/api/search?q={word}&page=1"))
        .await
        .json()
        .await
        .unwrap();
    let kinds: std::collections::HashSet<&str> = multi["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["mediaType"].as_str().unwrap())
        .collect();
    assert!(kinds.contains("movie") && kinds.contains("tv"), "{kinds:?}");
    // The year narrows a search.
    let year = movie.year;
    let narrowed: Value = app
        .get(&format!("/api/movies/search?q={word}&year={year}"))
        .await
        .json()
        .await
        .unwrap();
    for item in narrowed["items"].as_array().unwrap() {
        assert!(item["releaseDate"]
            .as_str()
            .unwrap()
            .starts_with(&year.to_string()));
    }
    // Spellings of one query share a cache entry.
    let before = app.sim().requests("/3/search/movie");
    app.get(&format!(
        "/api/movies/search?q=%20{}%20",
        word.to_lowercase()
    ))
    .await;
    assert_eq!(app.sim().requests("/3/search/movie"), before);
}

#[tokio::test]
async fn movie_details_carry_the_appended_sections() {
    let app = spawn_app().await;
    let resp = app
        .get(&format!(
            "/api/movies/{MOVIE_ID}?append=videos,credits,recommendations,similar"
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let expected = sim_title(&app, Media::Movie, MOVIE_ID);
    assert_eq!(body["id"], MOVIE_ID);
    assert_eq!(body["title"], expected.title.as_str());
    assert_eq!(body["runtime"], expected.runtime);
    assert_eq!(body["tagline"], expected.tagline.as_str());
    assert!(body["status"].is_string());
    assert_eq!(
        body["genres"].as_array().unwrap().len(),
        expected.genre_ids.len()
    );
    assert!(body.get("episodeRunTime").is_none());
    let video = &body["videos"][0];
    assert_eq!(video["site"], "YouTube");
    assert_eq!(
        video["url"],
        format!(
            "https://www.youtube.com/watch?v={}",
            video["key"].as_str().unwrap()
        )
    );
    assert_eq!(body["credits"]["cast"].as_array().unwrap().len(), 8);
    assert!(body["credits"]["crew"][0]["job"].is_string());
    assert!(body["credits"]["cast"][0]["profileUrl"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{IMAGE_BASE}/w185/")));
    assert_eq!(body["recommendations"].as_array().unwrap().len(), 20);
    assert!(!body["similar"].as_array().unwrap().is_empty());
    assert_eq!(
        app.sim().requests(&format!("/3/movie/{MOVIE_ID}")),
        1,
        "the sections come in the same TMDB call"
    );

    let plain: Value = app
        .get(&format!("/api/movies/{MOVIE_ID}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(plain.get("videos").is_none() && plain.get("credits").is_none());
}

#[tokio::test]
async fn tv_details_and_seasons() {
    let app = spawn_app().await;
    let show = sim_title(&app, Media::Tv, TV_ID);
    let body: Value = app
        .get(&format!("/api/tv/{TV_ID}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["mediaType"], "tv");
    assert_eq!(body["title"], show.title.as_str());
    assert_eq!(body["episodeRunTime"], show.runtime);
    assert_eq!(body["numberOfSeasons"], show.seasons);
    assert!(body.get("runtime").is_none());
    assert_eq!(
        body["seasons"].as_array().unwrap().len(),
        show.seasons as usize
    );

    let season: Value = app
        .get(&format!("/api/tv/{TV_ID}/season/1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(season["seasonNumber"], 1);
    assert_eq!(
        season["episodes"].as_array().unwrap().len(),
        show.episode_count(1) as usize
    );
    assert!(season["episodes"][0]["stillUrl"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{IMAGE_BASE}/w300/")));
    assert_error(
        app.get(&format!("/api/tv/{TV_ID}/season/{}", show.seasons + 1))
            .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn sub_resources_of_a_title() {
    let app = spawn_app().await;
    let recs: Value = app
        .get(&format!("/api/movies/{MOVIE_ID}/recommendations?page=2"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(recs["meta"]["page"], 2);
    assert!(!recs["items"].as_array().unwrap().is_empty());
    let similar: Value = app
        .get(&format!("/api/tv/{TV_ID}/similar"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(similar["items"][0]["mediaType"], "tv");
    let videos: Value = app
        .get(&format!("/api/tv/{TV_ID}/videos"))
        .await
        .json()
        .await
        .unwrap();
    assert!(!videos["items"].as_array().unwrap().is_empty());
    let credits: Value = app
        .get(&format!("/api/movies/{MOVIE_ID}/credits"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(credits["cast"].as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn genres_and_the_image_configuration() {
    let app = spawn_app().await;
    let genres: Value = app.get("/api/movies/genres").await.json().await.unwrap();
    let names: Vec<&str> = genres["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Drama") && names.contains(&"Science Fiction"));
    let tv: Value = app.get("/api/tv/genres").await.json().await.unwrap();
    assert!(tv["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "Sci-Fi & Fantasy"));
    let config: Value = app.get("/api/catalog/config").await.json().await.unwrap();
    assert_eq!(config["imageBaseUrl"], IMAGE_BASE);
    assert!(config["posterSizes"]
        .as_array()
        .unwrap()
        .contains(&Value::from("w342")));
}

#[tokio::test]
async fn unknown_titles_are_404_in_the_envelope() {
    let app = spawn_app().await;
    let body = assert_error(
        app.get(&format!("/api/movies/{MISSING_MOVIE_ID}")).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_eq!(body["error"]["message"], "Movie not found");
    let body = assert_error(
        app.get(&format!("/api/tv/{MISSING_MOVIE_ID}/credits"))
            .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_eq!(body["error"]["message"], "TV show not found");
}

#[tokio::test]
async fn bad_parameters_are_422_before_any_upstream_call() {
    let app = spawn_app().await;
    let long_q = "a".repeat(201);
    let cases: Vec<(String, &[&str])> = vec![
        ("/api/movies/popular?page=0".into(), &["page"]),
        ("/api/movies/popular?page=501".into(), &["page"]),
        ("/api/movies/popular?page=abc".into(), &["page"]),
        ("/api/movies/popular?page=1.5".into(), &["page"]),
        ("/api/movies/popular?imageSize=w9000".into(), &["imageSize"]),
        ("/api/movies/trending?window=month".into(), &["window"]),
        ("/api/movies/search".into(), &["q"]),
        ("/api/movies/search?q=%20%20".into(), &["q"]),
        (format!("/api/movies/search?q={long_q}"), &["q"]),
        ("/api/search?q=x&page=-1".into(), &["page"]),
        ("/api/movies/search?q=x&year=1700".into(), &["year"]),
        ("/api/movies/discover?genre=abc".into(), &["genre"]),
        ("/api/movies/discover?sortBy=random".into(), &["sortBy"]),
        ("/api/movies/discover?minRating=11".into(), &["minRating"]),
        (
            "/api/movies/discover?minRating=x&page=0&year=3000".into(),
            &["minRating", "page", "year"],
        ),
        ("/api/movies/abc".into(), &["id"]),
        ("/api/movies/0".into(), &["id"]),
        ("/api/movies/-5".into(), &["id"]),
        ("/api/movies/99999999999".into(), &["id"]),
        ("/api/movies/1e3/videos".into(), &["id"]),
        (format!("/api/movies/{MOVIE_ID}?append=images"), &["append"]),
        ("/api/tv/x/season/1".into(), &["id"]),
        (format!("/api/tv/{TV_ID}/season/first"), &["seasonNumber"]),
        (
            format!("/api/movies/{MOVIE_ID}/similar?page=600"),
            &["page"],
        ),
    ];
    for (path, fields) in cases {
        let body = assert_error(
            app.get(&path).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        assert_eq!(error_fields(&body), fields.to_vec(), "{path}");
    }
    assert_eq!(app.sim().total_requests(), 0, "no call reached TMDB");
}

#[tokio::test]
async fn cached_answers_carry_etags_and_304_when_unchanged() {
    let app = spawn_app().await;
    let first = app.get("/api/movies/upcoming").await;
    let etag = header(&first, "etag");
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert_eq!(
        header(&first, "cache-status"),
        "reelstack; fwd=miss; stored"
    );
    let again = app
        .request(reqwest::Method::GET, "/api/movies/upcoming", None)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, "etag"), etag);
    assert!(header(&again, "cache-status").starts_with("reelstack; hit; ttl="));
    assert!(header(&again, "cache-control").starts_with("public, max-age="));
    assert!(again.bytes().await.unwrap().is_empty());
    // A stale ETag, or a list of them without the current one, gets the body.
    let changed = app
        .request(reqwest::Method::GET, "/api/movies/upcoming", None)
        .header("if-none-match", "\"old\", W/\"older\"")
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let with_current = app
        .request(reqwest::Method::GET, "/api/movies/upcoming", None)
        .header("if-none-match", format!("\"old\", W/{etag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(with_current.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(app.sim().requests("/3/movie/upcoming"), 1);
}

/// Anonymous catalog traffic cannot drain the TMDB budget: requests that miss
/// the cache (each one a TMDB call) are limited per client address; cache hits
/// are not, and another address keeps its own budget.
#[tokio::test]
async fn cache_misses_are_limited_per_client_address_and_hits_are_not() {
    let app = spawn_app_with(&[("CATALOG_MISSES_PER_IP_PER_MIN", "5")]).await;
    for page in 1..=5 {
        let resp = app.get(&format!("/api/movies/popular?page={page}")).await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    assert_eq!(app.sim().requests("/3/movie/popular"), 5);
    let resp = app.get("/api/movies/popular?page=6").await;
    assert!(header(&resp, "retry-after").parse::<u64>().unwrap() >= 1);
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    assert_eq!(
        app.sim().requests("/3/movie/popular"),
        5,
        "a refused miss costs no TMDB call"
    );
    for _ in 0..20 {
        let resp = app.get("/api/movies/popular?page=1").await;
        assert_eq!(resp.status(), StatusCode::OK, "hits are not counted");
        assert!(header(&resp, "cache-status").contains("hit"));
    }
    let elsewhere = testkit::Client::new(&app.address);
    let resp = elsewhere.get("/api/movies/popular?page=6").await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "another address, another budget"
    );
}

/// Requests that wait for another request's TMDB call cost nothing: 30
/// concurrent cold requests of one client for one key make one call and pass
/// a budget of 2.
#[tokio::test]
async fn requests_that_join_a_fetch_under_way_are_not_counted() {
    let app = spawn_app_with(&[("CATALOG_MISSES_PER_IP_PER_MIN", "2")]).await;
    app.sim().set_latency(std::time::Duration::from_millis(300));
    let answers =
        futures_util::future::join_all((0..30).map(|_| app.get("/api/movies/top-rated"))).await;
    assert!(answers.iter().all(|r| r.status() == StatusCode::OK));
    assert_eq!(app.sim().requests("/3/movie/top_rated"), 1);
}
