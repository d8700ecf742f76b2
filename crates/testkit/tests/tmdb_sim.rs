#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

//! tmdb-sim speaks TMDB's wire format: its errors, list envelope and limits are
//! what a TMDB client meets in production.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::tmdb_sim::TmdbSim;

async fn get(sim: &TmdbSim, path: &str, query: &str, key: Option<&str>) -> (StatusCode, Value) {
    let sep = if query.is_empty() { "" } else { "&" };
    let url = match key {
        Some(k) => format!("{}{path}?api_key={k}{sep}{query}", sim.api_base),
        None => format!("{}{path}?{query}", sim.api_base),
    };
    let resp = reqwest::get(url).await.unwrap();
    (resp.status(), resp.json().await.unwrap())
}

#[tokio::test]
async fn requests_without_valid_credentials_get_tmdbs_401() {
    let sim = TmdbSim::start().await.unwrap();
    for key in [None, Some("wrong")] {
        let (status, body) = get(&sim, "/movie/popular", "", key).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["success"], false);
        assert_eq!(body["status_code"], 7);
    }
    let bearer = reqwest::Client::new()
        .get(format!("{}/movie/popular", sim.api_base))
        .bearer_auth(&sim.read_token)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
}

#[tokio::test]
async fn lists_use_tmdbs_envelope_and_page_limits() {
    let sim = TmdbSim::start().await.unwrap();
    let key = Some(sim.api_key.as_str());
    let (status, body) = get(&sim, "/trending/all/week", "page=2", key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["page"], 2);
    assert_eq!(body["results"].as_array().unwrap().len(), 20);
    assert!(body["total_results"].as_u64().unwrap() > 5000);
    assert_eq!(body["total_pages"], 275);
    assert!(body["results"][0]["media_type"].is_string());
    let tv = &get(&sim, "/tv/popular", "", key).await.1["results"][0];
    assert!(
        tv["name"].is_string() && tv["first_air_date"].is_string() && tv.get("title").is_none()
    );
    for page in ["0", "501", "x"] {
        let (status, body) = get(&sim, "/movie/popular", &format!("page={page}"), key).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "page={page}");
        assert_eq!(body["status_code"], 22);
    }
}

#[tokio::test]
async fn unknown_ids_and_paths_are_tmdbs_404() {
    let sim = TmdbSim::start().await.unwrap();
    let key = Some(sim.api_key.as_str());
    for path in [
        "/movie/10001",
        "/tv/10000",
        "/tv/60000/season/99",
        "/nothing/here",
    ] {
        let (status, body) = get(&sim, path, "", key).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["status_code"], 34);
    }
}

#[tokio::test]
async fn details_append_up_to_20_sections() {
    let sim = TmdbSim::start().await.unwrap();
    let key = Some(sim.api_key.as_str());
    let (_, body) = get(
        &sim,
        "/movie/10000",
        "append_to_response=videos,credits",
        key,
    )
    .await;
    assert!(body["videos"]["results"].is_array());
    assert!(body["credits"]["cast"].is_array());
    assert!(body.get("similar").is_none());
    let many = vec!["videos"; 21].join(",");
    let (status, body) = get(
        &sim,
        "/movie/10000",
        &format!("append_to_response={many}"),
        key,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status_code"], 18);
}

#[tokio::test]
async fn the_control_endpoints_count_and_inject_failures() {
    let sim = TmdbSim::start().await.unwrap();
    let key = Some(sim.api_key.as_str());
    get(&sim, "/movie/popular", "", key).await;
    let client = reqwest::Client::new();
    let counts: Value = client
        .get(format!("{}/__sim/requests", sim.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["paths"]["/3/movie/popular"], 1);
    client
        .post(format!("{}/__sim/failure", sim.url))
        .json(&json!({"mode": "rate_limit", "times": 1, "retryAfter": 7}))
        .send()
        .await
        .unwrap();
    let limited = reqwest::get(format!(
        "{}/movie/popular?api_key={}",
        sim.api_base, sim.api_key
    ))
    .await
    .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "7");
    let (status, _) = get(&sim, "/movie/popular", "", key).await;
    assert_eq!(status, StatusCode::OK, "the failure was for one request");
    client
        .post(format!("{}/__sim/reset", sim.url))
        .send()
        .await
        .unwrap();
    assert_eq!(sim.total_requests(), 0);
}
