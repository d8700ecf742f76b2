use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn admin_routes_are_for_admins_only() {
    let app = spawn_app().await;
    let user = app.account().await;
    let resp = app.admin_users(Some(&user.access), "").await;
    assert_error(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let resp = app
        .admin_update(
            Some(&user.access),
            &user.id.to_string(),
            &json!({"role": "admin"}),
        )
        .await;
    assert_error(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let resp = app.admin_users(None, "").await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    // A forged token claiming the admin role gets nowhere.
    let resp = app.admin_users(Some(&forged_token(&user.id)), "").await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn admins_list_and_search_users_with_pages() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for i in 0..3 {
        app.account_with_email(&format!(
            "findme-{i}-{}@example.com",
            uuid::Uuid::now_v7().simple()
        ))
        .await;
    }
    let resp = app
        .admin_users(Some(&admin.access), "?page=1&limit=2")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["meta"],
        json!({"page": 1, "limit": 2, "total": 4, "totalPages": 2})
    );
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    assert!(body["items"][0].get("disabled").is_some());
    let body: Value = app
        .admin_users(Some(&admin.access), "?q=FINDME")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["meta"]["total"], 3);
    let body: Value = app
        .admin_users(Some(&admin.access), "?q=%25")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["meta"]["total"], 0, "wildcards in q are literal");
    for bad in [
        "limit=0",
        "limit=101",
        "page=0",
        &format!("q={}", "x".repeat(101)),
    ] {
        let resp = app
            .admin_users(Some(&admin.access), &format!("?{bad}"))
            .await;
        assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    }
    let resp = app.admin_users(Some(&admin.access), "?page=abc").await;
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
}

#[tokio::test]
async fn admins_change_roles_and_disable_accounts() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let user = app.account().await;
    let id = &user.id;
    let resp = app
        .admin_update(Some(&admin.access), id, &json!({"role": "admin"}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["role"], "admin");
    let resp = app
        .admin_update(Some(&admin.access), id, &json!({"disabled": true}))
        .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["disabled"], true);
    // Disabling revoked the user's sessions at once.
    let err = assert_error(
        app.me(&user.access).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    assert_eq!(err["error"]["details"]["reason"], "session_revoked");
    assert_eq!(
        app.refresh(&user.refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_error(
        app.login(&user.email, PASSWORD).await,
        StatusCode::FORBIDDEN,
        "ACCOUNT_DISABLED",
    )
    .await;
    let resp = app
        .admin_update(Some(&admin.access), id, &json!({"disabled": false}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn admin_update_errors() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let resp = app
        .admin_update(
            Some(&admin.access),
            &uuid::Uuid::now_v7().to_string(),
            &json!({"role": "user"}),
        )
        .await;
    assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let user = app.account().await;
    let id = &user.id;
    let resp = app
        .admin_update(Some(&admin.access), id, &json!({"role": "root"}))
        .await;
    let err = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    assert_eq!(error_fields(&err), vec!["role"]);
    let resp = app
        .admin_update(Some(&admin.access), id, &json!({"disabled": "yes"}))
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let own = &admin.id;
    let resp = app
        .admin_update(Some(&admin.access), own, &json!({"disabled": true}))
        .await;
    assert_error(resp, StatusCode::CONFLICT, "CANNOT_CHANGE_SELF").await;
}

/// Whoever signs up first with a bootstrap admin's address must not become admin:
/// the role comes with the verified address, at verification or at start-up.
#[tokio::test]
async fn bootstrap_admin_emails_get_the_role_only_once_verified() {
    let early = unique_email();
    let later = unique_email();
    let admins = format!("{early},{}", later.to_uppercase());
    let app = spawn_app_with(&[("AUTH_BOOTSTRAP_ADMIN_EMAILS", &admins)]).await;
    let resp = app.signup("Squatter", &early, PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["user"]["role"], "user",
        "an unverified address is nobody's"
    );
    let squatter = Account {
        id: body["user"]["id"].as_str().unwrap().to_owned(),
        email: early.clone(),
        password: PASSWORD.to_owned(),
        access: body["accessToken"].as_str().unwrap().to_owned(),
        refresh: body["refreshToken"].as_str().unwrap().to_owned(),
    };
    let resp = app.admin_users(Some(&squatter.access), "").await;
    assert_error(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    // Nor does a restart promote an unverified account.
    let restarted = spawn_app_on(&app.db_url, &[("AUTH_BOOTSTRAP_ADMIN_EMAILS", &admins)]).await;
    let (access, _) = restarted.second_session(&squatter).await;
    let me: Value = restarted.me(&access).await.json().await.unwrap();
    assert_eq!(me["role"], "user");

    // Verifying the address makes its owner admin; the next session says so.
    let verified = app.verify_address(&squatter).await;
    assert_eq!(verified["role"], "admin");
    let (access, _) = app.second_session(&squatter).await;
    let resp = app.admin_users(Some(&access), "").await;
    assert_eq!(resp.status(), StatusCode::OK);

    // An account verified before its address was listed is promoted at the next start.
    let plain = spawn_app_on(&app.db_url, &[]).await;
    let account = plain.account_with_email(&later).await;
    let verified = plain.verify_address(&account).await;
    assert_eq!(verified["role"], "user");
    let restarted = spawn_app_on(&app.db_url, &[("AUTH_BOOTSTRAP_ADMIN_EMAILS", &admins)]).await;
    let resp = restarted.login(&later, PASSWORD).await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["user"]["role"], "admin");
}

/// A demoted admin's token, still unexpired, cannot promote itself back: the role
/// change ended every session of the account.
#[tokio::test]
async fn a_role_change_revokes_the_sessions_of_the_account() {
    let app = spawn_app().await;
    let boss = app.admin().await;
    let deputy = app.admin().await;
    let resp = app
        .admin_update(Some(&boss.access), &deputy.id, &json!({"role": "user"}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .admin_update(Some(&deputy.access), &deputy.id, &json!({"role": "admin"}))
        .await;
    let err = assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    assert_eq!(err["error"]["details"]["reason"], "session_revoked");
    let me: Value = app
        .me(&app.second_session(&deputy).await.0)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "user", "still demoted");
    // Promotion ends the sessions too: the next token carries the new role.
    let plain = app.account().await;
    let resp = app
        .admin_update(Some(&boss.access), &plain.id, &json!({"role": "admin"}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_error(
        app.me(&plain.access).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    // Setting the role it already has changes nothing and ends nothing.
    let resp = app
        .admin_update(Some(&boss.access), &boss.id, &json!({"role": "admin"}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(app.me(&boss.access).await.status(), StatusCode::OK);
}
