use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

fn set_cookie(resp: &reqwest::Response) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("reelstack_refresh="))
        .expect("refresh cookie set")
}

#[tokio::test]
async fn signup_creates_the_account_and_a_session() {
    let app = spawn_app().await;
    let resp = app
        .signup("  Ada Lovelace ", "  Ada@Example.COM ", PASSWORD)
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let cookie = set_cookie(&resp);
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Strict"));
    assert!(cookie.contains("Path=/api/auth"));
    assert!(!cookie.contains("Secure"), "not Secure unless behind TLS");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["tokenType"], "Bearer");
    assert_eq!(body["expiresIn"], 900);
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["name"], "Ada Lovelace");
    assert_eq!(body["user"]["role"], "user");
    assert_eq!(body["user"]["emailVerified"], false);
    assert!(body["user"]["imageUrl"].is_null());
    assert!(cookie.contains(body["refreshToken"].as_str().unwrap()));
    assert_eq!(
        body["refreshToken"].as_str().unwrap().len(),
        43,
        "256 bits, base64url"
    );
    // The access token works at once.
    let me = app.me(body["accessToken"].as_str().unwrap()).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["id"], body["user"]["id"]);
    // The password is stored as an Argon2id hash with the OWASP parameters.
    let hash: String = {
        let id = uuid::Uuid::parse_str(body["user"]["id"].as_str().unwrap()).unwrap();
        app.state
            .db
            .run(move |conn| Ok(auth::db::users::find(conn, id)?.unwrap().password_hash))
            .await
            .unwrap()
    };
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
}

#[tokio::test]
async fn the_refresh_cookie_is_secure_behind_tls() {
    let app = spawn_app_with(&[("BEHIND_TLS", "true")]).await;
    let resp = app.signup("Ada", &unique_email(), PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert!(set_cookie(&resp).contains("Secure"));
    assert!(resp.headers().get("strict-transport-security").is_some());
}

#[tokio::test]
async fn emails_are_unique_ignoring_case_and_space() {
    let app = spawn_app().await;
    assert_eq!(
        app.signup("A", "grace@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::CREATED
    );
    let resp = app.signup("B", " GRACE@example.com", PASSWORD).await;
    assert_error(resp, StatusCode::CONFLICT, "EMAIL_TAKEN").await;
}

#[tokio::test]
async fn concurrent_signups_with_one_email_create_one_account() {
    let app = spawn_app().await;
    let email = unique_email();
    let attempts = (0..6).map(|_| app.signup("Racer", &email, PASSWORD));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn signup_validation_names_each_bad_field() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"name": "Ada", "email": "not-an-email", "password": PASSWORD}),
            vec!["email"],
        ),
        (
            json!({"name": "", "email": unique_email(), "password": PASSWORD}),
            vec!["name"],
        ),
        (
            json!({"name": "x".repeat(101), "email": unique_email(), "password": PASSWORD}),
            vec!["name"],
        ),
        (
            json!({"name": "Ada", "email": unique_email(), "password": "Sh0rt!"}),
            vec!["password"],
        ),
        (
            json!({"name": "Ada", "email": unique_email(), "password": "x".repeat(129)}),
            vec!["password"],
        ),
        (
            json!({"name": "Ada", "email": unique_email(), "password": "password123"}),
            vec!["password"],
        ),
        (json!({}), vec!["email", "name", "password"]),
    ];
    for (body, fields) in cases {
        let resp = app.post("/api/auth/signup", None, &body).await;
        let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&err), fields, "{body}");
    }
    // Nothing was stored by the refused attempts.
    let resp = app.login("not-an-email", PASSWORD).await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
}

