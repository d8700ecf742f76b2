//! The user directory through the real gateway: first-party users from auth,
//! Clerk users from clerk-sim (the stack's stand-in for Clerk), and Clerk's
//! webhooks delivered by clerk-sim's own Svix-signing sender.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use e2e::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn the_gateway_reports_the_directory_upstream() {
    let body: Value = call(Method::GET, "/health", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["upstreams"]["meeting_user_sync"]["status"], "ok",
        "{body}"
    );
}

#[tokio::test]
async fn a_first_party_user_syncs_through_the_gateway() {
    let (address, signup_body) = signup("Directory E2E").await;
    let token = signup_body["accessToken"].as_str().unwrap();
    let resp = call(Method::POST, "/api/user/sync", Some(token), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    // auth's outbox may have delivered the new user before this sync (then
    // `created` is false); either way there is one profile with auth's data.
    assert!(body["created"].is_boolean());
    assert_eq!(body["user"]["issuer"], "reelstack");
    assert_eq!(body["user"]["name"], "Directory E2E");
    assert_eq!(body["user"]["email"], address.as_str());
}

#[tokio::test]
async fn a_clerk_user_is_trusted_by_every_service_and_kept_current_by_webhooks() {
    let (id, token) = clerk_user("Clerky").await;
    let synced: Value = call(Method::POST, "/api/user/sync", Some(&token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(synced["user"]["id"], id.as_str());
    assert_eq!(synced["user"]["issuer"], "clerk");
    assert_eq!(synced["user"]["name"], "Clerky E2E");
    // The same Clerk token works at media-catalog.
    let watchlist = call(Method::GET, "/api/watchlist", Some(&token), None).await;
    assert_eq!(watchlist.status(), StatusCode::OK);

    // Clerk changes the user and tells the directory by a signed webhook.
    http()
        .patch(format!("{}/__sim/users/{id}", clerk_sim()))
        .json(&json!({"firstName": "Renamed"}))
        .send()
        .await
        .unwrap();
    let delivery: Value = http()
        .post(format!("{}/__sim/webhooks", clerk_sim()))
        .json(&json!({"url": format!("{}/api/webhooks/clerk", gateway()), "type": "user.updated", "userId": id}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(delivery["status"], 200, "{delivery}");
    let profile: Value = call(Method::GET, "/api/user/profile", Some(&token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["name"], "Renamed E2E");

    // An unsigned webhook is refused at the service, in the envelope.
    let forged = call(
        Method::POST,
        "/api/webhooks/clerk",
        None,
        Some(json!({"type": "user.deleted", "data": {"id": id}})),
    )
    .await;
    envelope(forged, StatusCode::UNAUTHORIZED, "INVALID_SIGNATURE").await;
}
