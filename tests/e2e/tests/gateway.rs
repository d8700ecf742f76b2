//! Through the real gateway of a running stack. `make test` starts the stack and
//! sets `E2E_GATEWAY_URL`; run by hand: `make e2e` with a stack from `make run`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use e2e::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn the_gateway_reports_itself_and_each_upstream() {
    let resp = call(Method::GET, "/health", None, None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["upstreams"]["auth"]["status"], "ok");
    assert_eq!(body["upstreams"]["auth"]["checks"]["database"], "ok");
    assert_eq!(body["upstreams"]["auth"]["checks"]["redis"], "ok");
}

#[tokio::test]
async fn an_account_lives_its_whole_life_through_the_gateway() {
    let (address, body) = signup("E2E").await;
    let access = body["accessToken"].as_str().unwrap().to_owned();
    let refresh = body["refreshToken"].as_str().unwrap().to_owned();

    let me: Value = call(Method::GET, "/api/auth/me", Some(&access), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], address.as_str());

    // The gateway passes the client address on: the session shows it.
    let sessions: Value = call(Method::GET, "/api/auth/sessions", Some(&access), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sessions["items"][0]["ip"], "127.0.0.1");

    // Email verification with the code read from the mail folder.
    let resp = call(
        Method::POST,
        "/api/auth/email/verify/request",
        Some(&access),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let mails = testkit::mail::wait_for_mails(&mail_dir(), &address, 1).await;
    let code = testkit::mail::code_after(
        mails.last().expect("verification mail in .run/mail"),
        "verification code is",
        6,
    )
    .unwrap();
    let resp = call(
        Method::POST,
        "/api/auth/email/verify",
        Some(&access),
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let resp = call(
        Method::POST,
        "/api/auth/refresh",
        None,
        Some(json!({"refreshToken": refresh})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let pair: Value = resp.json().await.unwrap();
    let access2 = pair["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(pair["user"]["emailVerified"], true);

    let resp = call(Method::POST, "/api/auth/logout", Some(&access2), None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = call(Method::GET, "/api/auth/me", Some(&access2), None).await;
    envelope(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn a_password_reset_works_from_the_mailed_token() {
    let (address, _) = signup("Reset").await;
    let resp = call(
        Method::POST,
        "/api/auth/password/reset/request",
        None,
        Some(json!({"email": address})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let mails = testkit::mail::wait_for_mails(&mail_dir(), &address, 1).await;
    let token = testkit::mail::line_after(
        mails.last().expect("reset mail in .run/mail"),
        "reset your Reelstack password",
    )
    .unwrap();
    let new_password = "a brand new passphrase for e2e";
    let resp = call(
        Method::POST,
        "/api/auth/password/reset",
        None,
        Some(json!({"token": token, "newPassword": new_password})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = call(
        Method::POST,
        "/api/auth/login",
        None,
        Some(json!({"email": address, "password": new_password})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn jwks_is_public_through_the_gateway() {
    let resp = call(Method::GET, "/.well-known/jwks.json", None, None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert!(!body["keys"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn internal_routes_are_never_routed() {
    for path in [
        "/internal/token",
        "/internal/users/batch",
        "/internal/users/x",
    ] {
        let resp = call(
            Method::POST,
            path,
            None,
            Some(json!({"clientId": "x", "clientSecret": "y"})),
        )
        .await;
        envelope(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
}

#[tokio::test]
async fn request_ids_are_kept_generated_and_forwarded() {
    let resp = client()
        .get(format!("{}/api/auth/nope", gateway()))
        .header("x-request-id", "e2e-chosen-42")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "e2e-chosen-42");
    let body = envelope(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    // The service itself answered (its message), with the id the gateway forwarded.
    assert_eq!(body["error"]["requestId"], "e2e-chosen-42");
    let resp = call(Method::GET, "/nowhere", None, None).await;
    let body = envelope(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_eq!(
        body["error"]["requestId"].as_str().unwrap().len(),
        32,
        "nginx's own id"
    );
}

#[tokio::test]
async fn the_gateway_refuses_oversized_bodies_in_the_envelope() {
    let big = format!("{{\"email\":\"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let resp = client()
        .post(format!("{}/api/auth/login", gateway()))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
}

#[tokio::test]
async fn service_errors_pass_through_unchanged() {
    let resp = client()
        .post(format!("{}/api/auth/login", gateway()))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let resp = call(
        Method::POST,
        "/api/auth/login",
        None,
        Some(json!({"email": email(), "password": "whatever it is"})),
    )
    .await;
    envelope(resp, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
}

/// Routes that exist only in the end-to-end gateway (`make test` adds them with
/// GATEWAY_EXTRA_CONF): a dead upstream, a slow one, and a tight rate limit.
#[tokio::test]
async fn upstream_failures_and_rate_limits_answer_in_the_envelope() {
    let resp = call(Method::GET, "/__e2e/dead/", None, None).await;
    envelope(resp, StatusCode::BAD_GATEWAY, "BAD_GATEWAY").await;
    let resp = call(Method::GET, "/__e2e/slow/health/live", None, None).await;
    envelope(resp, StatusCode::GATEWAY_TIMEOUT, "GATEWAY_TIMEOUT").await;
    let mut limited = None;
    for _ in 0..20 {
        let resp = call(Method::GET, "/__e2e/limited/health/live", None, None).await;
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(resp);
            break;
        }
    }
    let resp = limited.expect("the tight limit refused a burst");
    assert_eq!(resp.headers()["retry-after"], "1");
    envelope(resp, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
}

/// The rest of the account routes, and the admin routes with the bootstrap admin
/// that `make test` configures (`AUTH_BOOTSTRAP_ADMIN_EMAILS`).
#[tokio::test]
async fn account_management_and_admin_routes_work_through_the_gateway() {
    let (address, body) = signup("Mgmt").await;
    let access = body["accessToken"].as_str().unwrap().to_owned();
    let user_id = body["user"]["id"].as_str().unwrap().to_owned();

    let resp = call(
        Method::PATCH,
        "/api/auth/me",
        Some(&access),
        Some(json!({"name": "Renamed"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["name"], "Renamed");

    // A second session, then revoke it by id from the first.
    let resp = call(
        Method::POST,
        "/api/auth/login",
        None,
        Some(json!({"email": address, "password": PASSWORD})),
    )
    .await;
    let second: Value = resp.json().await.unwrap();
    let second_access = second["accessToken"].as_str().unwrap().to_owned();
    let sessions: Value = call(Method::GET, "/api/auth/sessions", Some(&access), None)
        .await
        .json()
        .await
        .unwrap();
    let other = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = call(
        Method::DELETE,
        &format!("/api/auth/sessions/{other}"),
        Some(&access),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    envelope(
        call(Method::GET, "/api/auth/me", Some(&second_access), None).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;

    let new_password = "another strong passphrase for e2e";
    let resp = call(
        Method::POST,
        "/api/auth/password",
        Some(&access),
        Some(json!({"currentPassword": PASSWORD, "newPassword": new_password})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    // Admin: the bootstrap admin account lists and disables this user.
    let admin_email =
        std::env::var("E2E_ADMIN_EMAIL").expect("E2E_ADMIN_EMAIL (make test sets it)");
    let resp = call(
        Method::POST,
        "/api/auth/signup",
        None,
        Some(json!({"name": "Admin", "email": admin_email, "password": PASSWORD})),
    )
    .await;
    assert!(resp.status() == StatusCode::CREATED || resp.status() == StatusCode::CONFLICT);
    let resp = call(
        Method::POST,
        "/api/auth/login",
        None,
        Some(json!({"email": admin_email, "password": PASSWORD})),
    )
    .await;
    let admin: Value = resp.json().await.unwrap();
    assert_eq!(admin["user"]["role"], "admin");
    let admin_access = admin["accessToken"].as_str().unwrap().to_owned();
    let resp = call(
        Method::GET,
        &format!("/api/auth/admin/users?q={address}"),
        Some(&admin_access),
        None,
    )
    .await;
    let page: Value = resp.json().await.unwrap();
    assert_eq!(page["meta"]["total"], 1);
    let resp = call(
        Method::PATCH,
        &format!("/api/auth/admin/users/{user_id}"),
        Some(&admin_access),
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    envelope(
        call(Method::GET, "/api/auth/me", Some(&access), None).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    let resp = call(
        Method::POST,
        "/api/auth/login",
        None,
        Some(json!({"email": address, "password": new_password})),
    )
    .await;
    envelope(resp, StatusCode::FORBIDDEN, "ACCOUNT_DISABLED").await;
    envelope(
        call(
            Method::GET,
            "/api/auth/admin/users",
            Some(&second_access),
            None,
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;

    // logout-all ends the admin's sessions.
    let resp = call(
        Method::POST,
        "/api/auth/logout-all",
        Some(&admin_access),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    envelope(
        call(
            Method::GET,
            "/api/auth/admin/users",
            Some(&admin_access),
            None,
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
}
