use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::mail;

use crate::helpers::*;

async fn request_code(app: &TestApp, account: &Account) -> String {
    let resp = app.request_verification(Some(&account.access)).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let mails = mail::mails_to(&app.mail_dir, &account.email);
    let last = mails.last().expect("a mail was written to the mail folder");
    mail::code_after(last, "verification code is", 6).expect("a 6-digit code in the mail")
}

#[tokio::test]
async fn the_mailed_code_verifies_the_email() {
    let app = spawn_app().await;
    let account = app.account().await;
    let code = request_code(&app, &account).await;
    let resp = app
        .verify_email(Some(&account.access), &json!({"code": code}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["emailVerified"], true);
    let me: Value = app.me(&account.access).await.json().await.unwrap();
    assert_eq!(me["emailVerified"], true);
    // The code is single-use, and a verified email needs no new code.
    let resp = app
        .verify_email(Some(&account.access), &json!({"code": code}))
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "CODE_EXPIRED").await;
    let resp = app.request_verification(Some(&account.access)).await;
    assert_error(resp, StatusCode::CONFLICT, "EMAIL_ALREADY_VERIFIED").await;
}

#[tokio::test]
async fn codes_are_stored_hashed() {
    let app = spawn_app().await;
    let account = app.account().await;
    let code = request_code(&app, &account).await;
    let stored: Vec<Vec<u8>> = app
        .state
        .db
        .run(|conn| {
            use auth::db::schema::email_verifications::dsl::*;
            use diesel::prelude::*;
            Ok(email_verifications.select(code_hash).load(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].len(), 32);
    assert!(!stored[0].windows(6).any(|w| w == code.as_bytes()));
}

#[tokio::test]
async fn wrong_codes_count_down_to_lockout() {
    let app = spawn_app().await;
    let account = app.account().await;
    let code = request_code(&app, &account).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for remaining in (1..=4).rev() {
        let resp = app
            .verify_email(Some(&account.access), &json!({"code": wrong}))
            .await;
        let err = assert_error(resp, StatusCode::BAD_REQUEST, "INVALID_CODE").await;
        assert_eq!(err["error"]["details"]["attemptsRemaining"], remaining);
    }
    let resp = app
        .verify_email(Some(&account.access), &json!({"code": wrong}))
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "TOO_MANY_ATTEMPTS").await;
    // The right code no longer helps: a new one must be requested.
    let resp = app
        .verify_email(Some(&account.access), &json!({"code": code}))
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "CODE_EXPIRED").await;
    let fresh = request_code(&app, &account).await;
    let resp = app
        .verify_email(Some(&account.access), &json!({"code": fresh}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = spawn_app().await;
    let account = app.account().await;
    let code = request_code(&app, &account).await;
    app.state
        .db
        .run(|conn| {
            use diesel::prelude::*;
            diesel::sql_query(
                "UPDATE email_verifications SET expires_at = now() - interval '1 second'",
            )
            .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let resp = app
        .verify_email(Some(&account.access), &json!({"code": code}))
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "CODE_EXPIRED").await;
}

#[tokio::test]
async fn verification_input_errors() {
    let app = spawn_app().await;
    let account = app.account().await;
    for bad in [
        json!({}),
        json!({"code": "12345"}),
        json!({"code": "abcdef"}),
        json!({"code": "1234567"}),
    ] {
        let resp = app.verify_email(Some(&account.access), &bad).await;
        let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&err), vec!["code"]);
    }
    let resp = app
        .verify_email(Some(&account.access), &json!({"code": 123456}))
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let resp = app.verify_email(None, &json!({"code": "123456"})).await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let resp = app.request_verification(None).await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn code_requests_are_rate_limited() {
    let app = spawn_app_with(&[("AUTH_RL_OTP_PER_ACCOUNT_PER_HOUR", "2")]).await;
    let account = app.account().await;
    request_code(&app, &account).await;
    request_code(&app, &account).await;
    let resp = app.request_verification(Some(&account.access)).await;
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
}

async fn reset_token(app: &TestApp, email: &str, nth: usize) -> String {
    let mails = mail::wait_for_mails(&app.mail_dir, email, nth).await;
    let mail = mails.get(nth - 1).expect("reset mail written");
    mail::line_after(mail, "reset your Reelstack password").expect("token in the mail")
}

#[tokio::test]
async fn a_password_reset_replaces_the_password_and_ends_every_session() {
    let app = spawn_app().await;
    let account = app.account().await;
    let resp = app
        .request_reset(&json!({"email": account.email.to_uppercase()}))
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let token = reset_token(&app, &account.email, 1).await;
    let new_password = "an entirely new passphrase";
    let resp = app
        .reset_password(&json!({"token": token, "newPassword": new_password}))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.me(&account.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh(&account.refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&account.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&account.email, new_password).await.status(),
        StatusCode::OK
    );
    // Single use.
    let resp = app
        .reset_password(&json!({"token": token, "newPassword": "yet another passphrase here"}))
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "INVALID_RESET_TOKEN").await;
}

#[tokio::test]
async fn reset_requests_do_not_reveal_accounts() {
    let app = spawn_app().await;
    let unknown = unique_email();
    let resp = app.request_reset(&json!({"email": unknown})).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"status": "accepted"}));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(mail::mails_to(&app.mail_dir, &unknown).is_empty());
}

