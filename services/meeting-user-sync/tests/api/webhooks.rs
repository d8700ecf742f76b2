//! Clerk's webhooks: the Svix matrix and how each event type changes the directory.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::clerk_sim::{svix_signature, UserChanges};

use crate::helpers::*;

async fn applied(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["applied"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn user_events_create_update_and_delete_profiles() {
    let app = spawn_app().await;
    let (user, token) = app.clerk_user("Barbara", "Liskov");
    assert_eq!(
        applied(
            app.deliver(&app.clerk().webhook("user.created", &user.id))
                .await
        )
        .await,
        "created"
    );
    let service = app.auth().service_token().await;
    let lookup = |service: String, id: String| {
        let app = &app;
        async move {
            let body: Value = app
                .internal()
                .send_json(
                    reqwest::Method::POST,
                    "/internal/users/batch",
                    Some(&service),
                    &json!({"ids": [id]}),
                )
                .await
                .json()
                .await
                .unwrap();
            body["items"].as_array().unwrap().first().cloned()
        }
    };
    assert_eq!(
        lookup(service.clone(), user.id.clone()).await.unwrap()["name"],
        "Barbara Liskov"
    );

    app.clerk().update_user(
        &user.id,
        &UserChanges {
            last_name: Some("Liskov-Huberman".into()),
            ..UserChanges::default()
        },
    );
    let update = app.clerk().webhook("user.updated", &user.id);
    assert_eq!(applied(app.deliver(&update).await).await, "updated");
    assert_eq!(
        lookup(service.clone(), user.id.clone()).await.unwrap()["name"],
        "Barbara Liskov-Huberman"
    );

    // An event about an older state of the user changes nothing.
    let mut older: Value = serde_json::from_str(&update.body).unwrap();
    older["data"]["updated_at"] = json!(user.updated_at - 1000);
    older["data"]["last_name"] = json!("Stale");
    let older = app.clerk().sign(
        "msg_older",
        chrono::Utc::now().timestamp(),
        older.to_string(),
    );
    assert_eq!(applied(app.deliver(&older).await).await, "stale");
    assert_eq!(
        lookup(service.clone(), user.id.clone()).await.unwrap()["name"],
        "Barbara Liskov-Huberman"
    );

    app.clerk().delete_user(&user.id);
    assert_eq!(
        applied(
            app.deliver(&app.clerk().webhook("user.deleted", &user.id))
                .await
        )
        .await,
        "updated"
    );
    assert!(
        lookup(service, user.id.clone()).await.is_none(),
        "gone from the directory"
    );
    assert_error(
        app.get_as("/api/user/profile", &token).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    // A late `user.updated` from before the deletion cannot bring it back.
    let late = app.clerk().sign(
        "msg_late",
        chrono::Utc::now().timestamp(),
        update.body.clone(),
    );
    assert_eq!(applied(app.deliver(&late).await).await, "stale");
}

#[tokio::test]
async fn a_replayed_delivery_is_a_200_no_op() {
    let app = spawn_app().await;
    let (user, _) = app.clerk_user("Frances", "Allen");
    let hook = app.clerk().webhook("user.created", &user.id);
    assert_eq!(applied(app.deliver(&hook).await).await, "created");
    assert_eq!(applied(app.deliver(&hook).await).await, "replayed");
}

#[tokio::test]
async fn unknown_event_types_are_accepted_and_ignored() {
    let app = spawn_app().await;
    let (user, _) = app.clerk_user("Anita", "Borg");
    let hook = app.clerk().webhook("session.created", &user.id);
    assert_eq!(applied(app.deliver(&hook).await).await, "ignored");
}

#[tokio::test]
async fn bad_stale_and_missing_signatures_are_401() {
    let app = spawn_app().await;
    let (user, _) = app.clerk_user("Radia", "Perlman");
    let good = app.clerk().webhook("user.created", &user.id);

    let mut tampered = good.clone();
    tampered.body = tampered.body.replace("Radia", "Mallory");
    let mut wrong_key = good.clone();
    wrong_key.signature = format!(
        "v1,{}",
        svix_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            &good.id,
            good.timestamp,
            &good.body
        )
    );
    let now = chrono::Utc::now().timestamp();
    let stale = app.clerk().sign("msg_stale", now - 360, good.body.clone());
    let future = app.clerk().sign("msg_future", now + 360, good.body.clone());
    let mut v2_only = good.clone();
    v2_only.signature = good.signature.replacen("v1,", "v2,", 1);
    for hook in [&tampered, &wrong_key, &stale, &future, &v2_only] {
        assert_error(
            app.deliver(hook).await,
            StatusCode::UNAUTHORIZED,
            "INVALID_SIGNATURE",
        )
        .await;
    }
    let unsigned = app
        .request(reqwest::Method::POST, "/api/webhooks/clerk", None)
        .header("content-type", "application/json")
        .body(good.body.clone())
        .send()
        .await
        .unwrap();
    assert_error(unsigned, StatusCode::UNAUTHORIZED, "INVALID_SIGNATURE").await;

    // Within the tolerance, and one good signature among several, it is accepted.
    let recent = app.clerk().sign("msg_recent", now - 240, good.body.clone());
    let mut several = recent.clone();
    several.signature = format!("v1,AAAA {} v1,BBBB", recent.signature);
    assert_eq!(applied(app.deliver(&several).await).await, "created");
}

#[tokio::test]
async fn without_a_webhook_secret_every_delivery_is_refused() {
    let app = spawn_app_with(&[("CLERK_WEBHOOK_SECRET", "")]).await;
    let (user, _) = app.clerk_user("Adele", "Goldberg");
    assert_error(
        app.deliver(&app.clerk().webhook("user.created", &user.id))
            .await,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    )
    .await;
}

#[tokio::test]
async fn a_signed_body_that_is_not_an_event_is_400() {
    let app = spawn_app().await;
    let now = chrono::Utc::now().timestamp();
    for body in ["not json", r#"{"type": "user.created", "data": {}}"#] {
        let hook = app
            .clerk()
            .sign(&format!("msg_{now}_{}", body.len()), now, body.to_owned());
        assert_error(
            app.deliver(&hook).await,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        )
        .await;
    }
}
