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
    let resp = http()
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
    let resp = http()
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
    let resp = http()
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

    // Admin: the bootstrap admin account (admin once its address is verified)
    // lists and disables this user.
    let admin = bootstrap_admin().await;
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

/// `/internal` is never reachable through the gateway, however it is spelled:
/// encoded slashes, backslashes and dot segments are refused before routing, and
/// the services serve `/internal` on a listener the gateway never proxies.
#[tokio::test]
async fn internal_routes_cannot_be_reached_by_any_spelling() {
    // Sent as raw bytes: an HTTP client library would normalize these paths.
    for (method, path, status, code) in [
        (
            "PUT",
            "/internal/users/..%2F..%2Fapi%2Fuser%2Fx",
            400,
            "BAD_REQUEST",
        ),
        (
            "POST",
            "/api/user/..%2F..%2Finternal%2Fusers%2Fbatch",
            400,
            "BAD_REQUEST",
        ),
        (
            "POST",
            "/api/user/%2e%2e/%2e%2e/internal/users/batch",
            400,
            "BAD_REQUEST",
        ),
        (
            "POST",
            "/api/user%5c..%5c..%5cinternal/users/batch",
            400,
            "BAD_REQUEST",
        ),
        (
            "POST",
            "/api/user/../../internal/users/batch",
            404,
            "NOT_FOUND",
        ),
        (
            "POST",
            "/api/user/./../internal/users/batch",
            404,
            "NOT_FOUND",
        ),
        ("POST", "//internal/users/batch", 404, "NOT_FOUND"),
        ("POST", "/INTERNAL/users/batch", 404, "NOT_FOUND"),
        ("POST", "/internal/token", 404, "NOT_FOUND"),
    ] {
        let body = r#"{"ids":["x"],"version":1}"#;
        let (got, json) = raw_http(&format!(
            "{method} {path} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ))
        .await;
        assert_eq!(got, status, "{method} {path}");
        assert_eq!(json["error"]["code"], code, "{method} {path}");
    }
    // A query may still hold encoded slashes (a search for "a/b").
    let resp = call(Method::GET, "/api/search?q=a%2Fb", None, None).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

/// What nginx refuses itself comes in the envelope too: a request line it cannot
/// read, a URI or headers too large.
#[tokio::test]
async fn the_gateway_answers_its_own_refusals_in_the_envelope() {
    for request in [
        "GARBAGE\r\n\r\n",
        "GET /api/auth/me HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    ] {
        let (status, json) = raw_http(request).await;
        assert_eq!(status, 400, "{request:?}");
        assert_eq!(json["error"]["code"], "BAD_REQUEST");
    }
    let long = format!("/api/auth/{}", "a".repeat(20_000));
    let resp = call(Method::GET, &long, None, None).await;
    envelope(resp, StatusCode::URI_TOO_LONG, "URI_TOO_LONG").await;
    let resp = http()
        .get(format!("{}/api/auth/me", gateway()))
        .header("x-big", "b".repeat(40_000))
        .send()
        .await
        .unwrap();
    envelope(
        resp,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "HEADERS_TOO_LARGE",
    )
    .await;
}

/// A service's own 502 is an answer: the gateway neither retries it on another
/// replica nor counts it against the replica, which stays in rotation. The
/// e2e gateway's `e2e_pair` lists one upstream twice (max_fails=2); that
/// upstream answers every request with its own 502 and counts them.
#[tokio::test]
async fn a_service_s_own_502_is_not_retried_or_counted_against_the_replica() {
    let count = || async {
        let resp = http()
            .get(format!("{}/__e2e/pair/count", gateway()))
            .send()
            .await
            .unwrap();
        resp.text().await.unwrap().trim().parse::<u64>().unwrap()
    };
    let before = count().await;
    for n in 0..8 {
        let resp = call(Method::GET, &format!("/__e2e/pair/thing/{n}"), None, None).await;
        let body = envelope(resp, StatusCode::BAD_GATEWAY, "BAD_GATEWAY").await;
        assert_eq!(
            body["error"]["message"], "the upstream's own 502",
            "answer {n} came from the upstream, not the gateway"
        );
    }
    let after = count().await;
    assert_eq!(
        after - before,
        9,
        "each request once (8 and the count), none retried"
    );
}

/// Behind a load balancer, the gateway takes the client address from the
/// configured header of the configured peers (`GATEWAY_REAL_IP_FROM`), so the
/// services' per-address limits and session records name the real client.
#[tokio::test]
async fn the_client_address_comes_from_the_trusted_load_balancer() {
    let (address, _) = signup("Behind LB").await;
    let resp = http()
        .post(format!("{}/api/auth/login", gateway()))
        .header("x-forwarded-for", "203.0.113.77")
        .json(&json!({"email": address, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let sessions: Value = call(
        Method::GET,
        "/api/auth/sessions",
        Some(body["accessToken"].as_str().unwrap()),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let current = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap();
    assert_eq!(current["ip"], "203.0.113.77");
}

/// Tokens never reach the access log: an `access_token` query value (which the
/// live route does not take any more) is written redacted.
#[tokio::test]
async fn the_access_log_never_holds_an_access_token() {
    let secret = format!("e2e-secret-{}", uuid::Uuid::now_v7().simple());
    let resp = call(
        Method::GET,
        &format!(
            "/api/meetings/{}/live?access_token={secret}&x=1",
            uuid::Uuid::now_v7()
        ),
        None,
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let log = testkit::workspace_root().join(".run/nginx/logs/access.log");
    let mut text = String::new();
    for _ in 0..20 {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("access_token=") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        text.contains("access_token=[REDACTED]"),
        "the request is logged"
    );
    assert!(!text.contains(&secret), "the token is not");
}
