#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

//! clerk-sim speaks Clerk's wire formats: the Backend API's User and errors, v2
//! session tokens, and Svix webhook signatures.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::clerk_sim::{svix_signature, ClerkSim};

#[test]
fn svix_signatures_match_svixs_published_test_vector() {
    // From Svix's documentation on verifying webhooks manually.
    let signature = svix_signature(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1_614_265_330,
        r#"{"test": 2432232314}"#,
    );
    assert_eq!(signature, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

#[tokio::test]
async fn the_backend_api_serves_users_behind_the_secret_key() {
    let clerk = ClerkSim::start().await.unwrap();
    let user = clerk.create_user("Ada", "Lovelace", "ada@example.com");
    let url = format!("{}/v1/users/{}", clerk.api_url, user.id);
    let client = reqwest::Client::new();

    let missing_key = client.get(&url).send().await.unwrap();
    assert_eq!(missing_key.status(), StatusCode::UNAUTHORIZED);
    let body: Value = missing_key.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "authentication_invalid");

    let found: Value = client
        .get(&url)
        .bearer_auth(&clerk.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["id"], user.id.as_str());
    assert_eq!(found["first_name"], "Ada");
    assert_eq!(
        found["email_addresses"][0]["email_address"],
        "ada@example.com"
    );
    assert_eq!(
        found["primary_email_address_id"],
        found["email_addresses"][0]["id"]
    );
    assert!(
        found["updated_at"].as_i64().unwrap() > 1_700_000_000_000,
        "milliseconds"
    );

    let unknown = client
        .get(format!("{}/v1/users/user_nobody", clerk.api_url))
        .bearer_auth(&clerk.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    clerk.set_down(true);
    let down = client
        .get(&url)
        .bearer_auth(&clerk.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(clerk.api_requests(), 4);
}

#[tokio::test]
async fn session_tokens_carry_clerks_v2_claims_and_a_published_kid() {
    let clerk = ClerkSim::start().await.unwrap();
    let user = clerk.create_user("Grace", "Hopper", "grace@example.com");
    let token = clerk.session_token(&user.id, &json!({})).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(claims["sub"], user.id.as_str());
    assert!(claims["sid"].as_str().unwrap().starts_with("sess_"));
    assert_eq!(claims["v"], 2);
    assert_eq!(claims["iss"], clerk.issuer());
    assert_eq!(claims["azp"], clerk.authorized_party.as_str());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        60
    );
    let jwks: Value = reqwest::get(&clerk.jwks_url)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], header["kid"]);
    assert_eq!(jwks["keys"][0]["kty"], "RSA");

    let minted: Value = reqwest::Client::new()
        .post(format!("{}/__sim/sessions", clerk.url))
        .json(&json!({"userId": user.id, "azp": "http://other.test"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let claims = minted["token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    assert_eq!(claims["azp"], "http://other.test");
}

#[tokio::test]
async fn webhooks_carry_svix_headers_over_clerks_event_shape() {
    let clerk = ClerkSim::start().await.unwrap();
    let user = clerk.create_user("Alan", "Turing", "alan@example.com");
    let hook = clerk.webhook("user.created", &user.id);
    let body: Value = serde_json::from_str(&hook.body).unwrap();
    assert_eq!(body["type"], "user.created");
    assert_eq!(body["object"], "event");
    assert_eq!(body["data"]["id"], user.id.as_str());
    assert!(hook.id.starts_with("msg_"));
    let expected = svix_signature(&clerk.webhook_secret, &hook.id, hook.timestamp, &hook.body);
    assert_eq!(hook.signature, format!("v1,{expected}"));
    let deleted: Value =
        serde_json::from_str(&clerk.webhook("user.deleted", &user.id).body).unwrap();
    assert_eq!(
        deleted["data"],
        json!({"deleted": true, "id": user.id, "object": "user"})
    );
}