#[tokio::test]
async fn malformed_bodies_are_refused_in_the_envelope() {
    let app = spawn_app().await;
    for path in [
        "/api/auth/signup",
        "/api/auth/login",
        "/api/auth/password/reset/request",
        "/api/auth/password/reset",
    ] {
        let resp = app
            .post_raw(path, None, "application/json", b"{\"email\": ".to_vec())
            .await;
        assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
        let resp = app
            .post(
                "/api/auth/signup",
                None,
                &json!({"name": 42, "email": [], "password": true}),
            )
            .await;
        assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
        let resp = app
            .post_raw(path, None, "text/plain", b"hello".to_vec())
            .await;
        assert_error(
            resp,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        .await;
        let huge = format!("{{\"name\": \"{}\"}}", "a".repeat(1_100_000));
        let resp = app
            .post_raw(path, None, "application/json", huge.into_bytes())
            .await;
        assert_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    }
}

#[tokio::test]
async fn login_succeeds_with_the_right_password() {
    let app = spawn_app().await;
    let account = app.account().await;
    let resp = app.login(&account.email.to_uppercase(), PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::OK);
    set_cookie(&resp);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["user"]["id"], account.id.as_str());
    assert_ne!(body["refreshToken"], account.refresh.as_str());
}

#[tokio::test]
async fn unknown_email_and_wrong_password_look_the_same() {
    let app = spawn_app().await;
    let account = app.account().await;
    let mut wrong_times = Vec::new();
    let mut unknown_times = Vec::new();
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let resp = app.login(&account.email, "wrong password entirely").await;
        wrong_times.push(started.elapsed());
        let mut wrong = assert_error(resp, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
        let started = Instant::now();
        let resp = app.login(&unique_email(), "wrong password entirely").await;
        unknown_times.push(started.elapsed());
        let mut unknown = assert_error(resp, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
        wrong["error"]["requestId"] = Value::Null;
        unknown["error"]["requestId"] = Value::Null;
        bodies.push((wrong, unknown));
    }
    for (wrong, unknown) in &bodies {
        assert_eq!(wrong, unknown, "same body for both failures");
    }
    // Both pay for one Argon2 verification: an unknown email is not answered early.
    wrong_times.sort();
    unknown_times.sort();
    assert!(
        unknown_times[1] * 2 >= wrong_times[1],
        "unknown-email logins answer much faster ({:?} vs {:?})",
        unknown_times[1],
        wrong_times[1]
    );
}

#[tokio::test]
async fn login_requires_both_fields() {
    let app = spawn_app().await;
    let resp = app
        .post("/api/auth/login", None, &json!({"email": "a@b.co"}))
        .await;
    let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&err), vec!["password"]);
}

