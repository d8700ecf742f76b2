//! The directory: sync from Clerk and from auth, profile reads and edits.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::clerk_sim::UserChanges;

use crate::helpers::*;

#[tokio::test]
async fn a_clerk_user_is_synced_from_clerks_backend_api() {
    let app = spawn_app().await;
    let (user, token) = app.clerk_user("Ada", "Lovelace");
    let resp = app.sync(&token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["created"], true);
    let profile = &body["user"];
    assert_eq!(profile["id"], user.id.as_str());
    assert_eq!(profile["issuer"], "clerk");
    assert_eq!(profile["email"], user.email.as_str());
    assert_eq!(profile["name"], "Ada Lovelace");
    assert_eq!(profile["preferences"], json!({}));
    for field in ["imageUrl", "bio", "createdAt", "updatedAt"] {
        assert!(profile.get(field).is_some(), "{field}");
    }
    let again: Value = app.sync(&token).await.json().await.unwrap();
    assert_eq!(again["created"], false);
    assert_eq!(again["user"]["id"], user.id.as_str());
}

#[tokio::test]
async fn a_first_party_user_is_synced_from_auth_with_a_service_token() {
    let app = spawn_app().await;
    let (id, token) = app.auth().signup("Grace Hopper").await;
    let body: Value = app.sync(&token).await.json().await.unwrap();
    assert_eq!(body["created"], true);
    assert_eq!(body["user"]["id"], id.as_str());
    assert_eq!(body["user"]["issuer"], "reelstack");
    assert_eq!(body["user"]["name"], "Grace Hopper");
    assert!(body["user"]["email"]
        .as_str()
        .unwrap()
        .ends_with("@example.com"));
}

