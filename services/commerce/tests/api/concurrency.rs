//! Writers that race: the same If-Match, the same title, crossing moves.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// Sends every request at once; their statuses, in order.
async fn race(
    app: &TestApp,
    requests: Vec<(Method, String, Option<String>, Value)>,
) -> Vec<StatusCode> {
    let token = app.admin();
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(method, path, if_match, body)| {
            let (client, token) = (app.api.clone(), token.clone());
            tokio::spawn(async move {
                let mut req = client.request(method, &path, Some(&token)).json(&body);
                if let Some(tag) = if_match {
                    req = req.header("if-match", tag);
                }
                req.send().await.unwrap().status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses
}

#[tokio::test]
async fn of_writers_holding_one_etag_exactly_one_wins() {
    let app = spawn_app().await;
    let (product, tag) = app.product(shirt("Tee")).await;
    let path = format!("/api/products/{}", product["id"].as_str().unwrap());
    let requests = (0..8)
        .map(|i| {
            (
                Method::PATCH,
                path.clone(),
                Some(tag.clone()),
                json!({"title": format!("Title {i}")}),
            )
        })
        .collect();
    let statuses = race(&app, requests).await;
    let won: Vec<usize> = (0..8).filter(|&i| statuses[i] == StatusCode::OK).collect();
    assert_eq!(won.len(), 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::PRECONDITION_FAILED),
        "{statuses:?}"
    );
    let resp = app.get(&path).await;
    assert_eq!(etag(&resp), "\"2\"");
    assert_eq!(
        json_of(resp, StatusCode::OK).await["title"],
        format!("Title {}", won[0])
    );
}

#[tokio::test]
async fn products_of_one_title_created_at_once_get_distinct_slugs() {
    let app = spawn_app().await;
    let requests = (0..6)
        .map(|_| {
            (
                Method::POST,
                "/api/products".to_owned(),
                None,
                json!({"title": "Same Title"}),
            )
        })
        .collect();
    let statuses = race(&app, requests).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    let admin = app.admin();
    for slug in [
        "same-title",
        "same-title-2",
        "same-title-3",
        "same-title-4",
        "same-title-5",
        "same-title-6",
    ] {
        let product = app
            .read(&format!("/api/products/{slug}"), Some(&admin))
            .await;
        assert_eq!(product["title"], "Same Title");
    }
}

#[tokio::test]
async fn crossing_moves_never_make_a_cycle() {
    let app = spawn_app().await;
    for round in 0..5 {
        let a = app.category(json!({"name": format!("A{round}")})).await;
        let b = app.category(json!({"name": format!("B{round}")})).await;
        let requests = vec![
            (
                Method::PATCH,
                format!("/api/categories/a{round}"),
                None,
                json!({"parentId": b["id"]}),
            ),
            (
                Method::PATCH,
                format!("/api/categories/b{round}"),
                None,
                json!({"parentId": a["id"]}),
            ),
        ];
        let mut statuses = race(&app, requests).await;
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY]);
    }
    // Every category is reachable from a root: the tree lists them all.
    let tree = app.read("/api/categories", None).await;
    assert_eq!(tree["items"].as_array().unwrap().len(), 10);
}