#[tokio::test]
async fn reset_tokens_expire_and_bad_input_is_refused() {
    let app = spawn_app().await;
    let account = app.account().await;
    app.request_reset(&json!({"email": account.email})).await;
    let token = reset_token(&app, &account.email, 1).await;
    let resp = app
        .reset_password(&json!({"token": token, "newPassword": "weak"}))
        .await;
    let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&err), vec!["newPassword"]);
    app.state
        .db
        .run(|conn| {
            use diesel::prelude::*;
            diesel::sql_query(
                "UPDATE password_resets SET expires_at = now() - interval '1 second'",
            )
            .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let resp = app
        .reset_password(&json!({"token": token, "newPassword": "an entirely new passphrase"}))
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "INVALID_RESET_TOKEN").await;
    let resp = app
        .reset_password(&json!({"token": "forged", "newPassword": "an entirely new passphrase"}))
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "INVALID_RESET_TOKEN").await;
    let resp = app.request_reset(&json!({"email": "nope"})).await;
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    let resp = app.reset_password(&json!({})).await;
    let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&err), vec!["newPassword", "token"]);
}

#[tokio::test]
async fn reset_requests_are_rate_limited() {
    let app = spawn_app_with(&[
        ("AUTH_RL_RESET_PER_ACCOUNT_PER_HOUR", "1"),
        ("AUTH_RL_RESET_PER_IP_PER_HOUR", "3"),
    ])
    .await;
    let account = app.account().await;
    for _ in 0..2 {
        let resp = app.request_reset(&json!({"email": account.email})).await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        mail::mails_to(&app.mail_dir, &account.email).len(),
        1,
        "one mail per account per hour"
    );
    app.request_reset(&json!({"email": unique_email()})).await;
    let resp = app.request_reset(&json!({"email": unique_email()})).await;
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
}

/// A made-up token costs one lookup: it is refused before the new password is
/// judged (no strength estimate, no Argon2 hash), whatever password comes with it.
#[tokio::test]
async fn reset_tokens_are_checked_before_the_new_password() {
    let app = spawn_app().await;
    for password in ["weak", "an entirely new passphrase"] {
        let resp = app
            .reset_password(&json!({"token": "made-up-token", "newPassword": password}))
            .await;
        assert_error(resp, StatusCode::BAD_REQUEST, "INVALID_RESET_TOKEN").await;
    }
}

/// A flood of reset submissions with made-up tokens is cut off per address with
/// 429, and never crowds out other users' logins (no 503).
#[tokio::test]
async fn a_flood_of_bad_reset_tokens_gets_429_and_logins_go_on() {
    let app = spawn_app_with(&[("AUTH_RL_RESET_SUBMIT_PER_IP_PER_MIN", "10")]).await;
    let account = app.account().await;
    let flood = (0..60).map(|n| {
        let app = &app;
        async move {
            app.reset_password(&json!({
                "token": format!("made-up-{n}"),
                "newPassword": "an entirely new passphrase",
            }))
            .await
            .status()
        }
    });
    let other_user = async {
        let other = testkit::Client::new(&app.address);
        let mut statuses = Vec::new();
        for _ in 0..5 {
            let resp = other
                .post(
                    "/api/auth/login",
                    None,
                    &json!({"email": account.email, "password": account.password}),
                )
                .await;
            statuses.push(resp.status());
        }
        statuses
    };
    let (flooded, logins) = tokio::join!(futures_util::future::join_all(flood), other_user);
    assert!(logins.iter().all(|s| *s == StatusCode::OK), "{logins:?}");
    assert!(
        flooded.iter().all(|s| matches!(s.as_u16(), 400 | 429)),
        "{flooded:?}"
    );
    assert_eq!(
        flooded.iter().filter(|s| s.as_u16() == 429).count(),
        50,
        "ten per minute from one address"
    );
    let resp = app
        .reset_password(&json!({"token": "one-more", "newPassword": "an entirely new passphrase"}))
        .await;
    let err = assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
    assert!(err["error"]["details"]["retryAfter"].as_u64().unwrap() >= 1);
}

/// Email-code guesses are limited per address too, on top of the five tries a
/// code allows.
#[tokio::test]
async fn code_submissions_are_rate_limited_per_address() {
    let app = spawn_app_with(&[("AUTH_RL_VERIFY_PER_IP_PER_MIN", "3")]).await;
    let account = app.account().await;
    request_code(&app, &account).await;
    for _ in 0..3 {
        let resp = app
            .verify_email(Some(&account.access), &json!({"code": "000000"}))
            .await;
        assert_ne!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let resp = app
        .verify_email(Some(&account.access), &json!({"code": "000000"}))
        .await;
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED").await;
}
