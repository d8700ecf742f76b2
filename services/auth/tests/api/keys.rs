use common::runner::Service;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn jwks_lists_public_keys_only() {
    let app = spawn_app().await;
    let resp = app.jwks().await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age"));
    let body: Value = resp.json().await.unwrap();
    let keys = body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["crv"], "Ed25519");
    assert_eq!(keys[0]["alg"], "EdDSA");
    assert!(keys[0].get("d").is_none(), "no private part");
}

#[tokio::test]
async fn access_tokens_carry_the_contract_claims() {
    let app = spawn_app().await;
    let account = app.account().await;
    let header = jsonwebtoken::decode_header(&account.access).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    use base64::Engine;
    let payload = account.access.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    for claim in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "nbf",
        "jti",
        "sid",
        "role",
        "email",
        "email_verified",
    ] {
        assert!(claims.get(claim).is_some(), "{claim} missing: {claims}");
    }
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["sub"], account.id.as_str());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
}

#[tokio::test]
async fn a_restart_keeps_tokens_valid() {
    let app = spawn_app().await;
    let account = app.account().await;
    let restarted = spawn_app_on(&app.db_url, &[]).await;
    assert_eq!(restarted.me(&account.access).await.status(), StatusCode::OK);
    let again = restarted.account().await;
    assert_eq!(
        kid_of(&again.access),
        kid_of(&account.access),
        "the persisted key still signs"
    );
}

#[tokio::test]
async fn rotation_adds_a_key_and_keeps_the_old_one_published() {
    let app = spawn_app().await;
    let account = app.account().await;
    let old_kid = kid_of(&account.access);
    // What `auth keys rotate` does, then the periodic reload.
    let new_kid = app
        .state
        .db
        .run(|conn| auth::keys::rotate(conn, 900))
        .await
        .unwrap();
    app.state.keys.reload().await.unwrap();
    let body: Value = app.jwks().await.json().await.unwrap();
    let kids: Vec<&str> = body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{kids:?}"
    );
    let fresh = app.second_session(&account).await.0;
    assert_eq!(kid_of(&fresh), new_kid);
    // Tokens signed by either key verify, here and in a replica that starts now.
    assert_eq!(app.me(&account.access).await.status(), StatusCode::OK);
    let replica = spawn_app_on(&app.db_url, &[]).await;
    assert_eq!(replica.me(&account.access).await.status(), StatusCode::OK);
    assert_eq!(replica.me(&fresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn production_mode_refuses_to_start_without_a_key() {
    let db = testkit::TestDb::of::<auth::Auth>().unwrap();
    let redis = testkit::redis_url();
    let vars = [
        ("APP_ENV", "production"),
        ("PORT", "0"),
        ("INTERNAL_PORT", "0"),
        ("DATABASE_URL", db.url.as_str()),
        ("REDIS_URL", redis.as_str()),
        ("MAIL_DIR", "/tmp"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect::<Vec<_>>();
    let settings = <auth::Auth as Service>::settings_from(vars).unwrap();
    let err = <auth::Auth as Service>::build(settings)
        .await
        .err()
        .expect("start must fail");
    assert!(err.to_string().contains("keys rotate"), "{err}");
}