#[tokio::test]
async fn login_is_rate_limited_per_account_and_per_ip() {
    let app = spawn_app_with(&[
        ("AUTH_RL_LOGIN_PER_ACCOUNT_PER_MIN", "3"),
        ("AUTH_RL_LOGIN_PER_IP_PER_MIN", "5"),
    ])
    .await;
    let account = app.account().await;
    for _ in 0..3 {
        assert_eq!(
            app.login(&account.email, "wrong password here")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password is refused once the account's budget is spent.
    let resp = app.login(&account.email, PASSWORD).await;
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(resp.headers()["ratelimit-limit"], "3");
    assert_eq!(resp.headers()["ratelimit-remaining"], "0");
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    // Other accounts from the same address have their own budget until the IP's runs out.
    assert_eq!(
        app.login(&unique_email(), "x").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&unique_email(), "x").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn signup_is_rate_limited_per_ip() {
    let app = spawn_app_with(&[("AUTH_RL_SIGNUP_PER_IP_PER_HOUR", "2")]).await;
    app.account().await;
    app.account().await;
    let resp = app.signup("Ada", &unique_email(), PASSWORD).await;
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
}

#[tokio::test]
async fn a_disabled_account_cannot_log_in() {
    let app = spawn_app().await;
    let account = app.account().await;
    let admin = app.admin().await;
    let resp = app
        .admin_update(Some(&admin.access), &account.id, &json!({"disabled": true}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app.login(&account.email, PASSWORD).await;
    assert_error(resp, StatusCode::FORBIDDEN, "ACCOUNT_DISABLED").await;
    // A wrong password still says nothing about the account's state.
    let resp = app.login(&account.email, "wrong password here").await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
}

#[tokio::test]
async fn refresh_rotates_the_token() {
    let app = spawn_app().await;
    let account = app.account().await;
    let resp = app.refresh(&account.refresh).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let next = body["refreshToken"].as_str().unwrap();
    assert_ne!(next, account.refresh);
    assert_eq!(
        app.me(body["accessToken"].as_str().unwrap()).await.status(),
        StatusCode::OK
    );
    // The successor works in turn.
    assert_eq!(app.refresh(next).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_works_from_the_cookie() {
    let app = spawn_app().await;
    let account = app.account().await;
    let resp = app
        .request(reqwest::Method::POST, "/api/auth/refresh", None)
        .header("cookie", format!("reelstack_refresh={}", account.refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = set_cookie(&resp);
    let body: Value = resp.json().await.unwrap();
    assert!(cookie.contains(body["refreshToken"].as_str().unwrap()));
}

#[tokio::test]
async fn reuse_within_the_grace_window_returns_the_same_successor() {
    let app = spawn_app().await;
    let account = app.account().await;
    let (a, b) = tokio::join!(app.refresh(&account.refresh), app.refresh(&account.refresh));
    assert_eq!(a.status(), StatusCode::OK);
    assert_eq!(b.status(), StatusCode::OK);
    let a: Value = a.json().await.unwrap();
    let b: Value = b.json().await.unwrap();
    assert_eq!(a["refreshToken"], b["refreshToken"]);
    let c: Value = app.refresh(&account.refresh).await.json().await.unwrap();
    assert_eq!(a["refreshToken"], c["refreshToken"]);
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_session() {
    let app = spawn_app_with(&[("AUTH_REFRESH_GRACE_SECS", "1")]).await;
    let account = app.account().await;
    let (other_access, _) = app.second_session(&account).await;
    let rotated: Value = app.refresh(&account.refresh).await.json().await.unwrap();
    let successor = rotated["refreshToken"].as_str().unwrap();
    let new_access = rotated["accessToken"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let resp = app.refresh(&account.refresh).await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "REFRESH_TOKEN_REUSED").await;
    // The whole session is gone: its successor and its access tokens too.
    let resp = app.refresh(successor).await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "INVALID_REFRESH_TOKEN").await;
    let resp = app.me(new_access).await;
    let err = assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    assert_eq!(err["error"]["details"]["reason"], "session_revoked");
    // Other sessions of the user are untouched.
    assert_eq!(app.me(&other_access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_refuses_missing_unknown_and_malformed_tokens() {
    let app = spawn_app().await;
    let resp = app
        .send(reqwest::Method::POST, "/api/auth/refresh", None, None)
        .await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "INVALID_REFRESH_TOKEN").await;
    let resp = app.refresh("not-a-token-we-issued").await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "INVALID_REFRESH_TOKEN").await;
    let resp = app
        .post_raw(
            "/api/auth/refresh",
            None,
            "application/json",
            b"{oops".to_vec(),
        )
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let resp = app
        .post("/api/auth/refresh", None, &json!({"refreshToken": 12}))
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
}

#[tokio::test]
async fn logout_revokes_the_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    let account = app.account().await;
    let (other_access, _) = app.second_session(&account).await;
    let resp = app.logout(&account.access).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let cookie = set_cookie(&resp);
    assert!(cookie.contains("Max-Age=0"), "{cookie}");
    let err = assert_error(
        app.me(&account.access).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    assert_eq!(err["error"]["details"]["reason"], "session_revoked");
    assert_error(
        app.refresh(&account.refresh).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_REFRESH_TOKEN",
    )
    .await;
    assert_eq!(app.me(&other_access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_all_revokes_every_session() {
    let app = spawn_app().await;
    let account = app.account().await;
    let (other_access, other_refresh) = app.second_session(&account).await;
    let resp = app.logout_all(&account.access).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.me(&account.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.me(&other_access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh(&other_refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Logging in again works.
    assert_eq!(
        app.login(&account.email, PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_needs_a_valid_token() {
    let app = spawn_app().await;
    for path in ["/api/auth/logout", "/api/auth/logout-all"] {
        let resp = app.send(reqwest::Method::POST, path, None, None).await;
        assert!(resp.headers().get("www-authenticate").is_some());
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        let resp = app
            .send(reqwest::Method::POST, path, Some(&forged_token("x")), None)
            .await;
        assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
}

/// Another service learns of a logout through Redis within a second, without
/// calling auth per request.
#[tokio::test]
async fn other_services_reject_a_logged_out_session_within_a_second() {
    let app = spawn_app_with(&[("REDIS_URL", &testkit::redis_url())]).await;
    let account = app.account().await;
    let jwks_url = app.url("/.well-known/jwks.json");
    let redis = common::redis_conn::RedisHandle::connect(&testkit::redis_url())
        .await
        .unwrap();
    let revocations = common::tokens::RevocationList::new();
    let mut tasks = common::tasks::Tasks::new();
    revocations.spawn_listener(&mut tasks, redis);
    let other_service = common::tokens::TokenVerifier::new(
        vec![common::tokens::IssuerConfig {
            name: "reelstack".into(),
            issuer: ISSUER.into(),
            jwks: common::tokens::JwksSource::Http(jwks_url),
            audience: Some("reelstack".into()),
            algorithms: vec![jsonwebtoken::Algorithm::EdDSA],
            required_typ: Some("at+jwt".into()),
            authorized_parties: None,
            first_party: true,
        }],
        30,
        Duration::from_secs(10),
        revocations,
    );
    assert!(other_service.verify(&account.access).await.is_ok());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        app.logout(&account.access).await.status(),
        StatusCode::NO_CONTENT
    );
    let started = Instant::now();
    while other_service.verify(&account.access).await.is_ok()
        && started.elapsed() < Duration::from_secs(1)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        other_service.verify(&account.access).await,
        Err(common::tokens::TokenError::Revoked),
        "still accepted after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn refresh_is_rate_limited_per_ip() {
    let app = spawn_app_with(&[("AUTH_RL_REFRESH_PER_IP_PER_MIN", "2")]).await;
    let account = app.account().await;
    let first: Value = app.refresh(&account.refresh).await.json().await.unwrap();
    let second = app.refresh(first["refreshToken"].as_str().unwrap()).await;
    assert_eq!(second.status(), StatusCode::OK);
    let resp = app.refresh("anything").await;
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
}

#[tokio::test]
async fn an_older_hash_is_upgraded_at_the_next_login() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let app = spawn_app().await;
    let account = app.account().await;
    let id = uuid::Uuid::parse_str(&account.id).unwrap();
    // As an earlier release would have stored it: m=4096, t=1.
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(4096, 1, 1, None).unwrap(),
    );
    let old = weak
        .hash_password(
            PASSWORD.as_bytes(),
            &SaltString::generate(&mut rand::thread_rng()),
        )
        .unwrap()
        .to_string();
    let old_clone = old.clone();
    app.state
        .db
        .run(move |conn| auth::db::users::set_password_hash(conn, id, &old_clone))
        .await
        .unwrap();
    assert_eq!(
        app.login(&account.email, PASSWORD).await.status(),
        StatusCode::OK
    );
    let upgraded = app
        .state
        .db
        .run(move |conn| Ok(auth::db::users::find(conn, id)?.unwrap().password_hash))
        .await
        .unwrap();
    assert_ne!(upgraded, old);
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{upgraded}"
    );
    // And the upgraded hash still logs in.
    assert_eq!(
        app.login(&account.email, PASSWORD).await.status(),
        StatusCode::OK
    );
}
