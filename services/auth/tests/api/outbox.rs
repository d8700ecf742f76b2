//! The outbox of user changes for the directory: one event per change, written in
//! the change's own transaction.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[derive(QueryableByName, Debug)]
struct Event {
    #[diesel(sql_type = Text)]
    event_type: String,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = Text)]
    name: String,
}

async fn events_of(app: &TestApp, user_id: &str) -> Vec<Event> {
    let id = uuid::Uuid::parse_str(user_id).unwrap();
    app.state
        .db
        .run(move |conn| {
            Ok(diesel::sql_query(
                "SELECT event_type, version, payload->>'name' AS name FROM user_events \
                 WHERE user_id = $1 ORDER BY id",
            )
            .bind::<diesel::sql_types::Uuid, _>(id)
            .load::<Event>(conn)?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn each_change_the_directory_cares_about_writes_one_event_in_order() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let user = app.account().await;
    let renamed = app
        .patch_me(Some(&user.access), &json!({"name": "Renamed"}))
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    for body in [
        json!({"disabled": true}),
        json!({"role": "admin"}),
        json!({"disabled": false}),
    ] {
        let resp = app.admin_update(Some(&admin.access), &user.id, &body).await;
        assert_eq!(resp.status(), StatusCode::OK, "{body}");
    }
    let events = events_of(&app, &user.id).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "user.created",
            "user.updated",
            "user.disabled",
            "user.updated"
        ],
        "a role change is not the directory's business"
    );
    assert_eq!(events[0].name, "Ada Lovelace");
    assert_eq!(events[1].name, "Renamed");
    assert!(
        events.windows(2).all(|w| w[0].version < w[1].version),
        "versions increase: {events:?}"
    );
}

#[tokio::test]
async fn a_refused_change_writes_no_event() {
    let app = spawn_app().await;
    let user = app.account().await;
    let taken = app.signup("Someone Else", &user.email, PASSWORD).await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    let invalid = app.patch_me(Some(&user.access), &json!({"name": ""})).await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        events_of(&app, &user.id).await.len(),
        1,
        "only user.created"
    );
}