#[tokio::test]
async fn fifty_concurrent_first_syncs_create_exactly_one_profile() {
    let app = spawn_app_with(&[("SYNC_PER_USER_PER_MIN", "100")]).await;
    let (user, token) = app.clerk_user("Alan", "Turing");
    let responses = join_all((0..50).map(|_| app.sync(&token))).await;
    let mut created = 0;
    for resp in responses {
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["user"]["id"], user.id.as_str());
        if body["created"] == true {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    let service = app.auth().service_token().await;
    let batch: Value = app
        .internal()
        .send_json(
            Method::POST,
            "/internal/users/batch",
            Some(&service),
            &json!({"ids": [user.id]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(batch["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn with_clerk_unreachable_sync_is_503_and_the_stored_profile_is_untouched() {
    let app = spawn_app().await;
    let (user, token) = app.clerk_user("Katherine", "Johnson");
    app.sync(&token).await;
    app.clerk().update_user(
        &user.id,
        &UserChanges {
            first_name: Some("Kathy".into()),
            ..UserChanges::default()
        },
    );
    app.clerk().set_down(true);
    assert_error(
        app.sync(&token).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "UPSTREAM_UNAVAILABLE",
    )
    .await;
    let stored: Value = app
        .get_as("/api/user/profile", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["name"], "Katherine Johnson");
    app.clerk().set_down(false);
    let synced: Value = app.sync(&token).await.json().await.unwrap();
    assert_eq!(synced["user"]["name"], "Kathy Johnson");
}

#[tokio::test]
async fn the_profile_is_synced_on_first_read_and_edits_are_the_users_own() {
    let app = spawn_app().await;
    let (user, token) = app.clerk_user("Hedy", "Lamarr");
    let first = app.get_as("/api/user/profile", &token).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["name"], "Hedy Lamarr");

    let patched = app
        .send_json(
            Method::PATCH,
            "/api/user/profile",
            Some(&token),
            &json!({"name": "  Hedy  ", "bio": "Inventor.\nActress.", "preferences": {"theme": "dark", "lang": "de"}}),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["name"], "Hedy");
    assert_eq!(patched["bio"], "Inventor.\nActress.");
    assert_eq!(patched["preferences"]["theme"], "dark");

    // The issuer's later changes update the email, not the name the user chose.
    app.clerk().update_user(
        &user.id,
        &UserChanges {
            first_name: Some("Hedwig".into()),
            email: Some("hedy@new.example".into()),
            ..UserChanges::default()
        },
    );
    let synced: Value = app.sync(&token).await.json().await.unwrap();
    assert_eq!(synced["user"]["name"], "Hedy");
    assert_eq!(synced["user"]["email"], "hedy@new.example");
    assert_eq!(synced["user"]["bio"], "Inventor.\nActress.");

    let cleared: Value = app
        .send_json(
            Method::PATCH,
            "/api/user/profile",
            Some(&token),
            &json!({"bio": null}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["bio"], Value::Null);
    assert_eq!(cleared["preferences"]["lang"], "de", "untouched");
}

#[tokio::test]
async fn bad_edits_are_refused_with_every_field_named_and_change_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.clerk_user("Marie", "Curie");
    app.sync(&token).await;
    let big = json!({"blob": "x".repeat(17 * 1024)});
    for (body, fields) in [
        (
            json!({"name": "", "bio": "b".repeat(501)}),
            vec!["bio", "name"],
        ),
        (json!({"name": null}), vec!["name"]),
        (json!({"preferences": [1, 2]}), vec!["preferences"]),
        (json!({"preferences": null}), vec!["preferences"]),
        (json!({"preferences": big}), vec!["preferences"]),
        (json!({"bio": "bell\u{7}"}), vec!["bio"]),
    ] {
        let err = assert_error(
            app.send_json(Method::PATCH, "/api/user/profile", Some(&token), &body)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        assert_eq!(error_fields(&err), fields, "{body}");
    }
    assert_error(
        app.send_json(
            Method::PATCH,
            "/api/user/profile",
            Some(&token),
            &json!({"name": 5}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
    )
    .await;
    let malformed = app
        .request(Method::PATCH, "/api/user/profile", Some(&token))
        .header("content-type", "application/json")
        .body("{\"bio\":")
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let profile: Value = app
        .get_as("/api/user/profile", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["name"], "Marie Curie");
    assert_eq!(profile["bio"], Value::Null);
}

#[tokio::test]
async fn profile_routes_need_a_valid_token() {
    let app = spawn_app().await;
    let (user, _) = app.clerk_user("Rosalind", "Franklin");
    let expired = app
        .clerk()
        .session_token(
            &user.id,
            &json!({"exp": chrono::Utc::now().timestamp() - 120}),
        )
        .unwrap();
    let foreign_azp = app
        .clerk()
        .session_token(&user.id, &json!({"azp": "https://evil.example"}))
        .unwrap();
    let forged = app.forged_token().await;
    for token in [
        None,
        Some(expired.as_str()),
        Some(foreign_azp.as_str()),
        Some(forged.as_str()),
    ] {
        for (method, path) in [
            (Method::POST, "/api/user/sync"),
            (Method::GET, "/api/user/profile"),
            (Method::PATCH, "/api/user/profile"),
        ] {
            let resp = app
                .request(method.clone(), path, token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        }
    }
}

#[tokio::test]
async fn an_edit_through_one_replica_is_read_through_another_within_a_second() {
    let a = spawn_app().await;
    let b = a.spawn_replica().await;
    let (_, token) = a.clerk_user("Cached", "Reader");
    // The first read syncs the profile; the second is cached in each replica.
    for app in [&a, &b, &a, &b] {
        let profile: Value = app
            .get_as("/api/user/profile", &token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(profile["name"], "Cached Reader");
    }
    let patched = b
        .send_json(
            Method::PATCH,
            "/api/user/profile",
            Some(&token),
            &json!({"name": "Renamed"}),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let own: Value = b
        .get_as("/api/user/profile", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["name"], "Renamed", "the writing replica at once");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        let seen: Value = a
            .get_as("/api/user/profile", &token)
            .await
            .json()
            .await
            .unwrap();
        if seen["name"] == "Renamed" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "replica a still serves {seen}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Each sync asks the issuer's API (Clerk rate-limits it per application), so a
/// user's syncs are limited; other users keep theirs.
#[tokio::test]
async fn syncs_are_rate_limited_per_user() {
    let app = spawn_app_with(&[("SYNC_PER_USER_PER_MIN", "3")]).await;
    let (_, token) = app.clerk_user("Ada", "Lovelace");
    for _ in 0..3 {
        assert_eq!(app.sync(&token).await.status(), StatusCode::OK);
    }
    let calls = app.clerk().api_requests();
    let err = assert_error(
        app.sync(&token).await,
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
    )
    .await;
    assert!(err["error"]["details"]["retryAfter"].as_u64().unwrap() >= 1);
    assert_eq!(
        app.clerk().api_requests(),
        calls,
        "a refused sync costs no Clerk call"
    );
    let (_, other) = app.clerk_user("Grace", "Hopper");
    assert_eq!(app.sync(&other).await.status(), StatusCode::OK);
}
